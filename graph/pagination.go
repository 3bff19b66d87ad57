package graph

import (
	"context"
	"slices"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"

	"fleetgate/internal/fault"
)

// Page sizes of every connection (README "Limits"): entgql itself returns every
// row when neither first nor last is given, and sets no maximum.
const (
	DefaultPageSize = 50
	MaxPageSize     = 100
)

// pageLimits is the @pageLimits directive of every connection: it applies
// the page sizes before the field's resolver reads first and last. Out of
// range is BAD_USER_INPUT, neither given means first: DefaultPageSize. A
// directive, not a middleware, so the fields that are no connection pay
// nothing for it (README "Performance").
func pageLimits(ctx context.Context, _ any, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	first, _ := fc.Args["first"].(*int)
	last, _ := fc.Args["last"].(*int)
	for name, n := range map[string]*int{"first": first, "last": last} {
		if n != nil && (*n < 0 || *n > MaxPageSize) {
			return nil, fault.Input(name, "%s must be between 0 and %d", name, MaxPageSize)
		}
	}
	if first == nil && last == nil {
		// Written in the query already (pagedQueries) unless both came
		// as variables holding null.
		n := DefaultPageSize
		fc.Args["first"] = &n
	}
	return next(ctx)
}

// pagedQueries is the parsed-query cache, which writes the default page
// into every connection of a query that gives neither first nor last (nor
// gives them as null), once, when the query is first parsed and validated.
// The directive alone would come too late: a connection's parent loads its
// rows eagerly, reading the arguments from the query, and without a first
// it would load every row, whatever the cost limit counted (README
// "Limits").
type pagedQueries struct {
	graphql.Cache[*ast.QueryDocument]
}

func (c pagedQueries) Add(ctx context.Context, query string, doc *ast.QueryDocument) {
	for _, op := range doc.Operations {
		defaultPages(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		defaultPages(f.SelectionSet)
	}
	c.Cache.Add(ctx, query, doc)
}

func defaultPages(set ast.SelectionSet) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			if sel.Definition != nil && sel.Definition.Directives.ForName("pageLimits") != nil &&
				unset(sel.Arguments.ForName("first")) && unset(sel.Arguments.ForName("last")) {
				sel.Arguments = append(slices.DeleteFunc(slices.Clone(sel.Arguments), func(a *ast.Argument) bool {
					return a.Name == "first" || a.Name == "last"
				}), &ast.Argument{Name: "first", Value: &ast.Value{Kind: ast.IntValue, Raw: strconv.Itoa(DefaultPageSize), Position: sel.Position}, Position: sel.Position})
			}
			defaultPages(sel.SelectionSet)
		case *ast.InlineFragment:
			defaultPages(sel.SelectionSet)
		}
	}
}

// unset reports whether an argument is absent or written as null.
func unset(a *ast.Argument) bool { return a == nil || a.Value.Kind == ast.NullValue }

package graph

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

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
	for _, a := range [...]struct {
		name string
		n    *int
	}{{"first", first}, {"last", last}} {
		if a.n != nil && (*a.n < 0 || *a.n > MaxPageSize) {
			return nil, fault.Input(a.name, "%s must be between 0 and %d", a.name, MaxPageSize)
		}
	}
	if first == nil && last == nil {
		// Written in the query (pagedQueries) or the variables
		// (nullPages) already; this guards whatever they might miss.
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

// nullPages gives the default page to connections whose first and last
// both come as variables holding null, by writing DefaultPageSize into the
// variable, once the request's variables are known: pagedQueries cannot (the
// parsed query is shared by every request), and the eager loads read the
// variables, not the directive. A variable that is also used where writing
// it would change another argument's meaning is refused instead.
type nullPages struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = nullPages{}

func (nullPages) ExtensionName() string                   { return "NullPages" }
func (nullPages) Validate(graphql.ExecutableSchema) error { return nil }

func (nullPages) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	u := pageVariables{vars: oc.Variables, page: map[string]bool{}, other: map[string]bool{}}
	u.walk(oc.Operation.SelectionSet, map[string]bool{})
	for name := range u.page {
		if u.other[name] {
			return &gqlerror.Error{
				Message:    fmt.Sprintf("variable $%s is null where it gives a connection's first or last, and is used elsewhere too: give it a number", name),
				Extensions: map[string]any{"code": fault.BadUserInput, "variable": name},
			}
		}
	}
	for name := range u.page {
		oc.Variables[name] = DefaultPageSize
	}
	return nil
}

// pageVariables sorts the variables of an operation: page holds those
// holding null that will give a connection its default page (its first,
// or its last when first is no variable, the other one unset too), other
// every variable used in any other place.
type pageVariables struct {
	vars        map[string]any
	page, other map[string]bool
}

func (u pageVariables) walk(set ast.SelectionSet, visited map[string]bool) {
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			u.field(sel)
			u.directives(sel.Directives)
			u.walk(sel.SelectionSet, visited)
		case *ast.InlineFragment:
			u.directives(sel.Directives)
			u.walk(sel.SelectionSet, visited)
		case *ast.FragmentSpread:
			u.directives(sel.Directives)
			if sel.Definition != nil && !visited[sel.Name] {
				visited[sel.Name] = true
				u.walk(sel.Definition.SelectionSet, visited)
			}
		}
	}
}

func (u pageVariables) field(f *ast.Field) {
	first, last := f.Arguments.ForName("first"), f.Arguments.ForName("last")
	var page *ast.Argument // the one argument to write the default page into
	if f.Definition != nil && f.Definition.Directives.ForName("pageLimits") != nil && u.null(first) && u.null(last) {
		for _, a := range []*ast.Argument{first, last} {
			if a != nil && a.Value.Kind == ast.Variable {
				page = a
				break
			}
		}
	}
	for _, a := range f.Arguments {
		if a == page {
			u.page[a.Value.Raw] = true
		} else {
			u.uses(a.Value) // a last beside a written first must stay null
		}
	}
}

func (u pageVariables) directives(list ast.DirectiveList) {
	for _, d := range list {
		for _, a := range d.Arguments {
			u.uses(a.Value)
		}
	}
}

// uses marks every variable in v as used elsewhere.
func (u pageVariables) uses(v *ast.Value) {
	if v == nil {
		return
	}
	if v.Kind == ast.Variable {
		u.other[v.Raw] = true
	}
	for _, c := range v.Children {
		u.uses(c.Value)
	}
}

// null reports whether an argument is absent, written as null, or a
// variable holding null.
func (u pageVariables) null(a *ast.Argument) bool {
	if unset(a) {
		return true
	}
	return a.Value.Kind == ast.Variable && u.vars[a.Value.Raw] == nil
}

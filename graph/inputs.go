package graph

import (
	"context"
	"maps"
	"slices"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"fleetgate/internal/text"
)

// storableInputs refuses an operation, before any resolver runs, if a
// string in its arguments is not storable text (internal/text): literal or
// variable, inside input objects and lists, where-filters included.
// PostgreSQL text holds neither NUL nor invalid UTF-8, so such a value
// would otherwise fail as INTERNAL there and be stored on SQLite. The error
// is BAD_USER_INPUT on the argument or input field holding the value.
type storableInputs struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = storableInputs{}

func (storableInputs) ExtensionName() string                   { return "StorableInputs" }
func (storableInputs) Validate(graphql.ExecutableSchema) error { return nil }

func (storableInputs) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	// Each fragment once: its arguments are the same wherever it is spread.
	walked := map[string]bool{}
	var walk func(ast.SelectionSet) *gqlerror.Error
	walk = func(set ast.SelectionSet) *gqlerror.Error {
		for _, sel := range set {
			var err *gqlerror.Error
			switch s := sel.(type) {
			case *ast.Field:
				// Client directives (@include, @skip) take only booleans.
				for _, arg := range s.Arguments {
					if e := storableValue(arg.Name, arg.Value, oc.Variables); e != nil {
						return gqlerror.WrapPos(arg.Position, e)
					}
				}
				err = walk(s.SelectionSet)
			case *ast.InlineFragment:
				err = walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if s.Definition != nil && !walked[s.Name] {
					walked[s.Name] = true
					err = walk(s.Definition.SelectionSet)
				}
			}
			if err != nil {
				return err
			}
		}
		return nil
	}
	return walk(oc.Operation.SelectionSet)
}

// storableValue checks the strings of an argument's value; field names the
// argument or the input field that holds v.
func storableValue(field string, v *ast.Value, vars map[string]any) error {
	switch v.Kind {
	case ast.Variable:
		return storableData(field, vars[v.Raw])
	case ast.StringValue, ast.BlockValue:
		return text.Input(field, v.Raw)
	case ast.ListValue, ast.ObjectValue:
		for _, c := range v.Children {
			name := field
			if v.Kind == ast.ObjectValue {
				name = c.Name
			}
			if err := storableValue(name, c.Value, vars); err != nil {
				return err
			}
		}
	}
	return nil
}

// storableData checks the strings of a variable's (decoded JSON) value.
func storableData(field string, v any) error {
	switch v := v.(type) {
	case string:
		return text.Input(field, v)
	case []any:
		for _, e := range v {
			if err := storableData(field, e); err != nil {
				return err
			}
		}
	case map[string]any:
		// Sorted, so that of several bad fields the same one is named.
		for _, k := range slices.Sorted(maps.Keys(v)) {
			if err := storableData(k, v[k]); err != nil {
				return err
			}
		}
	}
	return nil
}

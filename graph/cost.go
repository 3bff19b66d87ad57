package graph

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/99designs/gqlgen/complexity"
	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"fleetgate/internal/auth"
)

// What one request may cost (README "Limits"). A field costs 1 plus what
// its selection costs; a list multiplies its selection's cost by how many
// elements it can return.
const (
	MaxComplexity = 20000
	// MaxHashingFields is how many password-hashing fields one request may
	// hold: each costs a little more than a quarter of MaxComplexity.
	MaxHashingFields = 3
	// MaxAliases is how often one field may appear, under different
	// aliases, in one selection.
	MaxAliases = 10
)

const (
	codeComplexityLimit = "COMPLEXITY_LIMIT_EXCEEDED"
	hashingFieldCost    = MaxComplexity/(MaxHashingFields+1) + 1
)

// hashingFields hash a password (or check a second factor, as guarded by
// the same throttles), each costing hashingFieldCost. The value says which
// input decides: "" always, else the input field that must be present.
var hashingFields = map[string]string{
	"Mutation.login":                   "",
	"Mutation.signUp":                  "",
	"Mutation.changePassword":          "",
	"Mutation.resetPassword":           "",
	"Mutation.setPassword":             "",
	"Mutation.deleteAccount":           "",
	"Mutation.changeEmail":             "",
	"Mutation.disableTwoFactor":        "",
	"Mutation.regenerateRecoveryCodes": "",
	"Mutation.verifyTwoFactor":         "code",
}

// listBounds are the most elements a list field without first, last or ids
// can return: the limits its rows are kept under. Any other such list is
// assumed to return a full page.
var listBounds = map[string]int{
	"Query.apiKeys":               auth.MaxAPIKeys,
	"User.identities":             auth.MaxIdentities,
	"Device.tags":                 MaxTagsPerDevice,
	"Device.variables":            MaxVariablesPerSet,
	"Application.fleetVariables":  MaxVariablesPerSet,
	"Application.configVariables": MaxVariablesPerSet,
}

// costedSchema is the executable schema with fleetgate's cost model, for
// gqlgen's complexity walk.
type costedSchema struct {
	graphql.ExecutableSchema
	// lists are the fields returning lists of objects, by "Type.field".
	lists map[string]bool
}

func newCostedSchema(es graphql.ExecutableSchema) costedSchema {
	c := costedSchema{ExecutableSchema: es, lists: map[string]bool{}}
	for _, t := range es.Schema().Types {
		if strings.HasPrefix(t.Name, "__") {
			continue // introspection: bounded by the schema itself
		}
		for _, f := range t.Fields {
			// A connection's edges are as many as its field's first or
			// last, which multiplied already.
			connectionEdges := strings.HasSuffix(t.Name, "Connection") && f.Name == "edges"
			if f.Type.Elem != nil && !connectionEdges {
				c.lists[t.Name+"."+f.Name] = true
			}
		}
	}
	return c
}

func (c costedSchema) Complexity(_ context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	key := typeName + "." + field
	if input, ok := hashingFields[key]; ok && (input == "" || hasInput(args, input)) {
		return hashingFieldCost + child, true
	}
	n, paged := elements(args)
	switch {
	case paged:
	case c.lists[key] && listBounds[key] > 0:
		n = listBounds[key]
	case c.lists[key]:
		n = MaxPageSize
	default:
		return 0, false // gqlgen's default: 1 + child
	}
	return 1 + n*child, true
}

// elements is how many elements a field's arguments ask for: first or last
// (a full default page when neither is given on a connection), or the
// number of ids.
func elements(args map[string]any) (int, bool) {
	if ids, ok := args["ids"].([]any); ok {
		return len(ids), true
	}
	_, hasFirst := args["first"]
	_, hasLast := args["last"]
	if !hasFirst && !hasLast {
		return 0, false
	}
	first, last := count(args["first"]), count(args["last"])
	if first < 0 && last < 0 {
		return DefaultPageSize, true
	}
	return min(max(first, last, 0), MaxPageSize), true
}

// count reads an Int argument; -1 if absent or null.
func count(v any) int {
	switch n := v.(type) {
	case int:
		return n
	case int64:
		return int(n)
	case float64:
		return int(n)
	case json.Number:
		if i, err := n.Int64(); err == nil {
			return int(i)
		}
	}
	return -1
}

func hasInput(args map[string]any, field string) bool {
	in, ok := args["input"].(map[string]any)
	return ok && in[field] != nil
}

// costLimit refuses, before anything runs, operations that cost more than
// MaxComplexity or repeat a field more than MaxAliases times in one
// selection; the refusal names the limit and the cost.
type costLimit struct{ schema costedSchema }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = costLimit{}

func (costLimit) ExtensionName() string                   { return "CostLimit" }
func (costLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l costLimit) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if field, n := mostAliased(oc.Operation.SelectionSet, map[string]bool{}); n > MaxAliases {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("%s appears under %d aliases in one selection; the limit is %d", field, n, MaxAliases),
			Extensions: map[string]any{"code": codeComplexityLimit, "field": field, "limit": MaxAliases, "aliases": n},
		}
	}
	cost := complexity.Calculate(ctx, l.schema, oc.Operation, oc.Variables)
	if cost > MaxComplexity {
		return &gqlerror.Error{
			Message: fmt.Sprintf("the operation costs %d, over the limit of %d: ask for smaller pages (first/last), fewer ids or fewer aliases, or at most %d password-checking fields",
				cost, MaxComplexity, MaxHashingFields),
			Extensions: map[string]any{"code": codeComplexityLimit, "limit": MaxComplexity, "cost": cost},
		}
	}
	return nil
}

// mostAliased finds the field repeated under the most aliases in any one
// selection (fragments merged into the selection they are spread in).
func mostAliased(set ast.SelectionSet, visiting map[string]bool) (string, int) {
	aliases := map[string]map[string]bool{}
	worst, most := "", 0
	var collect func(ast.SelectionSet)
	collect = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				if aliases[s.Name] == nil {
					aliases[s.Name] = map[string]bool{}
				}
				aliases[s.Name][s.Alias] = true
				if n := len(aliases[s.Name]); n > most {
					worst, most = s.Name, n
				}
				if f, n := mostAliased(s.SelectionSet, visiting); n > most {
					worst, most = f, n
				}
			case *ast.InlineFragment:
				collect(s.SelectionSet)
			case *ast.FragmentSpread:
				// Validation refused fragment cycles; the guard keeps the
				// walk finite regardless.
				if s.Definition == nil || visiting[s.Name] {
					continue
				}
				visiting[s.Name] = true
				collect(s.Definition.SelectionSet)
				delete(visiting, s.Name)
			}
		}
	}
	collect(set)
	return worst, most
}

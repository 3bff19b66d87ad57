package graph

import (
	"testing"

	"github.com/vektah/gqlparser/v2"
)

// The schema is not yet deep enough to exceed MaxDepth through the endpoint,
// so the walk is tested on its own, fragments included.
func TestSelectionDepth(t *testing.T) {
	schema := NewExecutableSchema(Config{}).Schema()
	cases := map[string]int{
		`{ __typename }`: 1,
		`{ me { id } }`:  2,
		`{ me { organizations { edges { node { handle } } } } }`:                              5,
		`{ me { ...F } } fragment F on User { organizations { edges { cursor } } }`:           4,
		`{ node(id: 1) { ... on User { organizations { totalCount } } } }`:                    3,
		`{ me { id } __schema { types { fields { type { ofType { ofType { name } } } } } } }`: 2,
	}
	for query, want := range cases {
		doc, err := gqlparser.LoadQuery(schema, query)
		if err != nil {
			t.Fatalf("%s: %v", query, err)
		}
		if got := selectionDepth(doc.Operations[0].SelectionSet, map[string]bool{}); got != want {
			t.Errorf("%s: depth %d, want %d", query, got, want)
		}
	}
}

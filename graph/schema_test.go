package graph_test

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"

	"fleetgate/graph"
	. "fleetgate/internal/apitest"
)

// The schema as a client sees it: the fields of introspection that tell a
// client what something is.
const describedSchema = `{
  __schema {
    directives { name description args { name description } }
    types {
      name kind description specifiedByURL isOneOf
      fields(includeDeprecated: true) { name description args { name description } }
      inputFields { name description }
      enumValues(includeDeprecated: true) { name description }
    }
  }
}`

type described struct {
	Name        string
	Description *string
}

// TestSchemaIsDescribed: through the endpoint's introspection, every type,
// field, argument, input field, enum value and directive of the schema has
// a description (those of GraphQL itself excepted); the Go-only
// directives of gqlgen are not there; Time names its specification and
// VerifyTwoFactorInput is @oneOf.
func TestSchemaIsDescribed(t *testing.T) {
	s := Start(t, Backends()[0])
	r := s.Do(t, "", describedSchema, nil)
	if len(r.Errors) > 0 {
		t.Fatalf("introspection: %+v", r.Errors)
	}
	var schema struct {
		Directives []struct {
			described
			Args []described
		}
		Types []struct {
			described
			Kind           string
			SpecifiedByURL *string
			IsOneOf        *bool
			Fields         []struct {
				described
				Args []described
			}
			InputFields []described
			EnumValues  []described
		}
	}
	if err := json.Unmarshal(r.Data["__schema"], &schema); err != nil {
		t.Fatal(err)
	}
	var missing []string
	need := func(path string, d described) {
		if d.Description == nil || strings.TrimSpace(*d.Description) == "" {
			missing = append(missing, path)
		}
	}
	for _, d := range schema.Directives {
		if builtinDirectives[d.Name] {
			continue
		}
		if strings.HasPrefix(d.Name, "go") {
			t.Errorf("introspection shows the Go-only directive @%s", d.Name)
		}
		need("@"+d.Name, d.described)
		for _, a := range d.Args {
			need("@"+d.Name+"("+a.Name+":)", a)
		}
	}
	types := map[string]bool{}
	for _, typ := range schema.Types {
		types[typ.Name] = true
		if strings.HasPrefix(typ.Name, "__") || builtinScalars[typ.Name] {
			continue
		}
		need(typ.Name, typ.described)
		for _, f := range typ.Fields {
			need(typ.Name+"."+f.Name, f.described)
			for _, a := range f.Args {
				need(typ.Name+"."+f.Name+"("+a.Name+":)", a)
			}
		}
		for _, f := range typ.InputFields {
			need(typ.Name+"."+f.Name, f)
		}
		for _, v := range typ.EnumValues {
			need(typ.Name+"."+v.Name, v)
		}
		switch typ.Name {
		case "Time":
			if typ.SpecifiedByURL == nil || *typ.SpecifiedByURL != "https://www.rfc-editor.org/rfc/rfc3339" {
				t.Errorf("Time's specifiedByURL is %v, want RFC 3339's", typ.SpecifiedByURL)
			}
		case "VerifyTwoFactorInput":
			if typ.IsOneOf == nil || !*typ.IsOneOf {
				t.Error("VerifyTwoFactorInput is not @oneOf")
			}
		}
	}
	// Guards the walk itself: it saw the schema, ent.graphql's part too.
	for _, name := range []string{"Query", "Mutation", "User", "ApplicationWhereInput", "SecurityEventKind", "Cursor"} {
		if !types[name] {
			t.Fatalf("introspection has no type %s", name)
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Errorf("%s has no description", m)
	}
}

// What GraphQL itself defines, described by the specification.
var (
	builtinScalars    = map[string]bool{"String": true, "Int": true, "Float": true, "Boolean": true, "ID": true}
	builtinDirectives = map[string]bool{"include": true, "skip": true, "deprecated": true, "specifiedBy": true, "oneOf": true, "defer": true}
)

// TestEveryConnectionHasPageLimits: a field taking first and last without
// @pageLimits would return every row when neither is given.
func TestEveryConnectionHasPageLimits(t *testing.T) {
	schema := graph.NewExecutableSchema(graph.Config{}).Schema()
	connections := 0
	for _, def := range schema.Types {
		for _, f := range def.Fields {
			if f.Arguments.ForName("first") == nil || f.Arguments.ForName("last") == nil {
				continue
			}
			connections++
			if f.Directives.ForName("pageLimits") == nil {
				t.Errorf("%s.%s takes first and last without @pageLimits", def.Name, f.Name)
			}
		}
	}
	if connections < 10 {
		t.Fatalf("found %d connections: the schema did not load", connections)
	}
}

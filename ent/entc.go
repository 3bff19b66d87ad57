//go:build ignore

// entc.go generates the ent client and, through entgql, schema/ent.graphql.
// server.go runs it from the repository root (see its //go:generate lines):
// entgql compares paths textually, so they must stay root-relative.
package main

import (
	"encoding/json"
	"fmt"
	"log"
	"strings"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
	entschema "entgo.io/ent/schema"
	"github.com/vektah/gqlparser/v2/ast"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("./gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("./schema/ent.graphql"),
		entgql.WithWhereInputs(true),
		entgql.WithNodeDescriptor(true),
		entgql.WithSchemaHook(describe, dropGoDirectives, limitPages),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Features: []gen.Feature{
			gen.FeatureGlobalID,
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureUpsert,
			gen.FeatureModifier,
			gen.FeatureIntercept,
			gen.FeatureExecQuery,
		},
	}, entc.Extensions(ex), entc.TemplateFiles("./ent/template/scan.tmpl", "./ent/template/eagerloads.tmpl"))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

// describe gives ent.graphql the descriptions entgql leaves out, so the
// schema documents itself (graph's TestSchemaIsDescribed): each type's
// schema.Comment, each enum value's text from the field's EnumDoc
// annotation (ent/schema), and, made from their names, the id of every
// node, the where-filter predicates and the order fields. entgql writes
// field and edge descriptions itself, from their Comment.
func describe(g *gen.Graph, s *ast.Schema) error {
	for _, n := range g.Nodes {
		def := s.Types[n.Name]
		if def == nil {
			continue
		}
		def.Description = typeComment(n)
		if id := def.Fields.ForName("id"); id != nil {
			id.Description = "The " + n.Name + "'s id, unique among every object of the API: for node(id:) and the arguments that take it."
		}
		// entgql leaves the Comment out on connection edges.
		for _, e := range n.Edges {
			if f := def.Fields.ForName(lowerCamel(e.Name)); f != nil && f.Description == "" {
				f.Description = e.Comment()
			}
		}
		for _, f := range n.Fields {
			if !f.IsEnum() {
				continue
			}
			if err := describeEnum(s, f); err != nil {
				return fmt.Errorf("%s.%s: %w", n.Name, f.Name, err)
			}
		}
		if where := s.Types[n.Name+"WhereInput"]; where != nil {
			describeWhere(where, n.Name)
		}
		if order := s.Types[n.Name+"OrderField"]; order != nil {
			for _, v := range order.EnumValues {
				for _, f := range n.Fields {
					if orderField(f) == v.Name {
						v.Description = "Order by " + lowerCamel(f.Name) + "."
					}
				}
			}
		}
	}
	for _, def := range s.Types {
		for _, f := range def.Fields {
			for _, a := range f.Arguments {
				if text, ok := pageArguments[a.Name]; ok {
					a.Description = text
				}
			}
		}
	}
	if q := s.Types["Query"]; q != nil {
		q.Description = "What can be read. Everything answers only what the caller may see; the rest is NOT_FOUND or null."
	}
	if t := s.Types["Time"]; t != nil {
		t.Description = "A moment, as an RFC 3339 date and time with its offset, e.g. 2026-05-04T12:30:00Z; answers may carry fractions of a second."
		t.Directives = append(t.Directives, &ast.Directive{
			Name: "specifiedBy",
			Arguments: ast.ArgumentList{{
				Name:  "url",
				Value: &ast.Value{Kind: ast.StringValue, Raw: "https://www.rfc-editor.org/rfc/rfc3339"},
			}},
		})
	}
	if c := s.Types["Cursor"]; c != nil {
		c.Description = "A position in a connection, as the API wrote it in an edge's cursor or in pageInfo: " +
			"pass it back unchanged as after or before. An empty string is no cursor (the first page)."
	}
	return nil
}

// pageArguments describe the arguments of every connection, with the
// limits the API applies (README "Limits"); the hand-written connections
// of schema/ say the same.
var pageArguments = map[string]string{
	"after":  "Returns the elements after this cursor (an edge's cursor or pageInfo.endCursor). An empty string is no cursor.",
	"first":  "Returns the first n elements, 0–100; 50 when neither first nor last is given.",
	"before": "Returns the elements before this cursor (an edge's cursor or pageInfo.startCursor). An empty string is no cursor.",
	"last":   "Returns the last n elements, 0–100.",
}

// typeComment is the type's schema.Comment annotation.
func typeComment(n *gen.Type) string {
	var c entschema.CommentAnnotation
	decode(n.Annotations, c.Name(), &c)
	return c.Text
}

// enumDoc is ent/schema's EnumDoc annotation, read back from its JSON.
type enumDoc struct {
	Type   string
	Values map[string]string
}

func describeEnum(s *ast.Schema, f *gen.Field) error {
	var doc enumDoc
	if !decode(f.Annotations, "EnumDoc", &doc) {
		return fmt.Errorf("an enum field without an EnumDoc annotation")
	}
	// entgql.Type names every enum: without it, entgql's name for the enum
	// would depend on gqlgen.yml's bindings.
	name := entgqlOf(f).Type
	if name == "" {
		return fmt.Errorf("an enum field without an entgql.Type annotation")
	}
	def := s.Types[name]
	if def == nil {
		return fmt.Errorf("no enum %s in the schema", name)
	}
	def.Description = doc.Type
	for _, v := range def.EnumValues {
		v.Description = doc.Values[v.Name]
	}
	return nil
}

func orderField(f *gen.Field) string { return entgqlOf(f).OrderField }

func entgqlOf(f *gen.Field) entgql.Annotation {
	var ant entgql.Annotation
	decode(f.Annotations, ant.Name(), &ant)
	return ant
}

// decode reads the annotation called name into v, reporting whether there
// is one: entc hands annotations over as their JSON.
func decode(ants gen.Annotations, name string, v any) bool {
	raw, ok := ants[name]
	if !ok {
		return false
	}
	b, err := json.Marshal(raw)
	if err != nil || json.Unmarshal(b, v) != nil {
		log.Fatalf("annotation %s: cannot read %v", name, raw)
	}
	return true
}

// lowerCamel is the GraphQL name of an ent field: created_at is createdAt.
func lowerCamel(snake string) string {
	parts := strings.Split(snake, "_")
	for i := 1; i < len(parts); i++ {
		parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
	}
	return strings.Join(parts, "")
}

// predicates are the where-filter suffixes entgql generates, longest first
// so that "NotIn" is not read as "In".
var predicates = []struct{ suffix, text string }{
	{"ContainsFold", "contains the value, ignoring case"},
	{"EqualFold", "equals the value, ignoring case"},
	{"HasPrefix", "starts with the value"},
	{"HasSuffix", "ends with the value"},
	{"Contains", "contains the value (case-sensitive)"},
	{"NotNil", "is set"},
	{"IsNil", "is null"},
	{"NotIn", "is none of the values"},
	{"GTE", "is greater than or equal to the value"},
	{"LTE", "is less than or equal to the value"},
	{"NEQ", "is not equal to the value"},
	{"GT", "is greater than the value"},
	{"LT", "is less than the value"},
	{"In", "is one of the values"},
	{"", "is equal to the value"},
}

// describeWhere describes a where-filter's fields. Every predicate given
// must hold (they are ANDed), as entgql's generated P() combines them.
func describeWhere(def *ast.Definition, node string) {
	def.Description = "Filters " + node + " objects: one matches when every predicate given here holds."
	plain := map[string]bool{}
	for _, f := range def.Fields {
		plain[f.Name] = true
	}
	for _, f := range def.Fields {
		switch {
		case f.Name == "not":
			f.Description = "Matches what this filter does not match."
			continue
		case f.Name == "and":
			f.Description = "Matches what every one of these filters matches."
			continue
		case f.Name == "or":
			f.Description = "Matches what at least one of these filters matches."
			continue
		case strings.HasPrefix(f.Name, "has") && strings.HasSuffix(f.Name, "With"):
			edge := lowerFirst(strings.TrimSuffix(strings.TrimPrefix(f.Name, "has"), "With"))
			f.Description = "Matches when its " + edge + " (one of them, for a list) matches every one of these filters."
			continue
		case strings.HasPrefix(f.Name, "has") && f.Type.NamedType == "Boolean":
			edge := lowerFirst(strings.TrimPrefix(f.Name, "has"))
			f.Description = "true: matches when it has " + edge + "; false: when it has none."
			continue
		}
		for _, p := range predicates {
			field, ok := strings.CutSuffix(f.Name, p.suffix)
			if ok && field != "" && (p.suffix == "" || plain[field]) {
				f.Description = "Matches when " + field + " " + p.text + "."
				break
			}
		}
	}
}

func lowerFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

// limitPages marks every generated connection (a field taking first and
// last) with @pageLimits, declared in access.graphql: entgql itself returns
// every row when neither is given and sets no maximum.
func limitPages(_ *gen.Graph, s *ast.Schema) error {
	for _, def := range s.Types {
		for _, f := range def.Fields {
			if f.Arguments.ForName("first") != nil && f.Arguments.ForName("last") != nil {
				f.Directives = append(f.Directives, &ast.Directive{Name: "pageLimits"})
			}
		}
	}
	return nil
}

// goDirectives are gqlgen's directives for Go bindings. They say nothing to
// a client, so ent.graphql leaves them out (and introspection with it); the
// bindings they would carry are in gqlgen.yml.
var goDirectives = map[string]bool{"goField": true, "goModel": true}

func dropGoDirectives(_ *gen.Graph, s *ast.Schema) error {
	for name := range goDirectives {
		delete(s.Directives, name)
	}
	for _, def := range s.Types {
		def.Directives = withoutGo(def.Directives)
		for _, f := range def.Fields {
			f.Directives = withoutGo(f.Directives)
		}
	}
	return nil
}

func withoutGo(ds ast.DirectiveList) ast.DirectiveList {
	var kept ast.DirectiveList
	for _, d := range ds {
		if !goDirectives[d.Name] {
			kept = append(kept, d)
		}
	}
	return kept
}

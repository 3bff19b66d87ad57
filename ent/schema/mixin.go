package schema

import (
	"strings"

	"fleetgate/internal/clock"
	"fleetgate/internal/text"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/mixin"
)

// createdAt stamps a row with the moment it was created; visibility, when
// set, says who may read it.
type createdAt struct {
	mixin.Schema
	visibility string
}

func (m createdAt) Fields() []ent.Field {
	return []ent.Field{
		field.Time("created_at").Default(clock.Now).Immutable().
			Comment(strings.TrimSpace("When it was created. "+m.visibility)).
			Annotations(entgql.OrderField("CREATED_AT"), entgql.Skip(entgql.SkipWhereInput)),
	}
}

// hidden is the annotation for types and fields that never appear in the
// GraphQL schema (secrets, bookkeeping).
func hidden() entgql.Annotation { return entgql.Skip(entgql.SkipAll) }

// line and multiline validate text fields by the API's rule (internal/text):
// a backstop under the API's own checks, which name the field at fault.
var (
	line      = text.Line.Check
	multiline = text.Multiline.Check
)

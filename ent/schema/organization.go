package schema

import (
	"fleetgate/internal/policy"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Organization owns applications; its administrators administer them all.
type Organization struct{ ent.Schema }

func (Organization) Mixin() []ent.Mixin { return []ent.Mixin{createdAt{}} }

func (Organization) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Validate(line),
		// Shares the username namespace: a user's personal organization has
		// the username as its handle.
		field.String("handle").Unique().NotEmpty().MaxLen(32).Validate(line),
		field.Enum("plan").Values("FREE", "PAID").Default("FREE").
			Annotations(entgql.Type("Plan")),
	}
}

func (Organization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("members", OrganizationMembership.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
		// Not a where-filter: an organization member could otherwise probe
		// for applications of the organization that are not shared with them
		// (privacy rules filter the rows a query returns, not subqueries).
		edge.To("applications", Application.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection(),
				entgql.Skip(entgql.SkipWhereInput)),
	}
}

func (Organization) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

func (Organization) Policy() ent.Policy { return policy.Organization() }

package schema

import (
	"fleetgate/internal/policy"

	"fleetgate/internal/access"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ApplicationMembership shares an application with a user who does not
// administer its organization.
type ApplicationMembership struct{ ent.Schema }

func (ApplicationMembership) Mixin() []ent.Mixin { return []ent.Mixin{createdAt{}} }

func (ApplicationMembership) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("role").GoType(access.Role("")).
			Annotations(entgql.Type("ApplicationRole")),
		field.Int("user_id").Immutable().Annotations(hidden()),
		field.Int("application_id").Immutable().Annotations(hidden()),
	}
}

func (ApplicationMembership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("application_memberships").
			Field("user_id").Unique().Required().Immutable(),
		edge.From("application", Application.Type).Ref("members").
			Field("application_id").Unique().Required().Immutable(),
	}
}

func (ApplicationMembership) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("application_id", "user_id").Unique(),
		// A user's memberships: every request's role lookup (README "Performance").
		index.Fields("user_id"),
	}
}

func (ApplicationMembership) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)}
}

func (ApplicationMembership) Policy() ent.Policy { return policy.ApplicationMembership() }

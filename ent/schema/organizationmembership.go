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

// OrganizationMembership makes a user an administrator or member of an
// organization.
type OrganizationMembership struct{ ent.Schema }

func (OrganizationMembership) Mixin() []ent.Mixin { return []ent.Mixin{createdAt{}} }

func (OrganizationMembership) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("role").GoType(access.OrgRole("")).
			Comment("ADMINISTRATOR or MEMBER.").
			Annotations(entgql.Type("OrganizationRole"), EnumDoc{
				Type: "A role in an organization.",
				Values: map[string]string{
					"ADMINISTRATOR": "Administers the organization: its members, and its applications with every permission. An organization always keeps one.",
					"MEMBER":        "Belongs to the organization; a role on its applications comes only from application memberships.",
				},
			}),
		field.Int("user_id").Immutable().Annotations(hidden()),
		field.Int("organization_id").Immutable().Annotations(hidden()),
	}
}

func (OrganizationMembership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("organization_memberships").
			Field("user_id").Unique().Required().Immutable().
			Comment("The member."),
		edge.From("organization", Organization.Type).Ref("members").
			Field("organization_id").Unique().Required().Immutable().
			Comment("The organization."),
	}
}

func (OrganizationMembership) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("organization_id", "user_id").Unique(),
		// A user's memberships: every request's role lookup (README "Performance").
		index.Fields("user_id"),
	}
}

func (OrganizationMembership) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput),
		schema.Comment("A user's role in an organization. Visible to the organization's members."),
	}
}

func (OrganizationMembership) Policy() ent.Policy { return policy.OrganizationMembership() }

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
			Comment("DEVELOPER, OPERATOR or OBSERVER, as the plan rules allow.").
			Annotations(entgql.Type("ApplicationRole"), EnumDoc{
				Type: "A role on an application: what its holder may do there beyond reading it (Application.myPermissions).",
				Values: map[string]string{
					"ADMINISTRATOR": "Administrators of the application's organization: every permission. Not a membership role: make the user an administrator of the organization.",
					"DEVELOPER":     "Every permission but ADD_MEMBERS and DELETE_APPLICATION. On any plan and application type.",
					"OPERATOR":      "The devices: ADD_REMOVE_DEVICE, DEVICE_ACTIONS, TAGS, VARIABLES and SSH_ACCESS. In PAID organizations, not on STARTER applications.",
					"OBSERVER":      "Reading only. In PAID organizations, not on STARTER applications.",
				},
			}),
		field.Int("user_id").Immutable().Annotations(hidden()),
		field.Int("application_id").Immutable().Annotations(hidden()),
	}
}

func (ApplicationMembership) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("application_memberships").
			Field("user_id").Unique().Required().Immutable().
			Comment("The member."),
		edge.From("application", Application.Type).Ref("members").
			Field("application_id").Unique().Required().Immutable().
			Comment("The application shared with them."),
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
	return []schema.Annotation{
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput),
		schema.Comment("A user's role on an application they do not administer: the application is shared with them."),
	}
}

func (ApplicationMembership) Policy() ent.Policy { return policy.ApplicationMembership() }

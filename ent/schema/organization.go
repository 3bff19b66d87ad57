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
		field.String("name").NotEmpty().Validate(line).
			Comment("The display name, 1–100 characters."),
		// Shares the username namespace: a user's personal organization has
		// the username as its handle.
		field.String("handle").Unique().NotEmpty().MaxLen(32).Validate(line).
			Comment("3–32 characters of a-z, 0-9 and _, unique among handles and usernames: organization(handle:) finds it."),
		field.Enum("plan").Values("FREE", "PAID").Default("FREE").
			Comment("Decides which membership roles its applications allow. Changed only by the operator (fleetgate org set-plan).").
			Annotations(entgql.Type("Plan"), EnumDoc{
				Type: "An organization's plan: it decides which application membership roles are available.",
				Values: map[string]string{
					"FREE": "DEVELOPER memberships only. The plan of every new organization.",
					"PAID": "DEVELOPER, OPERATOR and OBSERVER memberships (STARTER applications still allow DEVELOPER only).",
				},
			}),
	}
}

func (Organization) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("members", OrganizationMembership.Type).
			Comment("Its administrators and members; empty to a caller who sees the organization only through a shared application.").
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
		// Not a where-filter: an organization member could otherwise probe
		// for applications of the organization that are not shared with them
		// (privacy rules filter the rows a query returns, not subqueries).
		edge.To("applications", Application.Type).
			Comment("Its applications that the caller has a role on (all of them, for its administrators).").
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection(),
				entgql.Skip(entgql.SkipWhereInput)),
	}
}

func (Organization) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		schema.Comment("An organization: it owns applications, and its administrators administer them all. Every account starts with a personal one (handle = username, plan FREE). Visible to its members and, without its member list, to members of its shared applications."),
	}
}

func (Organization) Policy() ent.Policy { return policy.Organization() }

package schema

import (
	"fleetgate/internal/policy"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// Identity is a person's account at an outside identity provider, linked to
// a fleetgate account: accounts are found by (provider, subject), never by
// email (README "Social login").
type Identity struct{ ent.Schema }

func (Identity) Fields() []ent.Field {
	return []ent.Field{
		field.String("provider").NotEmpty().MaxLen(32).Immutable().
			Comment("The provider's id: google, github or an OIDC provider's name (authProviders)."),
		field.String("subject").NotEmpty().MaxLen(255).Immutable().Validate(line).
			Comment("The provider's own, stable id for the person (OpenID Connect sub; GitHub's numeric user id)."),
		field.String("email").Default("").MaxLen(254).Validate(line).
			Comment("The address the provider gave at the latest sign-in; empty when it gave none."),
		field.Time("linked_at").Immutable().
			Comment("When the identity was linked to the account (or the account created with it)."),
		field.Int("user_id").Immutable().Annotations(hidden()),
	}
}

func (Identity) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("identities").
			Field("user_id").Unique().Required().Immutable().Annotations(hidden()),
	}
}

func (Identity) Indexes() []ent.Index {
	return []ent.Index{
		index.Fields("provider", "subject").Unique(),
		index.Fields("user_id"),
	}
}

func (Identity) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput),
		schema.Comment("An account at an outside identity provider that signs in to this account (User.identities)."),
	}
}

func (Identity) Policy() ent.Policy { return policy.Identity() }

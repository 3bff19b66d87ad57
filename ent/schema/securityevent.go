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

// SecurityEvent records something that happened to an account's security,
// for its owner to review.
type SecurityEvent struct{ ent.Schema }

func (SecurityEvent) Mixin() []ent.Mixin { return []ent.Mixin{createdAt{}} }

func (SecurityEvent) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("kind").Values(
			"SIGN_IN", "SIGN_IN_FAILED", "PASSWORD_CHANGED", "PASSWORD_RESET",
			"TWO_FACTOR_ENABLED", "TWO_FACTOR_DISABLED", "RECOVERY_CODE_USED", "RECOVERY_CODES_REGENERATED",
			"API_KEY_CREATED", "API_KEY_REVOKED", "MEMBERSHIP_CHANGED",
		).Annotations(entgql.Type("SecurityEventKind")),
		// What the event was about, e.g. the API key's name.
		field.String("detail").Default(""),
		field.Int("user_id").Immutable().Annotations(hidden()),
	}
}

func (SecurityEvent) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("security_events").
			Field("user_id").Unique().Required().Immutable().Annotations(hidden()),
	}
}

func (SecurityEvent) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "created_at")}
}

func (SecurityEvent) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput)}
}

func (SecurityEvent) Policy() ent.Policy { return policy.SecurityEvent() }

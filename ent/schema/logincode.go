package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"fleetgate/internal/clock"
)

// LoginCode is a one-time code of social login (README "Social login"):
// the ?code= a callback hands the dashboard for exchangeLoginCode (SIGN_IN,
// 60 seconds), or the ticket in the start URL linkIdentity returns (LINK).
// Only its SHA-256 is stored; it works once.
type LoginCode struct{ ent.Schema }

func (LoginCode) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("hash").Unique().Immutable().Sensitive(),
		field.Enum("purpose").Values("SIGN_IN", "LINK").Immutable(),
		field.String("provider").Immutable(),
		field.Int("user_id").Immutable(),
		field.Time("expires_at").Immutable(),
		field.Time("created_at").Default(clock.Now).Immutable(),
	}
}

func (LoginCode) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("login_codes").
			Field("user_id").Unique().Required().Immutable(),
	}
}

func (LoginCode) Annotations() []schema.Annotation { return []schema.Annotation{hidden()} }

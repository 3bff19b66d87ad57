package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"fleetgate/internal/clock"
)

// PasswordReset is a password-reset link sent by mail: only the SHA-256 of
// its token is stored. It works once, for an hour, and only while it is
// the user's latest.
type PasswordReset struct{ ent.Schema }

func (PasswordReset) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Immutable(),
		field.Bytes("hash").Unique().Immutable().Sensitive(),
		field.Time("expires_at").Immutable(),
		field.Time("created_at").Default(clock.Now).Immutable(),
	}
}

func (PasswordReset) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("password_resets").
			Field("user_id").Unique().Required().Immutable(),
	}
}

func (PasswordReset) Annotations() []schema.Annotation { return []schema.Annotation{hidden()} }

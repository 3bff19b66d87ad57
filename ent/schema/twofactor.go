package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"fleetgate/internal/clock"
)

// RecoveryCode is one single-use recovery code of a user's two-factor
// authentication, stored as a keyed hash (internal/totp).
type RecoveryCode struct{ ent.Schema }

func (RecoveryCode) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Immutable(),
		field.Bytes("hash").Immutable().Sensitive(),
		// Set when the code is redeemed: a used code stays, so a second
		// redemption fails the same way as a wrong code.
		field.Time("used_at").Optional().Nillable(),
		field.Time("created_at").Default(clock.Now).Immutable(),
	}
}

func (RecoveryCode) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("recovery_codes").
			Field("user_id").Unique().Required().Immutable(),
	}
}

func (RecoveryCode) Indexes() []ent.Index {
	return []ent.Index{index.Fields("user_id", "hash").Unique()}
}

func (RecoveryCode) Annotations() []schema.Annotation { return []schema.Annotation{hidden()} }

// RateLimit counts failures (or hits) of one key, such as a user's
// two-factor codes or the logins from one IP address, so that every
// instance enforces the same limits (internal/ratelimit).
type RateLimit struct{ ent.Schema }

func (RateLimit) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").Unique().Immutable().NotEmpty().MaxLen(200),
		field.Int("count").Default(0),
		// When the current counting window began.
		field.Time("window_start"),
		// Attempts are refused until then.
		field.Time("blocked_until").Optional().Nillable(),
	}
}

func (RateLimit) Annotations() []schema.Annotation { return []schema.Annotation{hidden()} }

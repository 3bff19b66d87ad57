package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"fleetgate/internal/clock"
)

// EmailVerification is a mailed link that proves an address reaches the
// account's owner (README "Verified email addresses"): the account's own
// address, or the new one of changeEmail, which the link then makes the
// account's. Only the SHA-256 of its token is stored; it works once, for 24
// hours.
type EmailVerification struct{ ent.Schema }

func (EmailVerification) Fields() []ent.Field {
	return []ent.Field{
		field.Int("user_id").Immutable(),
		// The address the link was mailed to.
		field.String("email").NotEmpty().MaxLen(254).Validate(line).Immutable(),
		// A link of changeEmail, which makes email the account's address; a
		// link of the other kind only verifies email while it is the
		// account's. Stored, not inferred when the link is followed: the
		// address may have changed since it was mailed.
		field.Bool("change").Default(false).Immutable(),
		field.Bytes("hash").Unique().Immutable().Sensitive(),
		field.Time("expires_at").Immutable(),
		field.Time("created_at").Default(clock.Now).Immutable(),
	}
}

func (EmailVerification) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("email_verifications").
			Field("user_id").Unique().Required().Immutable(),
	}
}

func (EmailVerification) Indexes() []ent.Index { return []ent.Index{index.Fields("user_id")} }

func (EmailVerification) Annotations() []schema.Annotation { return []schema.Annotation{hidden()} }

package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/field"

	"fleetgate/internal/clock"
)

// SigningKey is an Ed25519 key that signs session tokens. Keys live in the
// database so every instance signs and verifies with the same set.
type SigningKey struct{ ent.Schema }

func (SigningKey) Fields() []ent.Field {
	return []ent.Field{
		// Unique, so instances starting together agree on the first key:
		// the loser of the insert race reads the winner's key.
		field.Int("generation").Unique().Immutable(),
		field.String("kid").Unique().Immutable(),
		// Sealed with SECRET_KEY (internal/keystore); keys stored in the clear
		// by earlier versions are sealed in place.
		field.Bytes("private_key").Sensitive(),
		field.Time("created_at").Default(clock.Now).Immutable(),
	}
}

func (SigningKey) Annotations() []schema.Annotation {
	return []schema.Annotation{hidden()}
}

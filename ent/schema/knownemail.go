package schema

import (
	"entgo.io/ent"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"

	"fleetgate/internal/clock"
)

// KnownEmail records that a user knows another user's email address
// because they typed it: an administrator who added that user as a member
// by that address. It is what lets them see the address (README "Privacy
// between users"); nothing else shows one user's address to another.
// Addresses cannot change; if they ever could, a change would have to
// delete these rows.
type KnownEmail struct{ ent.Schema }

func (KnownEmail) Fields() []ent.Field {
	return []ent.Field{
		// Whose address is known.
		field.Int("user_id").Immutable(),
		// Who knows it.
		field.Int("known_by_id").Immutable(),
		field.Time("created_at").Default(clock.Now).Immutable(),
	}
}

func (KnownEmail) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("email_known_by").
			Field("user_id").Unique().Required().Immutable(),
		edge.From("known_by", User.Type).Ref("known_emails").
			Field("known_by_id").Unique().Required().Immutable(),
	}
}

func (KnownEmail) Indexes() []ent.Index {
	// Read by who knows (policy.SeesEmailOf), once per request.
	return []ent.Index{index.Fields("known_by_id", "user_id").Unique()}
}

func (KnownEmail) Annotations() []schema.Annotation { return []schema.Annotation{hidden()} }

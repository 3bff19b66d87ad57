package schema

import (
	"fleetgate/internal/access"
	"fleetgate/internal/policy"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
)

// ApiKey is a named, revocable credential. Only its SHA-256 is stored; the
// key itself is shown once, when created.
type ApiKey struct{ ent.Schema }

func (ApiKey) Mixin() []ent.Mixin { return []ent.Mixin{createdAt{}} }

func (ApiKey) Fields() []ent.Field {
	return []ent.Field{
		// Lengths in characters are checked by the API (ent's MaxLen counts bytes).
		field.String("name").NotEmpty().Validate(line).
			Comment("1–50 characters."),
		field.String("description").Default("").Validate(multiline).
			Comment("Up to 150 characters; empty when none was given."),
		field.String("prefix").NotEmpty().
			Comment("The key's first 12 characters (fgk_…), to tell keys apart. The key itself was shown once, by createApiKey or rotateApiKey."),
		// Rotation replaces hash and prefix in place: the row, its id and
		// its scope stay.
		field.Bytes("hash").Unique().Sensitive().Annotations(hidden()),
		// The secret a rotation replaced, accepted until previous_valid_until
		// (README "Scoped API keys": rotation), so that one statement still
		// finds the key by either hash.
		field.Bytes("previous_hash").Optional().Nillable().Unique().Sensitive().Annotations(hidden()),
		field.Time("previous_valid_until").Optional().Nillable().Annotations(hidden()),
		// Null for an unscoped key; ApiKey.scope shows it. json, not jsonb,
		// on PostgreSQL: parameters go in binary (internal/database), and
		// json's binary form is its text.
		field.JSON("scope", &access.Scope{}).Optional().Immutable().
			SchemaType(map[string]string{dialect.Postgres: "json"}).Annotations(hidden()),
		field.Time("last_used_at").Optional().Nillable().
			Comment("When the key last authenticated a request, to within a minute; null if never."),
		field.Time("expires_at").Optional().Nillable().Immutable().
			Comment("When the key stops working; null if it does not expire."),
		field.Int("user_id").Immutable().Annotations(hidden()),
	}
}

func (ApiKey) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("api_keys").
			Field("user_id").Unique().Required().Immutable().Annotations(hidden()),
	}
}

func (ApiKey) Indexes() []ent.Index {
	// A user's keys: listing them, the per-user limit, revoking them all.
	return []ent.Index{index.Fields("user_id")}
}

func (ApiKey) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput),
		schema.Comment("A named, revocable credential of the caller, for scripts and services: send the key as Authorization: Bearer. Listed by apiKeys, never with the key."),
	}
}

func (ApiKey) Policy() ent.Policy { return policy.ApiKey() }

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

// Session is a signed-in client: every full session token names one by its
// "sid" claim, and works only while the row exists and has not timed out
// (README "Sessions"). Revoking a session deletes its row.
type Session struct{ ent.Schema }

func (Session) Mixin() []ent.Mixin {
	return []ent.Mixin{createdAt{visibility: "The moment of the sign-in that began the session; refreshing keeps it."}}
}

func (Session) Fields() []ent.Field {
	return []ent.Field{
		// The user's sessions_valid_after when the session began, or was
		// last kept through an end of the others (a password change). Behind
		// the user's, the session was ended by that change, though a sign-in
		// racing it wrote the row after the others were deleted; its tokens
		// are refused anyway (their iat). Null for rows from before it was
		// kept.
		field.Time("valid_after").Optional().Nillable().Annotations(hidden()),
		field.Time("last_used_at").
			Comment("When the session last authenticated a request, to within a minute."),
		field.String("client_address").Default("").MaxLen(64).Immutable().
			Comment("The client address the session signed in from; empty when it was unknown."),
		field.String("user_agent").Default("").MaxLen(1024).Immutable().
			Comment("The User-Agent header of the sign-in, cut to 256 characters; empty when none was sent."),
		field.String("sign_in_method").NotEmpty().MaxLen(64).Immutable().
			Comment("How the session began: password, totp, recovery_code, or the identity provider's id of a social login (authProviders)."),
		field.Int("user_id").Immutable().Annotations(hidden()),
	}
}

func (Session) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("user", User.Type).Ref("sessions").
			Field("user_id").Unique().Required().Immutable().Annotations(hidden()),
	}
}

func (Session) Indexes() []ent.Index {
	// A user's sessions: listing them, ending them all. Authentication
	// finds a session by its id.
	return []ent.Index{index.Fields("user_id", "created_at")}
}

func (Session) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput),
		schema.Comment("A place where the caller is signed in: one sign-in and the session tokens refreshed from it (User.sessions)."),
	}
}

func (Session) Policy() ent.Policy { return policy.Session() }

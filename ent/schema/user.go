package schema

import (
	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"

	"fleetgate/internal/clock"
)

// User is a person with an account.
type User struct{ ent.Schema }

func (User) Mixin() []ent.Mixin {
	return []ent.Mixin{createdAt{visibility: "The user's own only: FORBIDDEN for anyone else."}}
}

func (User) Fields() []ent.Field {
	return []ent.Field{
		// Stored lowercase (internal/account), so the unique index is
		// case-insensitive in effect.
		field.String("username").Unique().NotEmpty().MaxLen(32).Validate(line).
			Comment("3–32 characters of a-z, 0-9 and _, unique; shares its namespace with organization handles (the personal organization's handle is the username)."),
		// Shown through a resolver that decides who may see it.
		field.String("email").Unique().NotEmpty().MaxLen(254).Validate(line).
			Annotations(hidden()),
		// PHC-encoded argon2id hash; empty for accounts from social login.
		field.String("password_hash").Optional().Sensitive().
			Annotations(hidden()),
		// Session tokens issued before this instant are refused: a password
		// change or "sign out everywhere" moves it forward. Always stored at
		// millisecond precision, that of token iat.
		field.Time("sessions_valid_after").Default(clock.Now).
			Annotations(hidden()),
		// The TOTP secret, sealed with SECRET_KEY (internal/secretbox): set
		// once two-factor authentication is on.
		field.Bytes("totp_secret").Optional().Sensitive().Annotations(hidden()),
		// A secret shown by beginTwoFactorSetup, not yet confirmed.
		field.Bytes("totp_pending_secret").Optional().Sensitive().Annotations(hidden()),
		// The time step of the last accepted code: a code at or before it
		// is refused (no replay).
		field.Int64("totp_last_step").Default(0).Annotations(hidden()),
		// Whether the account's address is known to reach its owner: a
		// verification link was followed, or the identity provider the
		// account was made with had verified it. Social login links by
		// address only when both sides are verified (README "Social login").
		field.Bool("email_verified").Default(false).Annotations(hidden()),
	}
}

func (User) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("organization_memberships", OrganizationMembership.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("application_memberships", ApplicationMembership.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("api_keys", ApiKey.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("security_events", SecurityEvent.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("recovery_codes", RecoveryCode.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("password_resets", PasswordReset.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("identities", Identity.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("login_codes", LoginCode.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("email_verifications", EmailVerification.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("sessions", Session.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		// Who knows this user's address, and whose addresses this user knows.
		edge.To("email_known_by", KnownEmail.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("known_emails", KnownEmail.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
	}
}

func (User) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.Skip(entgql.SkipWhereInput),
		schema.Comment("A person with an account. Of another user only id and username are visible; the other fields are the user's own (email also shows to whoever added them as a member by that address)."),
	}
}

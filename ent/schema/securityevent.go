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
			"IDENTITY_LINKED", "IDENTITY_UNLINKED",
			"EMAIL_VERIFIED", "EMAIL_CHANGE_REQUESTED", "EMAIL_CHANGED",
			"API_KEY_ROTATED", "SESSION_REVOKED",
		).Comment("What happened.").
			Annotations(entgql.Type("SecurityEventKind"), EnumDoc{
				Type: "What happened to an account's security.",
				Values: map[string]string{
					"SIGN_IN":                    "A login completed (after the second factor, if one is on); detail names the identity provider of a social login.",
					"SIGN_IN_FAILED":             "A login with a wrong password; detail names the client address.",
					"PASSWORD_CHANGED":           "The password was changed (changePassword) or first set (setPassword).",
					"PASSWORD_RESET":             "The password was reset through a mailed link.",
					"TWO_FACTOR_ENABLED":         "Two-factor authentication was turned on.",
					"TWO_FACTOR_DISABLED":        "Two-factor authentication was turned off.",
					"RECOVERY_CODE_USED":         "A recovery code completed a login.",
					"RECOVERY_CODES_REGENERATED": "The recovery codes were replaced with new ones.",
					"API_KEY_CREATED":            "An API key was created; detail is its name and, for a scoped key, its scope.",
					"API_KEY_ROTATED":            "An API key was given a new secret (rotateApiKey); detail is its name and until when the old secret works.",
					"API_KEY_REVOKED":            "An API key was revoked; detail is its name.",
					"MEMBERSHIP_CHANGED":         "A membership of the user was added, changed or ended, or they created an organization; detail says what and by whom.",
					"IDENTITY_LINKED":            "An identity provider's account was linked for signing in (social login); detail names the provider and the address it gave.",
					"IDENTITY_UNLINKED":          "A linked identity was unlinked; detail names the provider.",
					"EMAIL_VERIFIED":             "The account's address was verified through a mailed link; detail is the address.",
					"EMAIL_CHANGE_REQUESTED":     "changeEmail mailed a verification link to a new address; detail is that address.",
					"EMAIL_CHANGED":              "A verification link made a new address the account's; detail names the old and the new one.",
					"SESSION_REVOKED":            "Sessions were ended by revokeSession or signOutEverywhere; detail says which.",
				},
			}),
		field.String("detail").Default("").
			Comment("What the event was about, as text (an API key's name, a client address, a membership change); empty when there is nothing to add."),
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
	return []schema.Annotation{
		entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput),
		schema.Comment("Something that happened to an account's security, for its owner to review (User.securityEvents)."),
	}
}

func (SecurityEvent) Policy() ent.Policy { return policy.SecurityEvent() }

package schema

import (
	"regexp"

	"fleetgate/internal/access"
	"fleetgate/internal/policy"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
	"entgo.io/ent/schema/index"
	"entgo.io/ent/schema/mixin"
)

// inApplication is the mixin of every fleet-side type: the row names the
// application it belongs to, directly, so one privacy rule (internal/policy
// Fleet) filters and guards every such type alike. ref is the application's
// edge back to the type.
type inApplication struct {
	mixin.Schema
	ref string
}

func (inApplication) Fields() []ent.Field {
	return []ent.Field{field.Int("application_id").Immutable().Annotations(hidden())}
}

func (m inApplication) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("application", Application.Type).Ref(m.ref).
			Field("application_id").Unique().Required().Immutable().Annotations(hidden()),
	}
}

// inDevice is the mixin of the types that belong to a device.
type inDevice struct {
	mixin.Schema
	ref string
}

func (inDevice) Fields() []ent.Field {
	return []ent.Field{field.Int("device_id").Immutable().Annotations(hidden())}
}

func (m inDevice) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("device", Device.Type).Ref(m.ref).
			Field("device_id").Unique().Required().Immutable().Annotations(hidden()),
	}
}

// requestedBy is the mixin of the types that remember who asked for them.
// field is its name in GraphQL (requestedBy, or createdBy for what was
// made rather than asked for).
type requestedBy struct {
	mixin.Schema
	field string
}

func (requestedBy) Fields() []ent.Field {
	return []ent.Field{field.Int("requested_by_id").Optional().Nillable().Immutable().Annotations(hidden())}
}

func (m requestedBy) Edges() []ent.Edge {
	// The row stays when the user's account is deleted (SET NULL): the
	// fleet's history is the fleet's. An edge, so lists load the users in
	// one query.
	return []ent.Edge{
		edge.To("requested_by", User.Type).Field("requested_by_id").Unique().Immutable().
			Comment("Who asked for it (or made it); null once their account is deleted.").
			Annotations(entsql.OnDelete(entsql.SetNull), entgql.MapsTo(m.field)),
	}
}

// environmentName is an environment variable's name.
var environmentName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// nameAndValue are the fields of a variable; names says which names it takes.
func nameAndValue(names string) []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().MaxLen(128).Match(environmentName).
			Comment("The environment variable's name, up to 128 characters: " + names + "."),
		// Up to 10 KiB (checked by the API, which names the field).
		field.Text("value").Validate(multiline).
			Comment("Its value, up to 10 KiB, as given."),
	}
}

// DeviceTag is a key and value attached to a device, for filtering.
type DeviceTag struct{ ent.Schema }

func (DeviceTag) Mixin() []ent.Mixin {
	return []ent.Mixin{createdAt{}, inApplication{ref: "device_tags"}, inDevice{ref: "tags"}}
}

func (DeviceTag) Fields() []ent.Field {
	return []ent.Field{
		field.String("key").NotEmpty().Validate(line).
			Comment("1–100 characters, unique on the device."),
		field.Text("value").Validate(multiline).
			Comment("Up to 1000 characters."),
	}
}

func (DeviceTag) Indexes() []ent.Index { return []ent.Index{index.Fields("device_id", "key").Unique()} }

func (DeviceTag) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput), schema.Comment("A key and value attached to a device, for filtering and display.")}
}

func (DeviceTag) Policy() ent.Policy { return policy.Fleet(access.Tags, access.Tags) }

// DeviceVariable is an environment variable of one device.
type DeviceVariable struct{ ent.Schema }

func (DeviceVariable) Mixin() []ent.Mixin {
	return []ent.Mixin{createdAt{}, inApplication{ref: "device_variables"}, inDevice{ref: "variables"}}
}

func (DeviceVariable) Fields() []ent.Field {
	return nameAndValue("[A-Za-z_][A-Za-z0-9_]*, not starting with FLEETGATE_, unique on the device")
}

func (DeviceVariable) Indexes() []ent.Index {
	return []ent.Index{index.Fields("device_id", "name").Unique()}
}

func (DeviceVariable) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput), schema.Comment("An environment variable of one device.")}
}

func (DeviceVariable) Policy() ent.Policy { return policy.Fleet(access.Variables, access.Variables) }

// FleetVariable is an environment variable of every device of an application.
type FleetVariable struct{ ent.Schema }

func (FleetVariable) Mixin() []ent.Mixin {
	return []ent.Mixin{createdAt{}, inApplication{ref: "fleet_variables"}}
}

func (FleetVariable) Fields() []ent.Field {
	return nameAndValue("[A-Za-z_][A-Za-z0-9_]*, not starting with FLEETGATE_, unique in the application")
}

func (FleetVariable) Indexes() []ent.Index {
	return []ent.Index{index.Fields("application_id", "name").Unique()}
}

func (FleetVariable) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput), schema.Comment("An environment variable of every device of an application.")}
}

func (FleetVariable) Policy() ent.Policy {
	return policy.Fleet(access.Configuration, access.Configuration)
}

// ConfigVariable configures the device supervisor of every device of an
// application; its name carries the reserved prefix.
type ConfigVariable struct{ ent.Schema }

func (ConfigVariable) Mixin() []ent.Mixin {
	return []ent.Mixin{createdAt{}, inApplication{ref: "config_variables"}}
}

func (ConfigVariable) Fields() []ent.Field {
	return nameAndValue("FLEETGATE_ and [A-Za-z0-9_]*, unique in the application")
}

func (ConfigVariable) Indexes() []ent.Index {
	return []ent.Index{index.Fields("application_id", "name").Unique()}
}

func (ConfigVariable) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput), schema.Comment("A configuration variable of the device supervisor of every device of an application; its name starts with FLEETGATE_.")}
}

func (ConfigVariable) Policy() ent.Policy {
	return policy.Fleet(access.Configuration, access.Configuration)
}

// Release is a build of the application's code, pushed for its devices.
type Release struct{ ent.Schema }

func (Release) Mixin() []ent.Mixin {
	return []ent.Mixin{createdAt{}, inApplication{ref: "releases"}, requestedBy{field: "createdBy"}}
}

func (Release) Fields() []ent.Field {
	return []ent.Field{
		field.String("commit").NotEmpty().MaxLen(40).Immutable().
			Comment("The source commit: 7–40 lowercase hexadecimal characters, unique in the application."),
		field.String("note").Default("").Immutable().Validate(multiline).
			Comment("Up to 1000 characters; empty when none."),
	}
}

func (Release) Indexes() []ent.Index {
	return []ent.Index{index.Fields("application_id", "commit").Unique()}
}

func (Release) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput), schema.Comment("A release of the application's code (a commit) for its devices.")}
}

func (Release) Policy() ent.Policy { return policy.Fleet(access.Push, access.Push) }

// DeviceAction is an action asked of one device, waiting for its agent.
type DeviceAction struct{ ent.Schema }

func (DeviceAction) Mixin() []ent.Mixin {
	return []ent.Mixin{createdAt{}, inApplication{ref: "device_actions"}, inDevice{ref: "pending_actions"}, requestedBy{field: "requestedBy"}}
}

func (DeviceAction) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("action").Values("RESTART", "REBOOT", "SHUTDOWN", "IDENTIFY", "PURGE_DATA").
			Immutable().Comment("What the device is asked to do.").
			Annotations(entgql.Type("DeviceActionKind"), EnumDoc{
				Type: "What a device can be asked to do (requestDeviceAction); its agent carries it out.",
				Values: map[string]string{
					"RESTART":    "Restart the application on the device.",
					"REBOOT":     "Reboot the device.",
					"SHUTDOWN":   "Shut the device down.",
					"IDENTIFY":   "Make the device show itself (e.g. blink a light), to find it among others.",
					"PURGE_DATA": "Delete the application's data on the device.",
				},
			}),
	}
}

func (DeviceAction) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput), schema.Comment("An action asked of one device, pending for its agent.")}
}

func (DeviceAction) Policy() ent.Policy {
	return policy.Fleet(access.DeviceActions, access.DeviceActions)
}

// FleetAction is an action asked of every device of an application.
type FleetAction struct{ ent.Schema }

func (FleetAction) Mixin() []ent.Mixin {
	return []ent.Mixin{createdAt{}, inApplication{ref: "fleet_actions"}, requestedBy{field: "requestedBy"}}
}

func (FleetAction) Fields() []ent.Field {
	return []ent.Field{
		field.Enum("action").Values("RESTART_ALL", "REBOOT_ALL", "PURGE_ALL", "PIN_RELEASE").
			Immutable().Comment("What every device is asked to do.").
			Annotations(entgql.Type("FleetActionKind"), EnumDoc{
				Type: "What every device of an application can be asked to do (requestFleetAction).",
				Values: map[string]string{
					"RESTART_ALL": "Restart the application on every device.",
					"REBOOT_ALL":  "Reboot every device.",
					"PURGE_ALL":   "Delete the application's data on every device.",
					"PIN_RELEASE": "Run one release (FleetAction.release) on every device; needs releaseId.",
				},
			}),
		field.Int("release_id").Optional().Nillable().Immutable().Annotations(hidden()),
	}
}

func (FleetAction) Edges() []ent.Edge {
	return []ent.Edge{
		edge.To("release", Release.Type).Field("release_id").Unique().Immutable().
			Comment("The release a PIN_RELEASE pins; null for the other actions."),
	}
}

func (FleetAction) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection(), entgql.Skip(entgql.SkipWhereInput), schema.Comment("An action asked of every device of an application, pending for their agents.")}
}

func (FleetAction) Policy() ent.Policy {
	return policy.Fleet(access.FleetActions, access.FleetActions)
}

// ProvisioningKey lets a device image register devices in one
// application, and nothing else. Only its SHA-256 is stored.
type ProvisioningKey struct{ ent.Schema }

func (ProvisioningKey) Mixin() []ent.Mixin {
	return []ent.Mixin{createdAt{}, inApplication{ref: "provisioning_keys"}, requestedBy{field: "createdBy"}}
}

func (ProvisioningKey) Fields() []ent.Field {
	return []ent.Field{
		field.Bytes("hash").Unique().Immutable().Sensitive().Annotations(hidden()),
		field.String("prefix").Default("").Immutable().
			Comment("The key's first 12 characters (fgp_…), to tell keys apart. The key itself was shown once, by downloadImageConfig."),
	}
}

func (ProvisioningKey) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.Skip(entgql.SkipWhereInput), schema.Comment("A key a device image carries to register devices in one application, and do nothing else (downloadImageConfig). Only its SHA-256 is stored.")}
}

func (ProvisioningKey) Policy() ent.Policy {
	return policy.Fleet(access.Configuration, access.Configuration)
}

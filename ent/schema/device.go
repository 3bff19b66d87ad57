package schema

import (
	"fleetgate/internal/access"
	"fleetgate/internal/policy"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Device is a machine in an application's fleet.
type Device struct{ ent.Schema }

func (Device) Mixin() []ent.Mixin { return []ent.Mixin{createdAt{}} }

func (Device) Fields() []ent.Field {
	return []ent.Field{
		field.String("uuid").Unique().Immutable().MinLen(32).MaxLen(32).
			Comment("32 lowercase hexadecimal characters, unique across the service: the device's identity, as in SSH grants."),
		field.String("name").NotEmpty().Validate(line).
			Comment("1–100 characters."),
		field.String("note").Default("").Validate(multiline).
			Comment("Free text, up to 1000 characters; empty when none."),
		field.Int("application_id").Immutable().Annotations(hidden()),
	}
}

func (Device) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("application", Application.Type).Ref("devices").
			Field("application_id").Unique().Required().Immutable().
			Comment("The application the device belongs to."),
		edge.To("tags", DeviceTag.Type).Annotations(entsql.OnDelete(entsql.Cascade)).
			Comment("Its tags (setDeviceTag), at most 100."),
		edge.To("variables", DeviceVariable.Type).Annotations(entsql.OnDelete(entsql.Cascade)).
			Comment("Its own environment variables (setDeviceVariable), at most 200."),
		edge.To("pending_actions", DeviceAction.Type).
			Comment("Actions asked of the device (requestDeviceAction), oldest first, for its agent to poll.").
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
	}
}

func (Device) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		schema.Comment("A machine in an application's fleet."),
	}
}

// Registering and removing devices is ADD_REMOVE_DEVICE; changing a
// device's name or note is device metadata, TAGS (README "Organizations, applications and members").
func (Device) Policy() ent.Policy { return policy.Fleet(access.AddRemoveDevice, access.Tags) }

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
		// 32 lowercase hex characters, unique across the service.
		field.String("uuid").Unique().Immutable().MinLen(32).MaxLen(32),
		field.String("name").NotEmpty().Validate(line),
		field.String("note").Default("").Validate(multiline),
		field.Int("application_id").Immutable().Annotations(hidden()),
	}
}

func (Device) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("application", Application.Type).Ref("devices").
			Field("application_id").Unique().Required().Immutable(),
		edge.To("tags", DeviceTag.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("variables", DeviceVariable.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		// Actions asked of the device, oldest first, for its agent to poll.
		edge.To("pending_actions", DeviceAction.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
	}
}

func (Device) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

// Registering and removing devices is ADD_REMOVE_DEVICE; changing a
// device's name or note is device metadata, TAGS (README "Organizations, applications and members").
func (Device) Policy() ent.Policy { return policy.Fleet(access.AddRemoveDevice, access.Tags) }

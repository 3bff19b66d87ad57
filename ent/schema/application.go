package schema

import (
	"fleetgate/internal/policy"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect/entsql"
	"entgo.io/ent/schema"
	"entgo.io/ent/schema/edge"
	"entgo.io/ent/schema/field"
)

// Application is a fleet of devices, owned by one organization.
type Application struct{ ent.Schema }

func (Application) Mixin() []ent.Mixin { return []ent.Mixin{createdAt{}} }

func (Application) Fields() []ent.Field {
	return []ent.Field{
		field.String("name").NotEmpty().Validate(line),
		// "orgHandle/app-name", unique across the service.
		field.String("slug").Unique().NotEmpty().MaxLen(100).Validate(line),
		field.Enum("type").Values("STARTER", "ESSENTIALS", "MICROSERVICES"),
		field.Int("organization_id").Immutable().Annotations(hidden()),
	}
}

func (Application) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).Ref("applications").
			Field("organization_id").Unique().Required().Immutable(),
		// The users the application is shared with. Administrators of the
		// organization are not listed: their role comes from the organization.
		edge.To("members", ApplicationMembership.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
		// Everything of the fleet goes with the application, in the one
		// DELETE statement (ON DELETE CASCADE).
		edge.To("devices", Device.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
		edge.To("releases", Release.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
		edge.To("fleet_variables", FleetVariable.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("config_variables", ConfigVariable.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("fleet_actions", FleetAction.Type).
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
		edge.To("device_tags", DeviceTag.Type).Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("device_variables", DeviceVariable.Type).Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("device_actions", DeviceAction.Type).Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("provisioning_keys", ProvisioningKey.Type).Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (Application) Annotations() []schema.Annotation {
	return []schema.Annotation{entgql.RelayConnection()}
}

func (Application) Policy() ent.Policy { return policy.Application() }

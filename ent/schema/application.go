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
		field.String("name").NotEmpty().Validate(line).
			Comment("The name it was created with, 1–64 characters."),
		field.String("slug").Unique().NotEmpty().MaxLen(100).Validate(line).
			Comment("orgHandle/app-name: the organization's handle, then the name lowercased with each run of characters other than a-z and 0-9 turned into '-'; unique. application(slug:) finds it."),
		field.Enum("type").Values("STARTER", "ESSENTIALS", "MICROSERVICES").
			Comment("Chosen at creation; STARTER limits the membership roles.").
			Annotations(entgql.Type("ApplicationType"), EnumDoc{
				Type: "The kind of an application.",
				Values: map[string]string{
					"STARTER":       "Members can be DEVELOPER only, whatever the plan.",
					"ESSENTIALS":    "Members can have any role the organization's plan allows.",
					"MICROSERVICES": "Members can have any role the organization's plan allows.",
				},
			}),
		field.Int("organization_id").Immutable().Annotations(hidden()),
	}
}

func (Application) Edges() []ent.Edge {
	return []ent.Edge{
		edge.From("organization", Organization.Type).Ref("applications").
			Field("organization_id").Unique().Required().Immutable().
			Comment("The organization that owns it."),
		edge.To("members", ApplicationMembership.Type).
			Comment("The memberships it is shared by. Administrators of the organization are not listed: their role comes from the organization.").
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
		// Everything of the fleet goes with the application, in the one
		// DELETE statement (ON DELETE CASCADE).
		edge.To("devices", Device.Type).
			Comment("Its devices.").
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
		edge.To("releases", Release.Type).
			Comment("Releases of its code (createRelease).").
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
		edge.To("fleet_variables", FleetVariable.Type).
			Comment("Environment variables of every device of the application (setFleetVariable).").
			Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("config_variables", ConfigVariable.Type).
			Comment("Configuration variables (FLEETGATE_…) of every device of the application (setConfigVariable).").
			Annotations(entsql.OnDelete(entsql.Cascade)),
		edge.To("fleet_actions", FleetAction.Type).
			Comment("Actions asked of every device (requestFleetAction), oldest first, for device agents to poll.").
			Annotations(entsql.OnDelete(entsql.Cascade), entgql.RelayConnection()),
		edge.To("device_tags", DeviceTag.Type).Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("device_variables", DeviceVariable.Type).Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("device_actions", DeviceAction.Type).Annotations(entsql.OnDelete(entsql.Cascade), hidden()),
		edge.To("provisioning_keys", ProvisioningKey.Type).
			Comment("Provisioning keys of its device images (downloadImageConfig), each until revoked.").
			Annotations(entsql.OnDelete(entsql.Cascade)),
	}
}

func (Application) Annotations() []schema.Annotation {
	return []schema.Annotation{
		entgql.RelayConnection(),
		schema.Comment("An application: a fleet of devices, owned by one organization. It exists for a caller only if they have a role on it (administering its organization, or a membership); for anyone else every path answers NOT_FOUND."),
	}
}

func (Application) Policy() ent.Policy { return policy.Application() }

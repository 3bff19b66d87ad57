package graph

import (
	"context"
	"reflect"

	"github.com/99designs/gqlgen/graphql"

	"fleetgate/ent"
	"fleetgate/ent/application"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/configvariable"
	"fleetgate/ent/device"
	"fleetgate/ent/devicetag"
	"fleetgate/ent/devicevariable"
	"fleetgate/ent/fleetvariable"
	"fleetgate/ent/migrate"
	"fleetgate/ent/provisioningkey"
	"fleetgate/internal/access"
	"fleetgate/internal/policy"
	"fleetgate/internal/viewer"
)

// targetArguments are the arguments that name what a guarded field acts on,
// in the order they are looked for, at the top level and inside input.
var targetArguments = []struct{ arg, inputField string }{
	{"applicationId", "ApplicationID"},
	{"deviceId", "DeviceID"},
	{"id", "ID"},
}

// provisioningFields are the only fields a provisioning key may use, on its
// own application (README "The fleet": device images).
var provisioningFields = map[string]bool{"registerDevice": true}

// ownMembershipFields may be applied by a member to their own application
// membership whatever their role: removing it is leaving (the seed's
// trash-can icon on the Members tab).
var ownMembershipFields = map[string]bool{"removeApplicationMember": true}

// can is the @can directive: the viewer's role on the application the field
// acts on must grant permission, and alsoNeeds when given (internal/access;
// downloadImageConfig hands out a key that registers devices). No role is
// NOT_FOUND, as if the application did not exist; a role without it is
// FORBIDDEN.
func (d Deps) can(ctx context.Context, obj any, next graphql.Resolver, permission access.Permission, alsoNeeds *access.Permission) (any, error) {
	if v, err := viewer.FromContext(ctx); err == nil && v.Credential == viewer.Provisioning {
		return provisioned(ctx, v, next)
	}
	if _, err := viewer.Require(ctx); err != nil {
		return nil, err
	}
	target, err := d.target(ctx, obj)
	if err != nil {
		return nil, err
	}
	app, err := d.applicationOf(ctx, target)
	if err != nil {
		return nil, err
	}
	if err := policy.Check(ctx, app, permission); err != nil {
		if !d.ownMembership(ctx, target) {
			return nil, err
		}
	}
	if alsoNeeds != nil {
		if err := policy.Check(ctx, app, *alsoNeeds); err != nil {
			return nil, err
		}
	}
	return next(ctx)
}

// provisioned lets a provisioning key through its fields, for its own
// application only.
func provisioned(ctx context.Context, v *viewer.Viewer, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if !provisioningFields[fc.Field.Name] {
		return nil, viewer.ErrProvisioningOnly
	}
	if id, ok := targetID(fc.Args); !ok || id != v.ApplicationID {
		return nil, policy.ErrNoApplication
	}
	return next(ctx)
}

// target is the object a guarded field acts on: its parent object, or the
// object its arguments name. An id the viewer may not see is NOT_FOUND.
func (d Deps) target(ctx context.Context, obj any) (any, error) {
	if obj != nil {
		return obj, nil
	}
	id, ok := targetID(graphql.GetFieldContext(ctx).Args)
	if !ok {
		// A schema error: @can on a field that names no application.
		return nil, errNoSuchNode
	}
	load, ok := loaders[tableOf(id)]
	if !ok {
		return nil, policy.ErrNoApplication
	}
	n, err := load(ctx, d.DB, id)
	return n, notFound(err, policy.ErrNoApplication)
}

// loaders read, through the privacy rules, the objects a guarded field may
// name by id: those that belong to an application.
var loaders = map[string]func(context.Context, *ent.Client, int) (any, error){
	application.Table: func(ctx context.Context, db *ent.Client, id int) (any, error) { return db.Application.Get(ctx, id) },
	applicationmembership.Table: func(ctx context.Context, db *ent.Client, id int) (any, error) {
		return db.ApplicationMembership.Get(ctx, id)
	},
	device.Table:         func(ctx context.Context, db *ent.Client, id int) (any, error) { return db.Device.Get(ctx, id) },
	devicetag.Table:      func(ctx context.Context, db *ent.Client, id int) (any, error) { return db.DeviceTag.Get(ctx, id) },
	devicevariable.Table: func(ctx context.Context, db *ent.Client, id int) (any, error) { return db.DeviceVariable.Get(ctx, id) },
	fleetvariable.Table:  func(ctx context.Context, db *ent.Client, id int) (any, error) { return db.FleetVariable.Get(ctx, id) },
	configvariable.Table: func(ctx context.Context, db *ent.Client, id int) (any, error) { return db.ConfigVariable.Get(ctx, id) },
	provisioningkey.Table: func(ctx context.Context, db *ent.Client, id int) (any, error) {
		return db.ProvisioningKey.Get(ctx, id)
	},
}

// tableStarts maps the first id of each table's range to the table: ids are
// global (gen.FeatureGlobalID), each table numbering from its own start.
var tableStarts = func() map[int]string {
	m := map[int]string{}
	for _, t := range migrate.Tables {
		if t.Annotation != nil && t.Annotation.IncrementStart != nil {
			m[*t.Annotation.IncrementStart] = t.Name
		}
	}
	return m
}()

// tableOf is the table an id belongs to, by ent's global-id rule ("" if
// none). Unlike Client.Noder, it loads nothing.
func tableOf(id int) string {
	return tableStarts[id/(1<<32-1)<<32]
}

func targetID(args map[string]any) (int, bool) {
	input := reflect.Indirect(reflect.ValueOf(args["input"]))
	for _, t := range targetArguments {
		if id, ok := args[t.arg].(int); ok {
			return id, true
		}
		if input.Kind() == reflect.Struct {
			if f := input.FieldByName(t.inputField); f.IsValid() && f.Kind() == reflect.Int {
				return int(f.Int()), true
			}
		}
	}
	return 0, false
}

// applicationOf finds the application an object belongs to: itself, or the
// one its ApplicationID field names (every type in loaders has one).
func (d Deps) applicationOf(ctx context.Context, obj any) (*ent.Application, error) {
	if app, ok := obj.(*ent.Application); ok {
		return app, nil
	}
	field := reflect.Indirect(reflect.ValueOf(obj)).FieldByName("ApplicationID")
	if !field.IsValid() || field.Kind() != reflect.Int {
		return nil, policy.ErrNoApplication
	}
	app, err := d.DB.Application.Get(ctx, int(field.Int()))
	return app, notFound(err, policy.ErrNoApplication)
}

// ownMembership reports whether the field is one a member may apply to
// their own membership, and target is the viewer's membership. Leaving
// changes the account, which a scoped API key cannot (viewer.RequireAccount).
func (d Deps) ownMembership(ctx context.Context, target any) bool {
	m, ok := target.(*ent.ApplicationMembership)
	if !ok || !ownMembershipFields[graphql.GetFieldContext(ctx).Field.Name] {
		return false
	}
	v, err := viewer.RequireAccount(ctx)
	return err == nil && m.UserID == v.UserID
}

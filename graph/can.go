package graph

import (
	"context"
	"reflect"

	"github.com/99designs/gqlgen/graphql"

	"fleetgate/ent"
	"fleetgate/ent/application"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/migrate"
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

// ownMembershipFields may be applied by a member to their own application
// membership whatever their role: removing it is leaving (the seed's
// trash-can icon on the Members tab).
var ownMembershipFields = map[string]bool{"removeApplicationMember": true}

// can is the @can directive: the viewer's role on the application the field
// acts on must grant permission (internal/access). No role is NOT_FOUND, as
// if the application did not exist; a role without it is FORBIDDEN.
func (d Deps) can(ctx context.Context, obj any, next graphql.Resolver, permission access.Permission) (any, error) {
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
	return next(ctx)
}

// target is the object a guarded field acts on: its parent object, or the
// object its arguments name. An id the viewer may not see is NOT_FOUND.
func (d Deps) target(ctx context.Context, obj any) (any, error) {
	if obj != nil {
		return obj, nil
	}
	id, ok := targetID(graphql.GetFieldContext(ctx).Args)
	var err error
	if !ok {
		// A schema error: @can on a field that names no application.
		return nil, errNoSuchNode
	}
	var n any
	switch tableOf(id) {
	case application.Table:
		n, err = d.DB.Application.Get(ctx, id)
	case applicationmembership.Table:
		n, err = d.DB.ApplicationMembership.Get(ctx, id)
	default:
		return nil, policy.ErrNoApplication
	}
	if ent.IsNotFound(err) {
		return nil, policy.ErrNoApplication
	}
	return n, err
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

// applicationOf finds the application an object belongs to.
func (d Deps) applicationOf(ctx context.Context, obj any) (*ent.Application, error) {
	var app *ent.Application
	var err error
	switch o := obj.(type) {
	case *ent.Application:
		return o, nil
	case *ent.ApplicationMembership:
		app, err = d.DB.Application.Get(ctx, o.ApplicationID)
	default:
		return nil, policy.ErrNoApplication
	}
	if ent.IsNotFound(err) {
		return nil, policy.ErrNoApplication
	}
	return app, err
}

// ownMembership reports whether the field is one a member may apply to
// their own membership, and target is the viewer's membership.
func (d Deps) ownMembership(ctx context.Context, target any) bool {
	m, ok := target.(*ent.ApplicationMembership)
	if !ok || !ownMembershipFields[graphql.GetFieldContext(ctx).Field.Name] {
		return false
	}
	v, err := viewer.Require(ctx)
	return err == nil && m.UserID == v.UserID
}

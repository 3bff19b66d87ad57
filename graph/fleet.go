package graph

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"

	"fleetgate/ent"
	"fleetgate/ent/configvariable"
	"fleetgate/ent/devicetag"
	"fleetgate/ent/devicevariable"
	"fleetgate/ent/fleetaction"
	"fleetgate/ent/fleetvariable"
	"fleetgate/ent/release"
	"fleetgate/graph/model"
	"fleetgate/internal/apikey"
	"fleetgate/internal/fault"
	"fleetgate/internal/text"
	"fleetgate/internal/token"
	"fleetgate/internal/viewer"
)

// Limits of the fleet side: bounded lists stay plain lists.
const (
	maxDeviceName      = 100
	maxNote            = 1000
	maxTagKey          = 100
	maxTagValue        = 1000
	maxVariableName    = 128
	maxVariableValue   = 10 << 10 // bytes
	MaxTagsPerDevice   = 100
	MaxVariablesPerSet = 200 // per device, and per application for each kind
	// ConfigPrefix starts every configuration variable's name, and no other
	// variable's: it is the device supervisor's namespace.
	ConfigPrefix = "FLEETGATE_"
)

var (
	deviceUUID      = regexp.MustCompile(`^[0-9a-f]{32}$`)
	commitHash      = regexp.MustCompile(`^[0-9a-f]{7,40}$`)
	environmentName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

func (d Deps) registerDevice(ctx context.Context, in model.RegisterDeviceInput) (*ent.Device, error) {
	name, err := text.Line.Clean("name", in.Name, 1, maxDeviceName)
	if err != nil {
		return nil, err
	}
	uuid, err := newDeviceUUID(in.UUID)
	if err != nil {
		return nil, err
	}
	dev, err := d.DB.Device.Create().SetApplicationID(in.ApplicationID).SetName(name).SetUUID(uuid).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, fault.Taken("uuid", "a device with uuid %s is already registered", uuid)
	}
	return dev, err
}

// newDeviceUUID is the given uuid, lowercased, or a random one.
func newDeviceUUID(given *string) (string, error) {
	if given == nil {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		return hex.EncodeToString(b[:]), nil
	}
	uuid := strings.ToLower(*given)
	if !deviceUUID.MatchString(uuid) {
		return "", fault.Input("uuid", "uuid must be 32 hexadecimal characters")
	}
	return uuid, nil
}

func (d Deps) updateDevice(ctx context.Context, in model.UpdateDeviceInput) (*ent.Device, error) {
	update := d.DB.Device.UpdateOneID(in.ID)
	if in.Name != nil {
		name, err := text.Line.Clean("name", *in.Name, 1, maxDeviceName)
		if err != nil {
			return nil, err
		}
		update.SetName(name)
	}
	if in.Note != nil {
		note, err := text.Multiline.Clean("note", *in.Note, 0, maxNote)
		if err != nil {
			return nil, err
		}
		update.SetNote(note)
	}
	dev, err := update.Save(ctx)
	return dev, notFoundAs(err, "device")
}

func (d Deps) requestDeviceAction(ctx context.Context, in model.DeviceActionInput) (*ent.DeviceAction, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	dev, err := d.DB.Device.Get(ctx, in.DeviceID)
	if err != nil {
		return nil, notFoundAs(err, "device")
	}
	return d.DB.DeviceAction.Create().SetApplicationID(dev.ApplicationID).SetDeviceID(dev.ID).
		SetAction(in.Action).SetRequestedByID(v.UserID).Save(ctx)
}

func (d Deps) setDeviceTag(ctx context.Context, in model.SetDeviceTagInput) (*ent.DeviceTag, error) {
	key, err := text.Line.Clean("key", in.Key, 1, maxTagKey)
	if err != nil {
		return nil, err
	}
	value, err := text.Multiline.Clean("value", in.Value, 0, maxTagValue)
	if err != nil {
		return nil, err
	}
	dev, err := d.DB.Device.Get(ctx, in.DeviceID)
	if err != nil {
		return nil, notFoundAs(err, "device")
	}
	existing := d.DB.DeviceTag.Query().Where(devicetag.DeviceID(dev.ID))
	return upsert(ctx, existing, existing.Clone().Where(devicetag.Key(key)), MaxTagsPerDevice, "tags on a device", "key", func() error {
		return d.DB.DeviceTag.Create().SetApplicationID(dev.ApplicationID).SetDeviceID(dev.ID).
			SetKey(key).SetValue(value).
			OnConflictColumns(devicetag.FieldDeviceID, devicetag.FieldKey).UpdateValue().Exec(ctx)
	})
}

func (d Deps) setDeviceVariable(ctx context.Context, in model.SetDeviceVariableInput) (*ent.DeviceVariable, error) {
	if err := checkVariable(in.Name, in.Value, false); err != nil {
		return nil, err
	}
	dev, err := d.DB.Device.Get(ctx, in.DeviceID)
	if err != nil {
		return nil, notFoundAs(err, "device")
	}
	existing := d.DB.DeviceVariable.Query().Where(devicevariable.DeviceID(dev.ID))
	return upsert(ctx, existing, existing.Clone().Where(devicevariable.Name(in.Name)), MaxVariablesPerSet, "variables on a device", "name", func() error {
		return d.DB.DeviceVariable.Create().SetApplicationID(dev.ApplicationID).SetDeviceID(dev.ID).
			SetName(in.Name).SetValue(in.Value).
			OnConflictColumns(devicevariable.FieldDeviceID, devicevariable.FieldName).UpdateValue().Exec(ctx)
	})
}

func (d Deps) setFleetVariable(ctx context.Context, in model.SetFleetVariableInput) (*ent.FleetVariable, error) {
	if err := checkVariable(in.Name, in.Value, false); err != nil {
		return nil, err
	}
	existing := d.DB.FleetVariable.Query().Where(fleetvariable.ApplicationID(in.ApplicationID))
	return upsert(ctx, existing, existing.Clone().Where(fleetvariable.Name(in.Name)), MaxVariablesPerSet, "fleet variables", "name", func() error {
		return d.DB.FleetVariable.Create().SetApplicationID(in.ApplicationID).SetName(in.Name).SetValue(in.Value).
			OnConflictColumns(fleetvariable.FieldApplicationID, fleetvariable.FieldName).UpdateValue().Exec(ctx)
	})
}

func (d Deps) setConfigVariable(ctx context.Context, in model.SetConfigVariableInput) (*ent.ConfigVariable, error) {
	if err := checkVariable(in.Name, in.Value, true); err != nil {
		return nil, err
	}
	existing := d.DB.ConfigVariable.Query().Where(configvariable.ApplicationID(in.ApplicationID))
	return upsert(ctx, existing, existing.Clone().Where(configvariable.Name(in.Name)), MaxVariablesPerSet, "configuration variables", "name", func() error {
		return d.DB.ConfigVariable.Create().SetApplicationID(in.ApplicationID).SetName(in.Name).SetValue(in.Value).
			OnConflictColumns(configvariable.FieldApplicationID, configvariable.FieldName).UpdateValue().Exec(ctx)
	})
}

// set is an ent query of the rows a set-operation adds to. Queries change
// as they run (Exist selects the id only), so each use takes a Clone.
type set[Q, T any] interface {
	Clone() Q
	Count(context.Context) (int, error)
	Exist(context.Context) (bool, error)
	Only(context.Context) (T, error)
}

// upsert sets the row named of a bounded set all: write (an INSERT … ON
// CONFLICT DO UPDATE) replaces it if it exists, and adds it if all holds
// fewer than max rows (else BAD_USER_INPUT on field). It returns the row
// as written.
func upsert[Q set[Q, T], T any](ctx context.Context, all, named Q, max int, what, field string, write func() error) (T, error) {
	var none T
	if exists, err := named.Clone().Exist(ctx); err != nil {
		return none, err
	} else if !exists {
		n, err := all.Clone().Count(ctx)
		if err != nil {
			return none, err
		}
		if n >= max {
			return none, fault.Input(field, "at most %d %s", max, what)
		}
	}
	if err := write(); err != nil {
		return none, err
	}
	return named.Clone().Only(ctx)
}

// checkVariable checks an environment variable. Configuration variables carry
// ConfigPrefix; no other variable may.
func checkVariable(name, value string, config bool) error {
	switch {
	case len(name) > maxVariableName || !environmentName.MatchString(name):
		return fault.Input("name", "name must be an environment variable name: a letter or underscore, then letters, digits or underscores, at most %d", maxVariableName)
	case config && !strings.HasPrefix(name, ConfigPrefix):
		return fault.Input("name", "configuration variable names start with %s", ConfigPrefix)
	case !config && strings.HasPrefix(name, ConfigPrefix):
		return fault.Input("name", "names starting with %s are configuration variables (setConfigVariable)", ConfigPrefix)
	case len(value) > maxVariableValue:
		return fault.Input("value", "value must be at most %d bytes", maxVariableValue)
	}
	// Not trimmed: white space in a value may matter to the program.
	if err := text.Multiline.Check(value); err != nil {
		return text.Invalid("value", err)
	}
	return nil
}

func (d Deps) createRelease(ctx context.Context, in model.CreateReleaseInput) (*ent.Release, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	commit := strings.ToLower(strings.TrimSpace(in.Commit))
	if !commitHash.MatchString(commit) {
		return nil, fault.Input("commit", "commit must be 7–40 hexadecimal characters")
	}
	note := ""
	if in.Note != nil {
		if note, err = text.Multiline.Clean("note", *in.Note, 0, maxNote); err != nil {
			return nil, err
		}
	}
	rel, err := d.DB.Release.Create().SetApplicationID(in.ApplicationID).SetCommit(commit).
		SetNote(note).SetRequestedByID(v.UserID).Save(ctx)
	if ent.IsConstraintError(err) {
		return nil, fault.Taken("commit", "the application already has a release of commit %s", commit)
	}
	return rel, err
}

func (d Deps) requestFleetAction(ctx context.Context, in model.FleetActionInput) (*ent.FleetAction, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	create := d.DB.FleetAction.Create().SetApplicationID(in.ApplicationID).SetAction(in.Action).SetRequestedByID(v.UserID)
	switch pin := in.Action == fleetaction.ActionPIN_RELEASE; {
	case pin && in.ReleaseID == nil:
		return nil, fault.Input("releaseId", "PIN_RELEASE needs the release to pin")
	case !pin && in.ReleaseID != nil:
		return nil, fault.Input("releaseId", "only PIN_RELEASE takes a release")
	case pin:
		ok, err := d.DB.Release.Query().Where(release.ID(*in.ReleaseID), release.ApplicationID(in.ApplicationID)).Exist(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fault.New(fault.NotFound, "the application has no such release")
		}
		create.SetReleaseID(*in.ReleaseID)
	}
	return create.Save(ctx)
}

func (d Deps) requestSSHAccess(ctx context.Context, deviceID int) (*model.SSHAccessGrant, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	dev, err := d.DB.Device.Get(ctx, deviceID)
	if err != nil {
		return nil, notFoundAs(err, "device")
	}
	u, err := d.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	signed, expires, err := d.Tokens.IssueSSHGrant(token.SSHGrant{
		UserID: strconv.Itoa(u.ID), Username: u.Username, DeviceUUID: dev.UUID, IssuedAt: d.Now(),
	})
	if err != nil {
		return nil, err
	}
	return &model.SSHAccessGrant{Token: signed, ExpiresAt: expires, DeviceUUID: dev.UUID}, nil
}

// imageConfig is the document a device image carries to register itself.
type imageConfig struct {
	ApplicationID   string `json:"applicationId"`
	ApplicationSlug string `json:"applicationSlug"`
	APIEndpoint     string `json:"apiEndpoint"`
	ProvisioningKey string `json:"provisioningKey"`
}

func (d Deps) downloadImageConfig(ctx context.Context, appID int) (*model.ImageConfig, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	app, err := d.DB.Application.Get(ctx, appID)
	if err != nil {
		return nil, notFoundAs(err, "application")
	}
	key, err := apikey.Provisioning.Generate()
	if err != nil {
		return nil, err
	}
	err = d.DB.ProvisioningKey.Create().SetApplicationID(app.ID).SetHash(apikey.Hash(key)).
		SetPrefix(apikey.DisplayPrefix(key)).SetRequestedByID(v.UserID).Exec(ctx)
	if err != nil {
		return nil, err
	}
	doc, err := json.MarshalIndent(imageConfig{
		ApplicationID:   strconv.Itoa(app.ID),
		ApplicationSlug: app.Slug,
		APIEndpoint:     d.PublicURL + "/graphql",
		ProvisioningKey: key,
	}, "", "  ")
	if err != nil {
		return nil, err
	}
	return &model.ImageConfig{ProvisioningKey: key, Config: string(doc)}, nil
}

// notFoundAs turns ent's not-found into NOT_FOUND naming the kind of object.
func notFoundAs(err error, what string) error {
	return notFound(err, fault.New(fault.NotFound, "no such %s", what))
}

// removed is the answer of a remove mutation: the id, or NOT_FOUND.
func removed(id int, err error, what string) (int, error) {
	if err != nil {
		return 0, notFoundAs(err, what)
	}
	return id, nil
}

package graph_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Khan/genqlient/graphql"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"

	"fleetgate/ent"
	"fleetgate/ent/application"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/configvariable"
	"fleetgate/ent/device"
	"fleetgate/ent/deviceaction"
	"fleetgate/ent/devicetag"
	"fleetgate/ent/devicevariable"
	"fleetgate/ent/fleetaction"
	"fleetgate/ent/fleetvariable"
	"fleetgate/ent/organization"
	"fleetgate/ent/organizationmembership"
	"fleetgate/ent/provisioningkey"
	"fleetgate/ent/release"
	"fleetgate/ent/securityevent"
	"fleetgate/internal/access"
	"fleetgate/internal/apikey"
	. "fleetgate/internal/apitest"
)

// guardedFields reads the SDL and returns every field carrying @can, as
// "Type.field", with the permission it names.
func guardedFields(t *testing.T) map[string]guard {
	t.Helper()
	schema := loadSDL(t)
	out := map[string]guard{}
	for _, def := range schema.Types {
		if def.BuiltIn || def.Kind != ast.Object && def.Kind != ast.Interface {
			continue
		}
		for _, f := range def.Fields {
			for _, d := range f.Directives.ForNames("can") {
				arg := d.Arguments.ForName("permission")
				if arg == nil || arg.Value == nil {
					t.Fatalf("%s.%s: @can without a permission", def.Name, f.Name)
				}
				g := guard{perm: access.Permission(arg.Value.Raw)}
				if also := d.Arguments.ForName("alsoNeeds"); also != nil && also.Value != nil {
					g.alsoNeeds = access.Permission(also.Value.Raw)
				}
				for _, p := range []access.Permission{g.perm, g.alsoNeeds} {
					if p != "" && !slices.Contains(access.Permissions(), p) {
						t.Fatalf("%s.%s: @can names %s, no permission of internal/access", def.Name, f.Name, p)
					}
				}
				out[def.Name+"."+f.Name] = g
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("the SDL guards no field with @can: the directive or its parsing is gone")
	}
	return out
}

// guard is what a field's @can asks: perm, and alsoNeeds when given.
type guard struct{ perm, alsoNeeds access.Permission }

// loadSDL parses the schema files.
func loadSDL(t *testing.T) *ast.Schema {
	t.Helper()
	paths, err := filepath.Glob("../schema/*.graphql")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no SDL under ../schema (%v)", err)
	}
	var sources []*ast.Source
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		sources = append(sources, &ast.Source{Name: p, Input: string(b)})
	}
	schema, gerr := gqlparser.LoadSchema(sources...)
	if gerr != nil {
		t.Fatalf("load SDL: %v", gerr)
	}
	return schema
}

// walkSubjects: one user per effective role, and a signed-up stranger.
var walkSubjects = []access.Role{access.Administrator, access.Developer, access.Operator, access.Observer, outsider}

// outsider stands for the signed-up user without any role on the fleet.
const outsider access.Role = "NON_MEMBER"

// walkCase is one subject about to act on a fleet.
type walkCase struct {
	s       *Server
	f       Fleet
	subject access.Role
	me      Account        // the subject
	c       graphql.Client // the subject's client
	newbie  Account        // signed up, member of nothing, for adding
	fx      *walkFixture   // what arrange put in place and do got back
	// scope is that of the API key c sends, if it is a scoped key: what
	// the subject may do is then also what it allows.
	scope *access.Scope
}

// walkFixture is what one operation acts on, arranged in the database past
// the privacy rules just before the subject acts, and what it answered.
type walkFixture struct {
	device, sibling          *ent.Device
	tag, keepTag             *ent.DeviceTag
	variable, keepVariable   *ent.DeviceVariable
	fleetVar, keepFleetVar   *ent.FleetVariable
	configVar, keepConfigVar *ent.ConfigVariable
	release                  *ent.Release
	key, keepKey             *ent.ProvisioningKey
	uuid, commit             string // what registerDevice and createRelease are given
	grant                    *RequestSshAccessRequestSshAccessSshAccessGrant
	image                    *DownloadImageConfigDownloadImageConfig
}

// others returns the membership the subject acts on: the OPERATOR's, or,
// for the OPERATOR itself, the OBSERVER's (never the subject's own, which
// removeApplicationMember allows to anyone as leaving).
func (w walkCase) others() string {
	if w.subject == access.Operator {
		return w.f.Memberships[access.Observer]
	}
	return w.f.Memberships[access.Operator]
}

// app and myID are the database ids of the fleet's application and of the subject.
func (w walkCase) app(t *testing.T) int  { return dbID(t, w.f.AppID) }
func (w walkCase) myID(t *testing.T) int { return dbID(t, w.me.ID) }

// admin is the user the arranged rows are requested by: not the subject
// (unless it is the ADMINISTRATOR), so "requested by the subject" means the
// subject's request.
func (w walkCase) admin(t *testing.T) int { return dbID(t, w.f.Users[access.Administrator].ID) }

func (w walkCase) newDevice(t *testing.T, name string) *ent.Device {
	t.Helper()
	return Must(w.s.DB.Device.Create().SetApplicationID(w.app(t)).SetName(name).SetUUID(walkHex(t, 16)).Save(ctx))(t)
}

func (w walkCase) newTag(t *testing.T, d *ent.Device, key, value string) *ent.DeviceTag {
	t.Helper()
	return Must(w.s.DB.DeviceTag.Create().SetApplicationID(d.ApplicationID).SetDeviceID(d.ID).
		SetKey(key).SetValue(value).Save(ctx))(t)
}

func (w walkCase) newDeviceVariable(t *testing.T, d *ent.Device, name, value string) *ent.DeviceVariable {
	t.Helper()
	return Must(w.s.DB.DeviceVariable.Create().SetApplicationID(d.ApplicationID).SetDeviceID(d.ID).
		SetName(name).SetValue(value).Save(ctx))(t)
}

func (w walkCase) newFleetVariable(t *testing.T, name, value string) *ent.FleetVariable {
	t.Helper()
	return Must(w.s.DB.FleetVariable.Create().SetApplicationID(w.app(t)).SetName(name).SetValue(value).Save(ctx))(t)
}

func (w walkCase) newConfigVariable(t *testing.T, name, value string) *ent.ConfigVariable {
	t.Helper()
	return Must(w.s.DB.ConfigVariable.Create().SetApplicationID(w.app(t)).SetName(name).SetValue(value).Save(ctx))(t)
}

func (w walkCase) newProvisioningKey(t *testing.T) *ent.ProvisioningKey {
	t.Helper()
	return Must(w.s.DB.ProvisioningKey.Create().SetApplicationID(w.app(t)).SetHash([]byte(walkHex(t, 32))).
		SetPrefix("fgp_walk").SetRequestedByID(w.admin(t)).Save(ctx))(t)
}

func (w walkCase) newRelease(t *testing.T) *ent.Release {
	t.Helper()
	return Must(w.s.DB.Release.Create().SetApplicationID(w.app(t)).SetCommit(walkHex(t, 20)).
		SetRequestedByID(w.admin(t)).Save(ctx))(t)
}

// guardedOp exercises one @can field. arrange (optional) puts in place what
// the operation acts on; do performs it as the subject and checks the answer
// when it succeeds; done reports, from the database, whether its effect is
// there.
type guardedOp struct {
	perm access.Permission // what README "Organizations, applications and members" says guards the field
	// fresh runs the operation on a fleet of its own for each subject: it
	// deletes the application or changes its memberships, which the other
	// operations rely on. The others run one after another on one fleet
	// per subject, each on rows it arranged for itself (its own device, its
	// own names), so comparing the whole fleet before and after still
	// proves a refusal changed nothing; a removal that succeeds is checked
	// to have spared the rows arranged beside its target.
	fresh   bool
	arrange func(t *testing.T, w walkCase)
	do      func(t *testing.T, w walkCase) error
	done    func(t *testing.T, w walkCase) bool
}

// guardedOps covers every @can field of the SDL; a field added with @can
// must be added here (TestMatrixWalk fails until it is).
var guardedOps = map[string]guardedOp{
	"Mutation.addApplicationMember": {
		perm: access.AddMembers,
		do: func(t *testing.T, w walkCase) error {
			r, err := AddApplicationMember(ctx, w.c, AddApplicationMemberInput{
				ApplicationId: w.f.AppID, UsernameOrEmail: w.newbie.Username, Role: ApplicationRoleDeveloper,
			})
			if err == nil {
				if m := r.AddApplicationMember; m.User.Id != w.newbie.ID || m.Role != ApplicationRoleDeveloper || m.Application.Id != w.f.AppID {
					t.Errorf("added %+v", m)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			return Must(w.s.DB.ApplicationMembership.Query().Where(
				applicationmembership.ApplicationID(dbID(t, w.f.AppID)),
				applicationmembership.UserID(dbID(t, w.newbie.ID)),
				applicationmembership.RoleEQ(access.Developer)).Exist(ctx))(t)
		},
	},
	"Mutation.updateApplicationMember": {
		perm:  access.AddMembers,
		fresh: true,
		do: func(t *testing.T, w walkCase) error {
			r, err := UpdateApplicationMember(ctx, w.c, UpdateApplicationMemberInput{Id: w.others(), Role: ApplicationRoleDeveloper})
			if err == nil {
				if m := r.UpdateApplicationMember; m.Id != w.others() || m.Role != ApplicationRoleDeveloper {
					t.Errorf("updated %+v", m)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			m := Must(w.s.DB.ApplicationMembership.Get(ctx, dbID(t, w.others())))(t)
			return m.Role == access.Developer
		},
	},
	"Mutation.removeApplicationMember": {
		perm:  access.AddMembers,
		fresh: true,
		do: func(t *testing.T, w walkCase) error {
			r, err := RemoveApplicationMember(ctx, w.c, w.others())
			if err == nil && r.RemoveApplicationMember != w.others() {
				t.Errorf("removed %s, want %s", r.RemoveApplicationMember, w.others())
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			return !Must(w.s.DB.ApplicationMembership.Query().Where(
				applicationmembership.ID(dbID(t, w.others()))).Exist(ctx))(t)
		},
	},
	"Mutation.deleteApplication": {
		perm:  access.DeleteApplication,
		fresh: true,
		// One of everything a fleet holds: a refusal keeps it all, the
		// deletion takes it all.
		arrange: func(t *testing.T, w walkCase) {
			w.fx.device = w.newDevice(t, "walk fleet")
			w.newTag(t, w.fx.device, "walk", "fleet")
			w.newDeviceVariable(t, w.fx.device, "WALK", "fleet")
			Must(w.s.DB.DeviceAction.Create().SetApplicationID(w.app(t)).SetDeviceID(w.fx.device.ID).
				SetAction(deviceaction.ActionRESTART).SetRequestedByID(w.admin(t)).Save(ctx))(t)
			w.newFleetVariable(t, "WALK", "fleet")
			w.newConfigVariable(t, "FLEETGATE_WALK", "fleet")
			w.fx.release = w.newRelease(t)
			Must(w.s.DB.FleetAction.Create().SetApplicationID(w.app(t)).SetAction(fleetaction.ActionPIN_RELEASE).
				SetReleaseID(w.fx.release.ID).SetRequestedByID(w.admin(t)).Save(ctx))(t)
			Must(w.s.DB.ProvisioningKey.Create().SetApplicationID(w.app(t)).SetHash(apikey.Hash(walkHex(t, 32))).
				SetRequestedByID(w.admin(t)).Save(ctx))(t)
		},
		do: func(t *testing.T, w walkCase) error {
			r, err := DeleteApplication(ctx, w.c, w.f.AppID)
			if err == nil && r.DeleteApplication != w.f.AppID {
				t.Errorf("deleted %s, want %s", r.DeleteApplication, w.f.AppID)
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			app := dbID(t, w.f.AppID)
			gone := !Must(w.s.DB.Application.Query().Where(application.ID(app)).Exist(ctx))(t)
			members := Must(w.s.DB.ApplicationMembership.Query().Where(applicationmembership.ApplicationID(app)).Count(ctx))(t)
			if gone && members != 0 {
				t.Errorf("application deleted but %d memberships remain", members)
			}
			if gone {
				if left := walkFleetRows(t, w.s, app); left != "" {
					t.Errorf("application deleted, but of its fleet remain:\n%s", left)
				}
			}
			return gone
		},
	},
	"Mutation.registerDevice": {
		perm:    access.AddRemoveDevice,
		arrange: func(t *testing.T, w walkCase) { w.fx.uuid = walkHex(t, 16) },
		do: func(t *testing.T, w walkCase) error {
			given := strings.ToUpper(w.fx.uuid)
			r, err := RegisterDevice(ctx, w.c, RegisterDeviceInput{ApplicationId: w.f.AppID, Name: "walk registered", Uuid: &given})
			if err == nil {
				if d := r.RegisterDevice; d.Uuid != w.fx.uuid || d.Name != "walk registered" || d.Note != "" {
					t.Errorf("registered %+v, want uuid %s", d, w.fx.uuid)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			return Must(w.s.DB.Device.Query().Where(device.UUID(w.fx.uuid),
				device.ApplicationID(w.app(t)), device.Name("walk registered")).Exist(ctx))(t)
		},
	},
	"Mutation.removeDevice": {
		perm: access.AddRemoveDevice,
		arrange: func(t *testing.T, w walkCase) {
			w.fx.device = w.newDevice(t, "walk doomed")
			w.fx.tag = w.newTag(t, w.fx.device, "walk", "doomed")
			w.fx.variable = w.newDeviceVariable(t, w.fx.device, "WALK", "doomed")
			Must(w.s.DB.DeviceAction.Create().SetApplicationID(w.app(t)).SetDeviceID(w.fx.device.ID).
				SetAction(deviceaction.ActionREBOOT).SetRequestedByID(w.admin(t)).Save(ctx))(t)
			w.fx.sibling = w.newDevice(t, "walk kept")
			w.fx.keepTag = w.newTag(t, w.fx.sibling, "walk", "kept")
		},
		do: func(t *testing.T, w walkCase) error {
			id := strconv.Itoa(w.fx.device.ID)
			r, err := RemoveDevice(ctx, w.c, id)
			if err == nil && r.RemoveDevice != id {
				t.Errorf("removed %s, want %s", r.RemoveDevice, id)
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			dev := w.fx.device.ID
			gone := !Must(w.s.DB.Device.Query().Where(device.ID(dev)).Exist(ctx))(t)
			if gone {
				tags := Must(w.s.DB.DeviceTag.Query().Where(devicetag.DeviceID(dev)).Count(ctx))(t)
				vars := Must(w.s.DB.DeviceVariable.Query().Where(devicevariable.DeviceID(dev)).Count(ctx))(t)
				actions := Must(w.s.DB.DeviceAction.Query().Where(deviceaction.DeviceID(dev)).Count(ctx))(t)
				if tags+vars+actions != 0 {
					t.Errorf("device removed, but %d tags, %d variables, %d actions of it remain", tags, vars, actions)
				}
				if !Must(w.s.DB.DeviceTag.Query().Where(devicetag.ID(w.fx.keepTag.ID), devicetag.DeviceID(w.fx.sibling.ID)).Exist(ctx))(t) {
					t.Errorf("removing device %d took another device or its tag with it", dev)
				}
			}
			return gone
		},
	},
	"Mutation.updateDevice": {
		perm:    access.Tags,
		arrange: func(t *testing.T, w walkCase) { w.fx.device = w.newDevice(t, "walk before") },
		do: func(t *testing.T, w walkCase) error {
			id, name, note := strconv.Itoa(w.fx.device.ID), "walk after", "walk note\nsecond line"
			r, err := UpdateDevice(ctx, w.c, UpdateDeviceInput{Id: id, Name: &name, Note: &note})
			if err == nil {
				if d := r.UpdateDevice; d.Id != id || d.Uuid != w.fx.device.UUID || d.Name != name || d.Note != note {
					t.Errorf("updated %+v", d.DeviceFields)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			d := Must(w.s.DB.Device.Get(ctx, w.fx.device.ID))(t)
			return d.Name == "walk after" && d.Note == "walk note\nsecond line"
		},
	},
	"Mutation.requestDeviceAction": {
		perm:    access.DeviceActions,
		arrange: func(t *testing.T, w walkCase) { w.fx.device = w.newDevice(t, "walk identified") },
		do: func(t *testing.T, w walkCase) error {
			r, err := RequestDeviceAction(ctx, w.c, DeviceActionInput{DeviceId: strconv.Itoa(w.fx.device.ID), Action: DeviceActionKindIdentify})
			if err == nil {
				if a := r.RequestDeviceAction; a.Action != DeviceActionKindIdentify || a.RequestedBy == nil || a.RequestedBy.Id != w.me.ID {
					t.Errorf("requested %+v (by %+v)", a, a.RequestedBy)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			return Must(w.s.DB.DeviceAction.Query().Where(deviceaction.DeviceID(w.fx.device.ID),
				deviceaction.ApplicationID(w.app(t)), deviceaction.ActionEQ(deviceaction.ActionIDENTIFY),
				deviceaction.RequestedByID(w.myID(t))).Exist(ctx))(t)
		},
	},
	"Mutation.setDeviceTag": {
		perm: access.Tags,
		arrange: func(t *testing.T, w walkCase) {
			w.fx.device = w.newDevice(t, "walk tagged")
			w.fx.tag = w.newTag(t, w.fx.device, "walk", "before")
		},
		do: func(t *testing.T, w walkCase) error {
			r, err := SetDeviceTag(ctx, w.c, SetDeviceTagInput{DeviceId: strconv.Itoa(w.fx.device.ID), Key: "walk", Value: "after"})
			if err == nil {
				if g := r.SetDeviceTag; g.Id != strconv.Itoa(w.fx.tag.ID) || g.Key != "walk" || g.Value != "after" {
					t.Errorf("set %+v, want tag %d replaced", g, w.fx.tag.ID)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			tags := Must(w.s.DB.DeviceTag.Query().Where(devicetag.DeviceID(w.fx.device.ID), devicetag.Key("walk")).All(ctx))(t)
			return len(tags) == 1 && tags[0].Value == "after"
		},
	},
	"Mutation.removeDeviceTag": {
		perm: access.Tags,
		arrange: func(t *testing.T, w walkCase) {
			w.fx.device = w.newDevice(t, "walk untagged")
			w.fx.tag = w.newTag(t, w.fx.device, "walk", "doomed")
			w.fx.keepTag = w.newTag(t, w.fx.device, "keep", "kept")
		},
		do: func(t *testing.T, w walkCase) error {
			id := strconv.Itoa(w.fx.tag.ID)
			r, err := RemoveDeviceTag(ctx, w.c, id)
			if err == nil && r.RemoveDeviceTag != id {
				t.Errorf("removed %s, want %s", r.RemoveDeviceTag, id)
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			gone := !Must(w.s.DB.DeviceTag.Query().Where(devicetag.ID(w.fx.tag.ID)).Exist(ctx))(t)
			if gone && !Must(w.s.DB.DeviceTag.Query().Where(devicetag.ID(w.fx.keepTag.ID)).Exist(ctx))(t) {
				t.Error("removing one tag took the device's other tag with it")
			}
			return gone
		},
	},
	"Mutation.setDeviceVariable": {
		perm: access.Variables,
		arrange: func(t *testing.T, w walkCase) {
			w.fx.device = w.newDevice(t, "walk configured")
			w.fx.variable = w.newDeviceVariable(t, w.fx.device, "WALK", "before")
		},
		do: func(t *testing.T, w walkCase) error {
			r, err := SetDeviceVariable(ctx, w.c, SetDeviceVariableInput{DeviceId: strconv.Itoa(w.fx.device.ID), Name: "WALK", Value: "after"})
			if err == nil {
				if v := r.SetDeviceVariable; v.Id != strconv.Itoa(w.fx.variable.ID) || v.Name != "WALK" || v.Value != "after" {
					t.Errorf("set %+v, want variable %d replaced", v, w.fx.variable.ID)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			vars := Must(w.s.DB.DeviceVariable.Query().Where(devicevariable.DeviceID(w.fx.device.ID), devicevariable.Name("WALK")).All(ctx))(t)
			return len(vars) == 1 && vars[0].Value == "after"
		},
	},
	"Mutation.removeDeviceVariable": {
		perm: access.Variables,
		arrange: func(t *testing.T, w walkCase) {
			w.fx.device = w.newDevice(t, "walk unconfigured")
			w.fx.variable = w.newDeviceVariable(t, w.fx.device, "WALK", "doomed")
			w.fx.keepVariable = w.newDeviceVariable(t, w.fx.device, "KEEP", "kept")
		},
		do: func(t *testing.T, w walkCase) error {
			id := strconv.Itoa(w.fx.variable.ID)
			r, err := RemoveDeviceVariable(ctx, w.c, id)
			if err == nil && r.RemoveDeviceVariable != id {
				t.Errorf("removed %s, want %s", r.RemoveDeviceVariable, id)
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			gone := !Must(w.s.DB.DeviceVariable.Query().Where(devicevariable.ID(w.fx.variable.ID)).Exist(ctx))(t)
			if gone && !Must(w.s.DB.DeviceVariable.Query().Where(devicevariable.ID(w.fx.keepVariable.ID)).Exist(ctx))(t) {
				t.Error("removing one device variable took the device's other variable with it")
			}
			return gone
		},
	},
	"Mutation.requestSshAccess": {
		perm:    access.SSHAccess,
		arrange: func(t *testing.T, w walkCase) { w.fx.device = w.newDevice(t, "walk ssh") },
		do: func(t *testing.T, w walkCase) error {
			r, err := RequestSshAccess(ctx, w.c, strconv.Itoa(w.fx.device.ID))
			if err == nil {
				g := r.RequestSshAccess
				w.fx.grant = &g
				if now := time.Now(); g.DeviceUuid != w.fx.device.UUID || !g.ExpiresAt.After(now) || g.ExpiresAt.After(now.Add(time.Minute+time.Second)) {
					t.Errorf("granted %+v for device %s at %v", g, w.fx.device.UUID, now)
				}
			}
			return err
		},
		// No grant is stored: the effect is the signed grant, checked
		// here by its payload (its signature: TestSSHGrant).
		done: func(t *testing.T, w walkCase) bool {
			if w.fx.grant == nil {
				return false
			}
			c := walkJWTPayload(t, w.fx.grant.Token)
			if c.Exp != float64(w.fx.grant.ExpiresAt.Unix()) || c.Exp-c.Iat != 60 {
				t.Errorf("grant iat %v exp %v, answered expiresAt %v", c.Iat, c.Exp, w.fx.grant.ExpiresAt)
			}
			aud := bytes.Equal(c.Aud, []byte(`"ssh"`)) || bytes.Equal(c.Aud, []byte(`["ssh"]`))
			return aud && c.Sub == w.me.ID && c.Device == w.fx.device.UUID
		},
	},
	"Mutation.createRelease": {
		perm:    access.Push,
		arrange: func(t *testing.T, w walkCase) { w.fx.commit = walkHex(t, 20) },
		do: func(t *testing.T, w walkCase) error {
			note := "walk release"
			r, err := CreateRelease(ctx, w.c, CreateReleaseInput{ApplicationId: w.f.AppID, Commit: strings.ToUpper(w.fx.commit), Note: &note})
			if err == nil {
				if rel := r.CreateRelease; rel.Commit != w.fx.commit || rel.Note != note || rel.CreatedBy == nil || rel.CreatedBy.Id != w.me.ID {
					t.Errorf("released %+v (by %+v), want commit %s", rel, rel.CreatedBy, w.fx.commit)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			return Must(w.s.DB.Release.Query().Where(release.ApplicationID(w.app(t)), release.Commit(w.fx.commit),
				release.Note("walk release"), release.RequestedByID(w.myID(t))).Exist(ctx))(t)
		},
	},
	"Mutation.setFleetVariable": {
		perm:    access.Configuration,
		arrange: func(t *testing.T, w walkCase) { w.fx.fleetVar = w.newFleetVariable(t, "WALK_SET", "before") },
		do: func(t *testing.T, w walkCase) error {
			r, err := SetFleetVariable(ctx, w.c, SetFleetVariableInput{ApplicationId: w.f.AppID, Name: "WALK_SET", Value: "after"})
			if err == nil {
				if v := r.SetFleetVariable; v.Id != strconv.Itoa(w.fx.fleetVar.ID) || v.Name != "WALK_SET" || v.Value != "after" {
					t.Errorf("set %+v, want fleet variable %d replaced", v, w.fx.fleetVar.ID)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			vars := Must(w.s.DB.FleetVariable.Query().Where(fleetvariable.ApplicationID(w.app(t)), fleetvariable.Name("WALK_SET")).All(ctx))(t)
			return len(vars) == 1 && vars[0].Value == "after"
		},
	},
	"Mutation.removeFleetVariable": {
		perm: access.Configuration,
		arrange: func(t *testing.T, w walkCase) {
			w.fx.fleetVar = w.newFleetVariable(t, "WALK_GONE", "doomed")
			w.fx.keepFleetVar = w.newFleetVariable(t, "WALK_KEEP", "kept")
		},
		do: func(t *testing.T, w walkCase) error {
			id := strconv.Itoa(w.fx.fleetVar.ID)
			r, err := RemoveFleetVariable(ctx, w.c, id)
			if err == nil && r.RemoveFleetVariable != id {
				t.Errorf("removed %s, want %s", r.RemoveFleetVariable, id)
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			gone := !Must(w.s.DB.FleetVariable.Query().Where(fleetvariable.ID(w.fx.fleetVar.ID)).Exist(ctx))(t)
			if gone && !Must(w.s.DB.FleetVariable.Query().Where(fleetvariable.ID(w.fx.keepFleetVar.ID)).Exist(ctx))(t) {
				t.Error("removing one fleet variable took another with it")
			}
			return gone
		},
	},
	"Mutation.setConfigVariable": {
		perm: access.Configuration,
		arrange: func(t *testing.T, w walkCase) {
			w.fx.configVar = w.newConfigVariable(t, "FLEETGATE_WALK_SET", "before")
		},
		do: func(t *testing.T, w walkCase) error {
			r, err := SetConfigVariable(ctx, w.c, SetConfigVariableInput{ApplicationId: w.f.AppID, Name: "FLEETGATE_WALK_SET", Value: "after"})
			if err == nil {
				if v := r.SetConfigVariable; v.Id != strconv.Itoa(w.fx.configVar.ID) || v.Name != "FLEETGATE_WALK_SET" || v.Value != "after" {
					t.Errorf("set %+v, want configuration variable %d replaced", v, w.fx.configVar.ID)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			vars := Must(w.s.DB.ConfigVariable.Query().Where(configvariable.ApplicationID(w.app(t)), configvariable.Name("FLEETGATE_WALK_SET")).All(ctx))(t)
			return len(vars) == 1 && vars[0].Value == "after"
		},
	},
	"Mutation.removeConfigVariable": {
		perm: access.Configuration,
		arrange: func(t *testing.T, w walkCase) {
			w.fx.configVar = w.newConfigVariable(t, "FLEETGATE_WALK_GONE", "doomed")
			w.fx.keepConfigVar = w.newConfigVariable(t, "FLEETGATE_WALK_KEEP", "kept")
		},
		do: func(t *testing.T, w walkCase) error {
			id := strconv.Itoa(w.fx.configVar.ID)
			r, err := RemoveConfigVariable(ctx, w.c, id)
			if err == nil && r.RemoveConfigVariable != id {
				t.Errorf("removed %s, want %s", r.RemoveConfigVariable, id)
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			gone := !Must(w.s.DB.ConfigVariable.Query().Where(configvariable.ID(w.fx.configVar.ID)).Exist(ctx))(t)
			if gone && !Must(w.s.DB.ConfigVariable.Query().Where(configvariable.ID(w.fx.keepConfigVar.ID)).Exist(ctx))(t) {
				t.Error("removing one configuration variable took another with it")
			}
			return gone
		},
	},
	"Mutation.revokeProvisioningKey": {
		perm: access.Configuration,
		arrange: func(t *testing.T, w walkCase) {
			w.fx.key, w.fx.keepKey = w.newProvisioningKey(t), w.newProvisioningKey(t)
		},
		do: func(t *testing.T, w walkCase) error {
			id := strconv.Itoa(w.fx.key.ID)
			r, err := RevokeProvisioningKey(ctx, w.c, id)
			if err == nil && r.RevokeProvisioningKey != id {
				t.Errorf("revoked %s, want %s", r.RevokeProvisioningKey, id)
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			gone := !Must(w.s.DB.ProvisioningKey.Query().Where(provisioningkey.ID(w.fx.key.ID)).Exist(ctx))(t)
			if gone && !Must(w.s.DB.ProvisioningKey.Query().Where(provisioningkey.ID(w.fx.keepKey.ID)).Exist(ctx))(t) {
				t.Error("revoking one provisioning key took another with it")
			}
			return gone
		},
	},
	"Mutation.downloadImageConfig": {
		perm: access.Configuration,
		do: func(t *testing.T, w walkCase) error {
			r, err := DownloadImageConfig(ctx, w.c, w.f.AppID)
			if err == nil {
				img := r.DownloadImageConfig
				w.fx.image = &img
				if err := apikey.Provisioning.Parse(img.ProvisioningKey); err != nil {
					t.Errorf("provisioning key %q: %v", img.ProvisioningKey, err)
				}
				var doc map[string]any
				if err := json.Unmarshal([]byte(img.Config), &doc); err != nil ||
					doc["provisioningKey"] != img.ProvisioningKey || doc["applicationId"] != w.f.AppID || doc["applicationSlug"] != w.f.Slug {
					t.Errorf("image config %s (%v): want provisioningKey %s, applicationId %s, applicationSlug %s",
						img.Config, err, img.ProvisioningKey, w.f.AppID, w.f.Slug)
				}
			}
			return err
		},
		// Before it ran: no key of the subject's in the application;
		// after: the one whose hash matches the key shown.
		done: func(t *testing.T, w walkCase) bool {
			mine := w.s.DB.ProvisioningKey.Query().Where(provisioningkey.ApplicationID(w.app(t)), provisioningkey.RequestedByID(w.myID(t)))
			if w.fx.image == nil {
				return Must(mine.Exist(ctx))(t)
			}
			return Must(mine.Where(provisioningkey.Hash(apikey.Hash(w.fx.image.ProvisioningKey))).Exist(ctx))(t)
		},
	},
	"Mutation.requestFleetAction": {
		perm:    access.FleetActions,
		arrange: func(t *testing.T, w walkCase) { w.fx.release = w.newRelease(t) },
		do: func(t *testing.T, w walkCase) error {
			rel := strconv.Itoa(w.fx.release.ID)
			r, err := RequestFleetAction(ctx, w.c, FleetActionInput{ApplicationId: w.f.AppID, Action: FleetActionKindPinRelease, ReleaseId: &rel})
			if err == nil {
				a := r.RequestFleetAction
				if a.Action != FleetActionKindPinRelease || a.Release == nil || a.Release.Id != rel || a.Release.Commit != w.fx.release.Commit ||
					a.RequestedBy == nil || a.RequestedBy.Id != w.me.ID {
					t.Errorf("requested %+v (release %+v, by %+v)", a, a.Release, a.RequestedBy)
				}
			}
			return err
		},
		done: func(t *testing.T, w walkCase) bool {
			return Must(w.s.DB.FleetAction.Query().Where(fleetaction.ApplicationID(w.app(t)),
				fleetaction.ActionEQ(fleetaction.ActionPIN_RELEASE), fleetaction.ReleaseID(w.fx.release.ID),
				fleetaction.RequestedByID(w.myID(t))).Exist(ctx))(t)
		},
	},
}

// TestMatrixWalk walks every role, and a non-member, over every @can field of
// the SDL, each subject on fleets of its own (see guardedOp.fresh), and
// compares what happens with internal/access: allowed is done, refused is
// FORBIDDEN with nothing changed, no role is NOT_FOUND with nothing changed.
func TestMatrixWalk(t *testing.T) {
	var walkers []walker
	for _, subject := range walkSubjects {
		walkers = append(walkers, walker{name: string(subject), subject: subject})
	}
	walkMatrix(t, walkers)
}

// walker is one subject of a matrix walk: a user of one role on the fleet
// (or the outsider), acting with their session or, when scope is set, with
// an API key of the scope it returns for the fleet.
type walker struct {
	name    string
	subject access.Role
	scope   func(t *testing.T, s *Server, f Fleet, me Account) *access.Scope
}

// walkedFields are the @can fields of the SDL, checked against guardedOps.
func walkedFields(t *testing.T) ([]string, map[string]guard) {
	guarded := guardedFields(t)
	var fields []string
	for field, g := range guarded {
		op, ok := guardedOps[field]
		switch {
		case !ok:
			t.Errorf("%s carries @can(%s) but TestMatrixWalk does not exercise it: add it to guardedOps", field, g.perm)
		case op.perm != g.perm:
			t.Errorf("%s carries @can(%s); the README says %s", field, g.perm, op.perm)
		default:
			fields = append(fields, field)
		}
	}
	for field := range guardedOps {
		if _, ok := guarded[field]; !ok {
			t.Errorf("guardedOps names %s, which carries no @can in the SDL", field)
		}
	}
	sort.Strings(fields)
	if t.Failed() {
		t.FailNow()
	}
	return fields, guarded
}

// walkMatrix walks every @can field with each walker, on both databases.
func walkMatrix(t *testing.T, walkers []walker) {
	fields, guarded := walkedFields(t)
	Run(t, func(t *testing.T, s *Server) {
		stranger := s.SignUp(t, "walk_stranger")
		newbie := s.SignUp(t, "walk_newbie")
		var n atomic.Int32
		newFleet := func(t *testing.T) Fleet { return s.NewFleet(t, fmt.Sprintf("w%d", n.Add(1))) }
		for _, wk := range walkers {
			who := func(f Fleet) Account {
				if wk.subject == outsider {
					return stranger
				}
				return f.Users[wk.subject]
			}
			t.Run(wk.name, func(t *testing.T) {
				// Subjects side by side, each on fleets of its own.
				t.Parallel()
				// The operations that are not fresh share this fleet, one
				// after another (subtests without t.Parallel run in turn);
				// the fresh ones get a fleet each and run side by side
				// once these are done. State is compared per fleet.
				shared := newFleet(t)
				for _, field := range fields {
					op, g := guardedOps[field], guarded[field]
					t.Run(field, func(t *testing.T) {
						f := shared
						if op.fresh {
							t.Parallel()
							f = newFleet(t)
						}
						me := who(f)
						w := walkCase{s: s, f: f, subject: wk.subject, me: me,
							c: s.Client(me.Token), newbie: newbie, fx: &walkFixture{}}
						if wk.scope != nil {
							w.scope = wk.scope(t, s, f, me)
							w.c = s.Client(scopedKey(t, s, me, w.scope))
						}
						walk(t, op, field, g, w)
					})
				}
			})
		}
	})
}

// walk is one subject's turn at one operation: allowed is done, refused is
// FORBIDDEN with nothing changed, no role is NOT_FOUND with nothing changed.
func walk(t *testing.T, op guardedOp, field string, g guard, w walkCase) {
	perm := g.perm
	if op.arrange != nil {
		op.arrange(t, w)
	}
	if op.done(t, w) {
		t.Fatalf("%s's effect is there before it ran", field)
	}
	before := fleetState(t, w.s, w.f)
	err := op.do(t, w)
	want := "FORBIDDEN"
	switch {
	case w.subject == outsider || !w.scope.Covers(w.app(t)):
		want = "NOT_FOUND"
	case w.subject.Allows(perm) && w.scope.Allows(perm) && (g.alsoNeeds == "" || w.scope.Allows(g.alsoNeeds)):
		if err != nil {
			t.Fatalf("%s has %s (scope %v), but %s failed: %v", w.subject, perm, w.scope, field, err)
		}
		if !op.done(t, w) {
			t.Fatalf("%s succeeded for %s, but its effect is not in the database", field, w.subject)
		}
		return
	}
	// Not fatal: a wrong answer is worse with a change behind it.
	if Code(err) != want {
		t.Errorf("%s (scope %v) without %s: %s = %q, want %s (%v)", w.subject, w.scope, perm, field, Code(err), want, err)
	}
	if after := fleetState(t, w.s, w.f); after != before {
		t.Errorf("a refused %s changed the fleet (- before, + after):\n%s", field, walkDiff(before, after))
	}
}

// TestMatrixWalkReads: every role reads the application and its members, and
// finds it among its applications; a non-member finds it nowhere.
func TestMatrixWalkReads(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "r")
		stranger := s.SignUp(t, "r_stranger")
		wantMembers := []string{f.Users[access.Developer].Username, f.Users[access.Observer].Username, f.Users[access.Operator].Username}
		for _, role := range walkSubjects {
			c := s.Client(stranger.Token)
			if role != outsider {
				c = s.Client(f.Users[role].Token)
			}
			byID := &ApplicationWhereInput{Id: &f.AppID}
			if role == outsider {
				_, err := Application(ctx, c, f.Slug)
				WantCode(t, err, "NOT_FOUND")
				_, err = SweepNode(ctx, c, f.AppID)
				WantCode(t, err, "NOT_FOUND")
				for _, where := range []*ApplicationWhereInput{nil, byID} {
					if n := Must(Applications(ctx, c, nil, nil, where))(t).Applications.TotalCount; n != 0 {
						t.Errorf("a non-member lists %d applications (where %+v)", n, where)
					}
				}
				continue
			}
			app := Must(Application(ctx, c, f.Slug))(t).Application
			if app.Id != f.AppID || app.MyRole != ApplicationRole(role) || app.IsShared != (role != access.Administrator) {
				t.Errorf("%s reads %+v", role, app)
			}
			var perms []access.Permission
			for _, p := range app.MyPermissions {
				perms = append(perms, access.Permission(p))
			}
			if !slices.Equal(perms, role.Permissions()) {
				t.Errorf("%s: myPermissions %v, the matrix says %v", role, perms, role.Permissions())
			}
			var members []string
			for _, e := range app.Members.Edges {
				members = append(members, e.Node.User.Username)
			}
			sort.Strings(members)
			if app.Members.TotalCount != 3 || !slices.Equal(members, wantMembers) {
				t.Errorf("%s reads members %v (total %d), want %v", role, members, app.Members.TotalCount, wantMembers)
			}
			for _, where := range []*ApplicationWhereInput{nil, byID} {
				list := Must(Applications(ctx, c, nil, nil, where))(t).Applications
				if list.TotalCount != 1 || len(list.Edges) != 1 || list.Edges[0].Node.Id != f.AppID {
					t.Errorf("%s lists %+v (where %+v)", role, list, where)
				}
			}
			if n := Must(SweepNode(ctx, c, f.AppID))(t).Node; n == nil || *(*n).GetTypename() != "Application" {
				t.Errorf("%s: node(application) = %+v", role, n)
			}
		}
	})
}

// TestMatrixWalkOwnMembership: a member's own membership is no way around
// the matrix. Changing its role (raising oneself) needs ADD_MEMBERS like any
// other; removing it is leaving, which every member may do.
func TestMatrixWalkOwnMembership(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "o")
		for _, role := range []access.Role{access.Developer, access.Operator, access.Observer} {
			c, own := s.Client(f.Users[role].Token), f.Memberships[role]
			raise := ApplicationRoleDeveloper
			if role == access.Developer {
				raise = ApplicationRoleOperator // no higher membership role exists
			}
			before := fleetState(t, s, f)
			_, err := UpdateApplicationMember(ctx, c, UpdateApplicationMemberInput{Id: own, Role: raise})
			if role.Allows(access.AddMembers) {
				t.Fatalf("%s has ADD_MEMBERS: this test needs another subject", role)
			}
			WantCode(t, err, "FORBIDDEN")
			if after := fleetState(t, s, f); after != before {
				t.Errorf("%s changed their own role:\nbefore:\n%s\nafter:\n%s", role, before, after)
			}
			if got := Must(RemoveApplicationMember(ctx, c, own))(t).RemoveApplicationMember; got != own {
				t.Errorf("%s left through %s, want %s", role, got, own)
			}
			if Must(s.DB.ApplicationMembership.Query().Where(applicationmembership.ID(dbID(t, own))).Exist(ctx))(t) {
				t.Errorf("%s's membership is still there after leaving", role)
			}
			_, err = Application(ctx, c, f.Slug)
			WantCode(t, err, "NOT_FOUND")
		}
	})
}

// fleetState renders everything a guarded operation could change in f: its
// organization, application, both kinds of membership, the fleet side
// (walkFleetRows) and its users' security events, read past the privacy
// rules. Scoped to f so that parallel subtests do not disturb it.
func fleetState(t *testing.T, s *Server, f Fleet) string {
	t.Helper()
	var b strings.Builder
	org := Must(s.DB.Organization.Get(ctx, dbID(t, f.OrgID)))(t)
	fmt.Fprintf(&b, "org %d %s %s %s\n", org.ID, org.Handle, org.Name, org.Plan)
	for _, m := range Must(s.DB.OrganizationMembership.Query().
		Where(organizationmembership.OrganizationID(org.ID)).Order(organizationmembership.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "org member %d user %d %s\n", m.ID, m.UserID, m.Role)
	}
	var apps []int
	for _, a := range Must(s.DB.Application.Query().
		Where(application.OrganizationID(org.ID)).Order(application.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "app %d %s %s %s\n", a.ID, a.Slug, a.Name, a.Type)
		apps = append(apps, a.ID)
	}
	for _, m := range Must(s.DB.ApplicationMembership.Query().
		Where(applicationmembership.HasApplicationWith(application.HasOrganizationWith(organization.ID(org.ID)))).
		Order(applicationmembership.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "app member %d app %d user %d %s\n", m.ID, m.ApplicationID, m.UserID, m.Role)
	}
	b.WriteString(walkFleetRows(t, s, apps...))
	// A refusal records nothing on the members' accounts either.
	var users []int
	for _, u := range f.Users {
		users = append(users, dbID(t, u.ID))
	}
	for _, e := range Must(s.DB.SecurityEvent.Query().
		Where(securityevent.UserIDIn(users...)).Order(securityevent.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "event %d user %d %s %s\n", e.ID, e.UserID, e.Kind, e.Detail)
	}
	return b.String()
}

// dbID is the database id behind a GraphQL ID.
func dbID(t *testing.T, id string) int {
	t.Helper()
	return Must(strconv.Atoi(id))(t)
}

// walkRef renders an optional reference to another row.
func walkRef(id *int) string {
	if id == nil {
		return "-"
	}
	return strconv.Itoa(*id)
}

// walkHex is n random bytes in lowercase hex.
func walkHex(t *testing.T, n int) string {
	b := make([]byte, n)
	Must(rand.Read(b))(t)
	return hex.EncodeToString(b)
}

// walkClaims is what the matrix walk reads of an SSH grant's payload.
type walkClaims struct {
	Aud    json.RawMessage `json:"aud"`
	Sub    string          `json:"sub"`
	Device string          `json:"device"`
	Iat    float64         `json:"iat"`
	Exp    float64         `json:"exp"`
}

// walkJWTPayload decodes a JWT's payload without verifying its signature.
func walkJWTPayload(t *testing.T, jwt string) walkClaims {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	raw := Must(base64.RawURLEncoding.DecodeString(parts[1]))(t)
	var c walkClaims
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatalf("JWT payload %s: %v", raw, err)
	}
	return c
}

// walkFleetRows renders the fleet side of applications, read past the
// privacy rules: devices and what belongs to them, the applications'
// variables, releases, actions and provisioning keys.
func walkFleetRows(t *testing.T, s *Server, apps ...int) string {
	t.Helper()
	var b strings.Builder
	for _, d := range Must(s.DB.Device.Query().Where(device.ApplicationIDIn(apps...)).Order(device.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "device %d app %d %s %q note %q\n", d.ID, d.ApplicationID, d.UUID, d.Name, d.Note)
	}
	for _, g := range Must(s.DB.DeviceTag.Query().Where(devicetag.ApplicationIDIn(apps...)).Order(devicetag.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "tag %d app %d device %d %q=%q\n", g.ID, g.ApplicationID, g.DeviceID, g.Key, g.Value)
	}
	for _, v := range Must(s.DB.DeviceVariable.Query().Where(devicevariable.ApplicationIDIn(apps...)).Order(devicevariable.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "device variable %d app %d device %d %s=%q\n", v.ID, v.ApplicationID, v.DeviceID, v.Name, v.Value)
	}
	for _, a := range Must(s.DB.DeviceAction.Query().Where(deviceaction.ApplicationIDIn(apps...)).Order(deviceaction.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "device action %d app %d device %d %s by %s\n", a.ID, a.ApplicationID, a.DeviceID, a.Action, walkRef(a.RequestedByID))
	}
	for _, v := range Must(s.DB.FleetVariable.Query().Where(fleetvariable.ApplicationIDIn(apps...)).Order(fleetvariable.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "fleet variable %d app %d %s=%q\n", v.ID, v.ApplicationID, v.Name, v.Value)
	}
	for _, v := range Must(s.DB.ConfigVariable.Query().Where(configvariable.ApplicationIDIn(apps...)).Order(configvariable.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "config variable %d app %d %s=%q\n", v.ID, v.ApplicationID, v.Name, v.Value)
	}
	for _, r := range Must(s.DB.Release.Query().Where(release.ApplicationIDIn(apps...)).Order(release.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "release %d app %d %s %q by %s\n", r.ID, r.ApplicationID, r.Commit, r.Note, walkRef(r.RequestedByID))
	}
	for _, a := range Must(s.DB.FleetAction.Query().Where(fleetaction.ApplicationIDIn(apps...)).Order(fleetaction.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "fleet action %d app %d %s release %s by %s\n", a.ID, a.ApplicationID, a.Action, walkRef(a.ReleaseID), walkRef(a.RequestedByID))
	}
	for _, k := range Must(s.DB.ProvisioningKey.Query().Where(provisioningkey.ApplicationIDIn(apps...)).Order(provisioningkey.ByID()).All(ctx))(t) {
		fmt.Fprintf(&b, "provisioning key %d app %d %x by %s\n", k.ID, k.ApplicationID, k.Hash, walkRef(k.RequestedByID))
	}
	return b.String()
}

// walkDiff lists the lines only before has (-) and only after has (+).
func walkDiff(before, after string) string {
	var b strings.Builder
	bl, al := strings.Split(before, "\n"), strings.Split(after, "\n")
	for _, l := range bl {
		if !slices.Contains(al, l) {
			b.WriteString("- " + l + "\n")
		}
	}
	for _, l := range al {
		if !slices.Contains(bl, l) {
			b.WriteString("+ " + l + "\n")
		}
	}
	return b.String()
}

package graph_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"fleetgate/ent/application"
	"fleetgate/ent/device"
	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
)

func TestDevices(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		op := s.Client(f.Users[access.Operator].Token)

		generated := Must(RegisterDevice(ctx, op, RegisterDeviceInput{ApplicationId: f.AppID, Name: " pi-1 "}))(t).RegisterDevice
		if len(generated.Uuid) != 32 || strings.Trim(generated.Uuid, "0123456789abcdef") != "" || generated.Name != "pi-1" {
			t.Fatalf("registered %+v", generated)
		}
		given := strings.Repeat("AB", 16)
		dev := Must(RegisterDevice(ctx, op, RegisterDeviceInput{ApplicationId: f.AppID, Name: "pi-2", Uuid: &given}))(t).RegisterDevice
		if dev.Uuid != strings.ToLower(given) {
			t.Fatalf("uuid %q", dev.Uuid)
		}
		for _, c := range []struct {
			name, uuid, code, field string
		}{
			{"dup", strings.ToLower(given), "CONFLICT", "uuid"},
			{"short", "abc", "BAD_USER_INPUT", "uuid"},
			{"not hex", strings.Repeat("g", 32), "BAD_USER_INPUT", "uuid"},
			{"", "", "BAD_USER_INPUT", "name"},
			{strings.Repeat("n", 101), "", "BAD_USER_INPUT", "name"},
		} {
			in := RegisterDeviceInput{ApplicationId: f.AppID, Name: c.name}
			if c.uuid != "" {
				in.Uuid = &c.uuid
			}
			_, err := RegisterDevice(ctx, op, in)
			if Code(err) != c.code || Ext(err, "field") != c.field {
				t.Errorf("%q/%q: %v", c.name, c.uuid, err)
			}
		}

		note := "in the greenhouse\nrack 2"
		updated := Must(UpdateDevice(ctx, op, UpdateDeviceInput{Id: dev.Id, Note: &note}))(t).UpdateDevice
		if updated.Name != "pi-2" || updated.Note != note {
			t.Fatalf("updated %+v", updated)
		}

		// Tags are upserted by key.
		tag := Must(SetDeviceTag(ctx, op, SetDeviceTagInput{DeviceId: dev.Id, Key: "location", Value: "north"}))(t).SetDeviceTag
		again := Must(SetDeviceTag(ctx, op, SetDeviceTagInput{DeviceId: dev.Id, Key: "location", Value: "south"}))(t).SetDeviceTag
		if again.Id != tag.Id || again.Value != "south" {
			t.Fatalf("upsert: %+v then %+v", tag, again)
		}
		_, err := SetDeviceTag(ctx, op, SetDeviceTagInput{DeviceId: dev.Id, Key: "bad\x00key", Value: ""})
		WantCode(t, err, "BAD_USER_INPUT")

		// Variables: environment names; FLEETGATE_ belongs to configuration.
		v := Must(SetDeviceVariable(ctx, op, SetDeviceVariableInput{DeviceId: dev.Id, Name: "MODE", Value: "fast"}))(t).SetDeviceVariable
		Must(SetDeviceVariable(ctx, op, SetDeviceVariableInput{DeviceId: dev.Id, Name: "MODE", Value: "slow"}))(t)
		for _, c := range []struct{ name, value, field string }{
			{"1ABC", "x", "name"},
			{"A-B", "x", "name"},
			{"", "x", "name"},
			{strings.Repeat("A", 129), "x", "name"},
			{"FLEETGATE_MODE", "x", "name"},
			{"BIG", strings.Repeat("x", 10<<10+1), "value"},
		} {
			_, err := SetDeviceVariable(ctx, op, SetDeviceVariableInput{DeviceId: dev.Id, Name: c.name, Value: c.value})
			if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != c.field {
				t.Errorf("variable %.20q: %v", c.name, err)
			}
		}
		Must(SetDeviceVariable(ctx, op, SetDeviceVariableInput{DeviceId: dev.Id, Name: "BIG", Value: strings.Repeat("x", 10<<10)}))(t)

		action := Must(RequestDeviceAction(ctx, op, DeviceActionInput{DeviceId: dev.Id, Action: DeviceActionKindReboot}))(t).RequestDeviceAction
		if action.RequestedBy.Username != f.Users[access.Operator].Username {
			t.Fatalf("action %+v", action)
		}

		// Every role reads it all, observers included.
		got := Must(FleetContents(ctx, s.Client(f.Users[access.Observer].Token), f.Slug))(t).Application
		if got.Devices.TotalCount != 2 {
			t.Fatalf("%d devices", got.Devices.TotalCount)
		}
		for _, e := range got.Devices.Edges {
			d := e.Node
			if d.Id != dev.Id {
				continue
			}
			if len(d.Tags) != 1 || d.Tags[0].Value != "south" || len(d.Variables) != 2 || d.PendingActions.TotalCount != 1 ||
				d.PendingActions.Edges[0].Node.Action != DeviceActionKindReboot || d.Application.Slug != f.Slug {
				t.Fatalf("device as the observer sees it: %+v", d)
			}
		}

		Must(RemoveDeviceTag(ctx, op, tag.Id))(t)
		Must(RemoveDeviceVariable(ctx, op, v.Id))(t)
		_, err = RemoveDeviceTag(ctx, op, tag.Id)
		WantCode(t, err, "NOT_FOUND")
		// An id of another kind is not a tag.
		_, err = RemoveDeviceTag(ctx, op, dev.Id)
		WantCode(t, err, "NOT_FOUND")
		if n := Must(s.DB.Device.Query().Count(ctx))(t); n != 2 {
			t.Fatalf("%d devices after removing a tag by a device's id", n)
		}
	})
}

// TestRemovalsCascade: removing a device removes its tags, variables and
// actions; deleting an application removes everything of its fleet.
func TestRemovalsCascade(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		admin := s.Client(f.Users[access.Administrator].Token)
		fill := func() string {
			dev := Must(RegisterDevice(ctx, admin, RegisterDeviceInput{ApplicationId: f.AppID, Name: "d"}))(t).RegisterDevice
			Must(SetDeviceTag(ctx, admin, SetDeviceTagInput{DeviceId: dev.Id, Key: "k", Value: "v"}))(t)
			Must(SetDeviceVariable(ctx, admin, SetDeviceVariableInput{DeviceId: dev.Id, Name: "V", Value: "v"}))(t)
			Must(RequestDeviceAction(ctx, admin, DeviceActionInput{DeviceId: dev.Id, Action: DeviceActionKindIdentify}))(t)
			return dev.Id
		}
		counts := func() [4]int {
			return [4]int{
				Must(s.DB.Device.Query().Count(ctx))(t),
				Must(s.DB.DeviceTag.Query().Count(ctx))(t),
				Must(s.DB.DeviceVariable.Query().Count(ctx))(t),
				Must(s.DB.DeviceAction.Query().Count(ctx))(t),
			}
		}
		first, _ := fill(), fill()
		if got := counts(); got != [4]int{2, 2, 2, 2} {
			t.Fatalf("arranged %v", got)
		}
		Must(RemoveDevice(ctx, admin, first))(t)
		if got := counts(); got != [4]int{1, 1, 1, 1} {
			t.Fatalf("after removeDevice: %v", got)
		}

		rel := Must(CreateRelease(ctx, admin, CreateReleaseInput{ApplicationId: f.AppID, Commit: "abcdef1"}))(t).CreateRelease
		Must(RequestFleetAction(ctx, admin, FleetActionInput{ApplicationId: f.AppID, Action: FleetActionKindPinRelease, ReleaseId: &rel.Id}))(t)
		Must(SetFleetVariable(ctx, admin, SetFleetVariableInput{ApplicationId: f.AppID, Name: "F", Value: "1"}))(t)
		Must(SetConfigVariable(ctx, admin, SetConfigVariableInput{ApplicationId: f.AppID, Name: "FLEETGATE_X", Value: "1"}))(t)
		Must(DownloadImageConfig(ctx, admin, f.AppID))(t)
		Must(DeleteApplication(ctx, admin, f.AppID))(t)
		left := counts()
		for _, n := range []int{
			Must(s.DB.Release.Query().Count(ctx))(t),
			Must(s.DB.FleetAction.Query().Count(ctx))(t),
			Must(s.DB.FleetVariable.Query().Count(ctx))(t),
			Must(s.DB.ConfigVariable.Query().Count(ctx))(t),
			Must(s.DB.ProvisioningKey.Query().Count(ctx))(t),
			Must(s.DB.ApplicationMembership.Query().Count(ctx))(t),
		} {
			left[0] += n
		}
		if left != [4]int{} {
			t.Fatalf("rows left after deleteApplication: %v", left)
		}
	})
}

func TestReleasesVariablesAndFleetActions(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		dev := s.Client(f.Users[access.Developer].Token)
		rel := Must(CreateRelease(ctx, dev, CreateReleaseInput{ApplicationId: f.AppID, Commit: " ABCDEF1234 "}))(t).CreateRelease
		if rel.Commit != "abcdef1234" || rel.CreatedBy.Username != f.Users[access.Developer].Username {
			t.Fatalf("release %+v", rel)
		}
		for commit, code := range map[string]string{"abcdef1234": "CONFLICT", "abc": "BAD_USER_INPUT", "xyz1234": "BAD_USER_INPUT", strings.Repeat("a", 41): "BAD_USER_INPUT"} {
			_, err := CreateRelease(ctx, dev, CreateReleaseInput{ApplicationId: f.AppID, Commit: commit})
			if Code(err) != code || Ext(err, "field") != "commit" {
				t.Errorf("commit %q: %v", commit, err)
			}
		}

		// PIN_RELEASE names a release of the same application; the other
		// actions name none.
		_, err := RequestFleetAction(ctx, dev, FleetActionInput{ApplicationId: f.AppID, Action: FleetActionKindPinRelease})
		WantCode(t, err, "BAD_USER_INPUT")
		_, err = RequestFleetAction(ctx, dev, FleetActionInput{ApplicationId: f.AppID, Action: FleetActionKindRestartAll, ReleaseId: &rel.Id})
		WantCode(t, err, "BAD_USER_INPUT")
		other := s.NewFleet(t, "g")
		foreign := Must(CreateRelease(ctx, s.Client(other.Users[access.Administrator].Token), CreateReleaseInput{ApplicationId: other.AppID, Commit: "1234567"}))(t).CreateRelease
		_, err = RequestFleetAction(ctx, dev, FleetActionInput{ApplicationId: f.AppID, Action: FleetActionKindPinRelease, ReleaseId: &foreign.Id})
		WantCode(t, err, "NOT_FOUND")
		pin := Must(RequestFleetAction(ctx, dev, FleetActionInput{ApplicationId: f.AppID, Action: FleetActionKindPinRelease, ReleaseId: &rel.Id}))(t).RequestFleetAction
		if pin.Release == nil || pin.Release.Id != rel.Id {
			t.Fatalf("pin %+v", pin)
		}

		// Fleet variables are environment names outside FLEETGATE_;
		// configuration variables are inside it.
		Must(SetFleetVariable(ctx, dev, SetFleetVariableInput{ApplicationId: f.AppID, Name: "LOG_LEVEL", Value: "debug"}))(t)
		_, err = SetFleetVariable(ctx, dev, SetFleetVariableInput{ApplicationId: f.AppID, Name: "FLEETGATE_DELTA", Value: "1"})
		WantCode(t, err, "BAD_USER_INPUT")
		_, err = SetConfigVariable(ctx, dev, SetConfigVariableInput{ApplicationId: f.AppID, Name: "DELTA", Value: "1"})
		WantCode(t, err, "BAD_USER_INPUT")
		Must(SetConfigVariable(ctx, dev, SetConfigVariableInput{ApplicationId: f.AppID, Name: "FLEETGATE_DELTA", Value: "1"}))(t)

		got := Must(FleetContents(ctx, s.Client(f.Users[access.Observer].Token), f.Slug))(t).Application
		if got.Releases.TotalCount != 1 || len(got.FleetVariables) != 1 || len(got.ConfigVariables) != 1 ||
			got.FleetActions.TotalCount != 1 || got.FleetActions.Edges[0].Node.RequestedBy.Username != f.Users[access.Developer].Username {
			t.Fatalf("the observer reads %+v", got)
		}
	})
}

// TestSSHGrant: the grant verifies with nothing but the JWKS document, for
// its device and audience, and is no session token.
func TestSSHGrant(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		op := f.Users[access.Operator]
		dev := Must(RegisterDevice(ctx, s.Client(op.Token), RegisterDeviceInput{ApplicationId: f.AppID, Name: "d"}))(t).RegisterDevice
		grant := Must(RequestSshAccess(ctx, s.Client(op.Token), dev.Id))(t).RequestSshAccess
		if grant.DeviceUuid != dev.Uuid || time.Until(grant.ExpiresAt) > time.Minute {
			t.Fatalf("grant %+v", grant)
		}

		resp := Must(http.Get(s.URL + "/.well-known/jwks.json"))(t)
		defer resp.Body.Close()
		keys := jwksKeys(t, Must(io.ReadAll(resp.Body))(t))
		parsed, err := jwt.Parse(grant.Token, func(tk *jwt.Token) (any, error) {
			if k, ok := keys[tk.Header["kid"].(string)]; ok {
				return k, nil
			}
			return nil, errors.New("unknown kid")
		}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithAudience("ssh"), jwt.WithExpirationRequired())
		if err != nil {
			t.Fatal(err)
		}
		claims := parsed.Claims.(jwt.MapClaims)
		iat, _ := claims.GetIssuedAt()
		exp, _ := claims.GetExpirationTime()
		if claims["sub"] != op.ID || claims["device"] != dev.Uuid || claims["username"] != op.Username || exp.Sub(iat.Time) != time.Minute {
			t.Fatalf("claims %v (user %s)", claims, op.ID)
		}
		// Not a session: the API refuses it as a credential.
		_, err = Me(ctx, s.Client(grant.Token), nil, nil)
		WantCode(t, err, "UNAUTHENTICATED")
	})
}

// jwksKeys reads Ed25519 public keys from a JWKS document, by kid.
func jwksKeys(t *testing.T, doc []byte) map[string]ed25519.PublicKey {
	t.Helper()
	var set struct {
		Keys []struct{ Kty, Crv, Kid, X string }
	}
	if err := json.Unmarshal(doc, &set); err != nil {
		t.Fatal(err)
	}
	keys := map[string]ed25519.PublicKey{}
	for _, k := range set.Keys {
		x, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || k.Kty != "OKP" || k.Crv != "Ed25519" || len(x) != ed25519.PublicKeySize {
			t.Fatalf("bad JWK %+v (%v)", k, err)
		}
		keys[k.Kid] = ed25519.PublicKey(x)
	}
	return keys
}

// TestProvisioningKey: downloadImageConfig mints a key that registers
// devices in its application and does nothing else.
func TestProvisioningKey(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		other := s.NewFleet(t, "g")
		cfg := Must(DownloadImageConfig(ctx, s.Client(f.Users[access.Developer].Token), f.AppID))(t).DownloadImageConfig
		var doc struct{ ApplicationId, ApplicationSlug, ApiEndpoint, ProvisioningKey string }
		if err := json.Unmarshal([]byte(cfg.Config), &doc); err != nil {
			t.Fatal(err)
		}
		if doc.ProvisioningKey != cfg.ProvisioningKey || !strings.HasPrefix(doc.ProvisioningKey, "fgp_") ||
			doc.ApplicationId != f.AppID || doc.ApplicationSlug != f.Slug || doc.ApiEndpoint != s.URL+"/graphql" {
			t.Fatalf("image config %+v", doc)
		}
		key := s.Client(doc.ProvisioningKey)
		got := Must(RegisterDevice(ctx, key, RegisterDeviceInput{ApplicationId: doc.ApplicationId, Name: "booted"}))(t).RegisterDevice
		if n := Must(s.DB.Device.Query().Where(device.UUID(got.Uuid), device.HasApplicationWith(application.ID(dbID(t, f.AppID)))).Count(ctx))(t); n != 1 {
			t.Fatalf("device not in the application (%d)", n)
		}
		// Nothing else: another application, any other field.
		_, err := RegisterDevice(ctx, key, RegisterDeviceInput{ApplicationId: other.AppID, Name: "stray"})
		WantCode(t, err, "NOT_FOUND")
		_, err = Me(ctx, key, nil, nil)
		WantCode(t, err, "FORBIDDEN")
		_, err = Applications(ctx, key, nil, nil, nil)
		WantCode(t, err, "FORBIDDEN")
		_, err = SetDeviceTag(ctx, key, SetDeviceTagInput{DeviceId: got.Id, Key: "k", Value: "v"})
		WantCode(t, err, "FORBIDDEN")
		_, err = CreateApiKey(ctx, key, CreateApiKeyInput{Name: "k"})
		WantCode(t, err, "FORBIDDEN")
		// A mistyped key is no key; a user API key's prefix swapped is none.
		tampered := flip(doc.ProvisioningKey)
		_, err = RegisterDevice(ctx, s.Client(tampered), RegisterDeviceInput{ApplicationId: f.AppID, Name: "x"})
		WantCode(t, err, "UNAUTHENTICATED")
		// The key goes with its application.
		Must(DeleteApplication(ctx, s.Client(f.Users[access.Administrator].Token), f.AppID))(t)
		_, err = RegisterDevice(ctx, key, RegisterDeviceInput{ApplicationId: doc.ApplicationId, Name: "late"})
		WantCode(t, err, "UNAUTHENTICATED")
	})
}

// TestRevokeProvisioningKey: keys are listed without the key itself, and a
// revoked key registers nothing more.
func TestRevokeProvisioningKey(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		dev := s.Client(f.Users[access.Developer].Token)
		key := Must(DownloadImageConfig(ctx, dev, f.AppID))(t).DownloadImageConfig.ProvisioningKey
		Must(RegisterDevice(ctx, s.Client(key), RegisterDeviceInput{ApplicationId: f.AppID, Name: "first"}))(t)
		keys := Must(ProvisioningKeys(ctx, s.Client(f.Users[access.Observer].Token), f.Slug))(t).Application.ProvisioningKeys
		if len(keys) != 1 || keys[0].Prefix != key[:12] || keys[0].CreatedBy.Username != f.Users[access.Developer].Username {
			t.Fatalf("keys %+v", keys)
		}
		_, err := RevokeProvisioningKey(ctx, s.Client(f.Users[access.Operator].Token), keys[0].Id)
		WantCode(t, err, "FORBIDDEN")
		Must(RevokeProvisioningKey(ctx, dev, keys[0].Id))(t)
		_, err = RegisterDevice(ctx, s.Client(key), RegisterDeviceInput{ApplicationId: f.AppID, Name: "second"})
		WantCode(t, err, "UNAUTHENTICATED")
	})
}

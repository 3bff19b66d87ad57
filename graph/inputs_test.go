package graph_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"testing"

	"fleetgate/ent"
	"fleetgate/ent/device"
	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
)

// Bad text in every kind of string input (README "Limits"): NUL everywhere,
// control and invisible characters in names, control characters but line
// breaks and tabs in free text.
var (
	badAnywhere  = []string{"a\x00b"}
	badFreeText  = append([]string{"a\x01b", "\x1b[31mred", "a\x7fb", "a\u009bb"}, badAnywhere...)
	badName      = append([]string{"a\tb", "a\nb", "a\u0085b", "ab\u202ec", "a\u200bb", "a\u2066b\u2069"}, badFreeText...)
	goodFreeText = "line one\n\tline two\r\nend"
)

// TestBadTextIsRefused sends bad text in each kind of string input, as
// variables: every one is BAD_USER_INPUT on its field (never INTERNAL, as
// NUL was on PostgreSQL) and nothing is stored.
func TestBadTextIsRefused(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "t")
		admin := s.Client(f.Users[access.Administrator].Token)
		anon := s.Client("")
		dev := Must(RegisterDevice(ctx, admin, RegisterDeviceInput{ApplicationId: f.AppID, Name: "pi"}))(t).RegisterDevice
		before := allIDs(t, s)

		for _, c := range []struct {
			op, field string
			bad       []string
			send      func(v string) error
		}{
			{"signUp", "username", badName, func(v string) error {
				_, err := SignUp(ctx, anon, SignUpInput{Username: "new" + v, Email: "new@example.com", Password: Password})
				return err
			}},
			{"signUp", "email", badName, func(v string) error {
				_, err := SignUp(ctx, anon, SignUpInput{Username: "newbie", Email: v + "@example.com", Password: Password})
				return err
			}},
			{"signUp", "password", badAnywhere, func(v string) error {
				_, err := SignUp(ctx, anon, SignUpInput{Username: "newbie", Email: "new@example.com", Password: Password + v})
				return err
			}},
			{"login", "usernameOrEmail", badName, func(v string) error {
				_, err := Login(ctx, anon, LoginInput{UsernameOrEmail: f.Users[access.Administrator].Username + v, Password: Password})
				return err
			}},
			{"login", "password", badAnywhere, func(v string) error {
				_, err := Login(ctx, anon, LoginInput{UsernameOrEmail: f.Users[access.Administrator].Username, Password: Password + v})
				return err
			}},
			{"requestPasswordReset", "email", badAnywhere, func(v string) error {
				_, err := RequestPasswordReset(ctx, anon, f.Users[access.Administrator].Email+v)
				return err
			}},
			{"createOrganization", "name", badName, func(v string) error {
				_, err := CreateOrganization(ctx, admin, CreateOrganizationInput{Name: "Acme " + v, Handle: "acme"})
				return err
			}},
			{"createOrganization", "handle", badName, func(v string) error {
				_, err := CreateOrganization(ctx, admin, CreateOrganizationInput{Name: "Acme", Handle: "acme" + v})
				return err
			}},
			{"organization", "handle", badAnywhere, func(v string) error {
				_, err := Organization(ctx, admin, f.OrgHandle+v)
				return err
			}},
			{"addOrganizationMember", "usernameOrEmail", badName, func(v string) error {
				_, err := AddOrganizationMember(ctx, admin, AddOrganizationMemberInput{
					OrganizationId: f.OrgID, UsernameOrEmail: f.Users[access.Developer].Username + v, Role: OrganizationRoleMember,
				})
				return err
			}},
			{"createApplication", "name", badName, func(v string) error {
				_, err := CreateApplication(ctx, admin, CreateApplicationInput{OrganizationId: f.OrgID, Name: "App " + v, Type: ApplicationTypeEssentials})
				return err
			}},
			{"application", "slug", badAnywhere, func(v string) error {
				_, err := Application(ctx, admin, f.Slug+v)
				return err
			}},
			{"applications", "nameContains", badAnywhere, func(v string) error {
				_, err := Applications(ctx, admin, nil, nil, &ApplicationWhereInput{NameContains: &v})
				return err
			}},
			{"applications", "nameIn", badAnywhere, func(v string) error {
				_, err := Applications(ctx, admin, nil, nil, &ApplicationWhereInput{NameIn: []string{"Fleet", v}})
				return err
			}},
			{"applications", "slugHasPrefix", badAnywhere, func(v string) error {
				_, err := Applications(ctx, admin, nil, nil, &ApplicationWhereInput{Or: []ApplicationWhereInput{
					{Not: &ApplicationWhereInput{SlugHasPrefix: &v}},
				}})
				return err
			}},
			{"registerDevice", "name", badName, func(v string) error {
				_, err := RegisterDevice(ctx, admin, RegisterDeviceInput{ApplicationId: f.AppID, Name: "pi " + v})
				return err
			}},
			{"updateDevice", "name", badName, func(v string) error {
				_, err := UpdateDevice(ctx, admin, UpdateDeviceInput{Id: dev.Id, Name: &v})
				return err
			}},
			{"updateDevice", "note", badFreeText, func(v string) error {
				_, err := UpdateDevice(ctx, admin, UpdateDeviceInput{Id: dev.Id, Note: &v})
				return err
			}},
			{"setDeviceTag", "key", badName, func(v string) error {
				_, err := SetDeviceTag(ctx, admin, SetDeviceTagInput{DeviceId: dev.Id, Key: "k" + v, Value: "v"})
				return err
			}},
			{"setDeviceTag", "value", badFreeText, func(v string) error {
				_, err := SetDeviceTag(ctx, admin, SetDeviceTagInput{DeviceId: dev.Id, Key: "k", Value: v})
				return err
			}},
			{"setDeviceVariable", "name", badName, func(v string) error {
				_, err := SetDeviceVariable(ctx, admin, SetDeviceVariableInput{DeviceId: dev.Id, Name: "MODE" + v, Value: "v"})
				return err
			}},
			{"setDeviceVariable", "value", badFreeText, func(v string) error {
				_, err := SetDeviceVariable(ctx, admin, SetDeviceVariableInput{DeviceId: dev.Id, Name: "MODE", Value: v})
				return err
			}},
			{"setFleetVariable", "value", badFreeText, func(v string) error {
				_, err := SetFleetVariable(ctx, admin, SetFleetVariableInput{ApplicationId: f.AppID, Name: "MODE", Value: v})
				return err
			}},
			{"setConfigVariable", "value", badFreeText, func(v string) error {
				_, err := SetConfigVariable(ctx, admin, SetConfigVariableInput{ApplicationId: f.AppID, Name: "FLEETGATE_MODE", Value: v})
				return err
			}},
			{"createRelease", "note", badFreeText, func(v string) error {
				_, err := CreateRelease(ctx, admin, CreateReleaseInput{ApplicationId: f.AppID, Commit: "abcdef1", Note: &v})
				return err
			}},
			{"createApiKey", "name", badName, func(v string) error {
				_, err := CreateApiKey(ctx, admin, CreateApiKeyInput{Name: "ci " + v})
				return err
			}},
			{"createApiKey", "description", badFreeText, func(v string) error {
				_, err := CreateApiKey(ctx, admin, CreateApiKeyInput{Name: "ci", Description: &v})
				return err
			}},
		} {
			for _, v := range c.bad {
				err := c.send(v)
				if Code(err) != "BAD_USER_INPUT" || Ext(err, "field") != c.field {
					t.Errorf("%s with %s %q: want BAD_USER_INPUT on %s, got %v", c.op, c.field, v, c.field, err)
				}
			}
		}

		if after := allIDs(t, s); !maps.Equal(after, before) {
			t.Errorf("refused input stored rows: %d before, %d after", len(before), len(after))
		}
		if d := Must(s.DB.Device.Query().Where(device.UUID(dev.Uuid)).Only(ctx))(t); d.Name != "pi" || d.Note != "" {
			t.Errorf("refused updates changed the device: %+v", d)
		}

		// Under the API, the schema refuses such text too: a write that
		// skipped the API's checks fails rather than storing it.
		if _, err := s.DB.Organization.Create().SetName("a\x00b").SetHandle("nul").Save(ctx); !ent.IsValidationError(err) {
			t.Errorf("ent stored an organization named with NUL: %v", err)
		}
		if err := s.DB.Device.UpdateOneID(dbID(t, dev.Id)).SetNote("\x1b[2J").Exec(ctx); !ent.IsValidationError(err) {
			t.Errorf("ent stored a note with a control character: %v", err)
		}

		// Free text keeps its line breaks and tabs (trimmed at the ends);
		// names keep any visible character, joiners in emoji included.
		note := Must(UpdateDevice(ctx, admin, UpdateDeviceInput{Id: dev.Id, Note: &goodFreeText}))(t).UpdateDevice.Note
		tag := Must(SetDeviceTag(ctx, admin, SetDeviceTagInput{DeviceId: dev.Id, Key: "où", Value: goodFreeText}))(t).SetDeviceTag.Value
		variable := Must(SetDeviceVariable(ctx, admin, SetDeviceVariableInput{DeviceId: dev.Id, Name: "MODE", Value: "\t" + goodFreeText + "\n"}))(t).SetDeviceVariable.Value
		release := Must(CreateRelease(ctx, admin, CreateReleaseInput{ApplicationId: f.AppID, Commit: "abcdef1", Note: &goodFreeText}))(t).CreateRelease.Note
		description := Must(CreateApiKey(ctx, admin, CreateApiKeyInput{Name: "ci", Description: &goodFreeText}))(t).CreateApiKey.ApiKey.Description
		for what, got := range map[string]string{"note": note, "tag": tag, "release": release, "description": description} {
			if got != goodFreeText {
				t.Errorf("%s stored as %q", what, got)
			}
		}
		if variable != "\t"+goodFreeText+"\n" {
			t.Errorf("variable value stored as %q: values are not trimmed", variable)
		}
		family := "Café 👨\u200d👩\u200d👧"
		if got := Must(CreateOrganization(ctx, admin, CreateOrganizationInput{Name: family, Handle: "family"}))(t).CreateOrganization.Name; got != family {
			t.Errorf("organization name stored as %q", got)
		}
	})
}

// TestBadTextInTheQuery puts the bad text in the query itself: literals,
// variable defaults and fragments are checked like variables. Invalid UTF-8
// cannot come through JSON (decoding turns it into U+FFFD, a character
// like any other), but a GET query string carries raw bytes.
func TestBadTextInTheQuery(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		a := s.SignUp(t, "alice")
		auth := map[string]string{"Authorization": "Bearer " + a.Token}
		body := func(query string, variables map[string]any) string {
			b := Must(json.Marshal(map[string]any{"query": query, "variables": variables}))(t)
			return string(b)
		}
		for _, c := range []struct{ body, field string }{
			{body(`{ applications(where: {nameContains: "\u0000"}) { totalCount } }`, nil), "nameContains"},
			{body(`{ applications(where: {and: [{name: "x"}, {slugIn: ["a", "x\u0000"]}]}) { totalCount } }`, nil), "slugIn"},
			{body(`query($n: String = "x\u0000") { applications(where: {nameContains: $n}) { totalCount } }`, nil), "nameContains"},
			{body(`query($w: ApplicationWhereInput) { applications(where: $w) { totalCount } }`,
				map[string]any{"w": map[string]any{"not": map[string]any{"nameHasSuffix": "\x00"}}}), "nameHasSuffix"},
			{body(`{ ...F } fragment F on Query { me { id } organization(handle: "\u0000") { id } }`, nil), "handle"},
			{body(`mutation { createOrganization(input: {name: "Acme\u0000", handle: "acme"}) { id } }`, nil), "name"},
		} {
			code, field := firstError(t, s.PostWith(auth, c.body))
			if code != "BAD_USER_INPUT" || field != c.field {
				t.Errorf("%s: got %s on %q, want BAD_USER_INPUT on %s", c.body, code, field, c.field)
			}
		}
		if n := Must(s.DB.Organization.Query().Count(ctx))(t); n != 1 {
			t.Errorf("%d organizations: the refused one was stored", n)
		}

		for _, c := range []struct{ query, field string }{
			{`{ applications(where: {nameContains: "` + "\xff" + `"}) { totalCount } }`, "nameContains"},
			{`{ organization(handle: "alice` + "\xc3" + `") { id } }`, "handle"},
			{`{ application(slug: "alice/` + "\xed\xa0\x80" + `") { id } }`, "slug"},
		} {
			req := Must(http.NewRequest(http.MethodGet, s.URL+"/graphql?query="+url.QueryEscape(c.query), nil))(t)
			req.Header.Set("Authorization", "Bearer "+a.Token)
			resp := Must(http.DefaultClient.Do(req))(t)
			code, field := firstError(t, resp)
			resp.Body.Close()
			if code != "BAD_USER_INPUT" || field != c.field {
				t.Errorf("GET %q: got %s on %q, want BAD_USER_INPUT on %s", c.query, code, field, c.field)
			}
		}

		// Raw invalid bytes in a JSON body arrive as U+FFFD: valid text.
		resp := s.PostWith(auth, `{"query":"query($n: String) { applications(where: {nameContains: $n}) { totalCount } }","variables":{"n":"`+"\xff"+`"}}`)
		if code, _ := firstError(t, resp); code != "" {
			t.Errorf("invalid UTF-8 in JSON: got %s", code)
		}
	})
}

// firstError decodes a raw GraphQL response: the first error's code and
// field ("" when there is none).
func firstError(t *testing.T, resp *http.Response) (code, field string) {
	t.Helper()
	var body struct {
		Errors []struct {
			Extensions struct{ Code, Field string } `json:"extensions"`
		} `json:"errors"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	if len(body.Errors) == 0 {
		return "", ""
	}
	return body.Errors[0].Extensions.Code, body.Errors[0].Extensions.Field
}

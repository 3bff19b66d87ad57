package token

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// deviceIssuedAt and deviceExpiry are the iat and exp of a device token
// issued at testNow.
var (
	deviceIssuedAt = testNow.Truncate(time.Second)
	deviceExpiry   = deviceIssuedAt.Add(DeviceLifetime)
)

func mustDevice(t testing.TB, s *Set, userID string) string {
	t.Helper()
	tok, _, err := s.IssueDevice(userID, testNow)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func validDeviceClaims() jwt.MapClaims {
	return jwt.MapClaims{
		"sub": "user-42",
		"aud": DeviceAudience,
		"jti": testJTI,
		"iat": deviceIssuedAt.Unix(),
		"exp": deviceExpiry.Unix(),
	}
}

func TestDeviceRoundTrip(t *testing.T) {
	s := mustSet(t, testKey(1, testNow))
	tok, exp, err := s.IssueDevice("user-42", testNow)
	if err != nil {
		t.Fatal(err)
	}
	if !exp.Equal(deviceExpiry) {
		t.Errorf("expires = %v, want %v", exp, deviceExpiry)
	}
	raw := payload(t, tok)
	if !strings.Contains(raw, `"aud":"login-device"`) || !strings.Contains(raw, `"sub":"user-42"`) {
		t.Errorf("payload %s", raw)
	}
	got, err := s.ParseDevice(tok, testNow)
	if err != nil {
		t.Fatal(err)
	}
	if got.UserID != "user-42" || !jtiRe.MatchString(got.ID) || !got.IssuedAt.Equal(deviceIssuedAt) || !got.Expires.Equal(deviceExpiry) {
		t.Errorf("ParseDevice = %+v", got)
	}
	// Each token has its own ID: their failures are counted apart.
	if other, err := s.ParseDevice(mustDevice(t, s, "user-42"), testNow); err != nil || other.ID == got.ID {
		t.Errorf("a second device token: %+v, %v; want its own jti", other, err)
	}
	if _, _, err := s.IssueDevice("", testNow); err == nil {
		t.Error("device token without a user")
	}
	if _, err := s.ParseDevice(tok, deviceExpiry); !errors.Is(err, ErrExpired) || errors.Is(err, ErrInvalid) {
		t.Errorf("at exp: err = %v, want ErrExpired only", err)
	}
}

func TestDeviceRejected(t *testing.T) {
	key := testKey(1, testNow)
	s := mustSet(t, key)
	good := mustDevice(t, s, "user-42")
	kid := map[string]any{"kid": key.ID}
	signed := func(mutate func(jwt.MapClaims)) string {
		c := validDeviceClaims()
		mutate(c)
		return signRaw(t, jwt.SigningMethodEdDSA, key.Private, kid, c)
	}
	parts := strings.Split(good, ".")
	cases := map[string]string{
		"garbage":           "a.b.c",
		"tampered user":     parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(payload(t, good), "user-42", "user-43", 1))) + "." + parts[2],
		"other key":         mustDevice(t, mustSet(t, testKey(2, testNow)), "user-42"),
		"session token":     mustIssue(t, s, testSession(false)),
		"SSH grant":         mustGrant(t, s, testGrant()),
		"no aud":            signed(func(c jwt.MapClaims) { delete(c, "aud") }),
		"aud ssh":           signed(func(c jwt.MapClaims) { c["aud"] = SSHAudience }),
		"aud and more":      signed(func(c jwt.MapClaims) { c["aud"] = []string{DeviceAudience, "ssh"} }),
		"no jti":            signed(func(c jwt.MapClaims) { delete(c, "jti") }),
		"short jti":         signed(func(c jwt.MapClaims) { c["jti"] = testJTI[1:] }),
		"no sub":            signed(func(c jwt.MapClaims) { delete(c, "sub") }),
		"no exp":            signed(func(c jwt.MapClaims) { delete(c, "exp") }),
		"lifetime too long": signed(func(c jwt.MapClaims) { c["exp"] = deviceExpiry.Unix() + 1 }),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			d, err := s.ParseDevice(tok, testNow)
			wantInvalid(t, err)
			if d != (Device{}) {
				t.Errorf("non-zero device %+v with error", d)
			}
		})
	}
	if _, err := s.ParseDevice(signed(func(jwt.MapClaims) {}), testNow); err != nil {
		t.Errorf("control token refused: %v", err)
	}
}

// TestDeviceIsNoSessionNorGrant: the kinds share keys, so the other parsers
// must refuse device tokens.
func TestDeviceIsNoSessionNorGrant(t *testing.T) {
	key := testKey(1, testNow)
	s := mustSet(t, key)
	device := mustDevice(t, s, "user-42")
	_, err := s.ParseSession(device, testNow)
	wantInvalid(t, err)
	_, err = s.ParseSSHGrant(device, testDevice, testNow)
	wantInvalid(t, err)
	// Not even with every session claim added.
	c := validDeviceClaims()
	c["auth_time"] = testNow.Unix()
	_, err = s.ParseSession(signRaw(t, jwt.SigningMethodEdDSA, key.Private, map[string]any{"kid": key.ID}, c), testNow)
	wantInvalid(t, err)
}

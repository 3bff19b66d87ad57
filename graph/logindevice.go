package graph

import (
	"strconv"
	"time"

	"fleetgate/ent"
	"fleetgate/graph/model"
)

// signedIn completes a sign-in to u: a full session, and a device token by
// which this client's later logins to u are known (README "Abuse limits").
// A pending session gets none: the token is handed out only once the second
// factor is given too, so a stolen password alone does not earn one.
func (d Deps) signedIn(u *ent.User, issued, authTime time.Time) (*model.AuthPayload, error) {
	p, err := d.issueSession(u, issued, authTime, false)
	if err != nil {
		return nil, err
	}
	device, _, err := d.Tokens.IssueDevice(strconv.Itoa(u.ID), issued)
	if err != nil {
		return nil, err
	}
	p.DeviceToken = &device
	return p, nil
}

// knownDevice returns the ID of deviceToken if it is a valid device token
// of the account u. Anything else (no account, no token, another account's,
// expired, altered, a session) is as if no token had been sent: telling
// them apart would only help an attacker.
func (d Deps) knownDevice(u *ent.User, deviceToken *string) (string, bool) {
	if u == nil || deviceToken == nil {
		return "", false
	}
	device, err := d.Tokens.ParseDevice(*deviceToken, d.Now())
	if err != nil || device.UserID != strconv.Itoa(u.ID) {
		return "", false
	}
	return device.ID, true
}

package graph

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"fleetgate/ent/apikey"
	"fleetgate/ent/applicationmembership"
	"fleetgate/ent/deviceaction"
	"fleetgate/ent/fleetaction"
	"fleetgate/ent/identity"
	"fleetgate/ent/knownemail"
	"fleetgate/ent/organizationmembership"
	"fleetgate/ent/provisioningkey"
	"fleetgate/ent/recoverycode"
	"fleetgate/ent/release"
	"fleetgate/ent/securityevent"
	entsession "fleetgate/ent/session"
	"fleetgate/ent/user"
	"fleetgate/internal/access"
	"fleetgate/internal/policy"
	"fleetgate/internal/viewer"
)

// The export document (exportMyData). Field names are its public format;
// secrets have no field here at all, so none can slip in.
type (
	export struct {
		ExportedAt     time.Time          `json:"exportedAt"`
		Account        exportAccount      `json:"account"`
		Organizations  []exportMembership `json:"organizations"`
		Applications   []exportMembership `json:"applications"`
		APIKeys        []exportAPIKey     `json:"apiKeys"`
		Identities     []exportIdentity   `json:"identities"`
		Sessions       []exportSession    `json:"sessions"`
		SecurityEvents []exportEvent      `json:"securityEvents"`
		Requested      []exportRequest    `json:"requested"`
		// Usernames of who sees the account's email address (they added it
		// as a member by that address), and of whose addresses it sees.
		EmailVisibleTo          []string `json:"emailVisibleTo"`
		KnowsEmailOf            []string `json:"knowsEmailOf"`
		RecoveryCodesRemaining  int      `json:"recoveryCodesRemaining"`
		ProvisioningKeysCreated int      `json:"provisioningKeysCreated"`
	}
	exportAccount struct {
		ID                 string    `json:"id"`
		Username           string    `json:"username"`
		Email              string    `json:"email"`
		EmailVerified      bool      `json:"emailVerified"`
		CreatedAt          time.Time `json:"createdAt"`
		HasPassword        bool      `json:"hasPassword"`
		TwoFactorEnabled   bool      `json:"twoFactorEnabled"`
		SessionsValidAfter time.Time `json:"sessionsValidAfter"`
	}
	exportMembership struct {
		Name  string    `json:"name"` // organization handle or application slug
		Role  string    `json:"role"`
		Since time.Time `json:"since"`
	}
	exportAPIKey struct {
		Name        string     `json:"name"`
		Description string     `json:"description"`
		Prefix      string     `json:"prefix"`
		CreatedAt   time.Time  `json:"createdAt"`
		LastUsedAt  *time.Time `json:"lastUsedAt"`
		ExpiresAt   *time.Time `json:"expiresAt"`
		// Scope is null for a key with its owner's full access.
		Scope *access.Scope `json:"scope"`
	}
	exportIdentity struct {
		Provider string    `json:"provider"`
		Subject  string    `json:"subject"`
		Email    string    `json:"email"`
		LinkedAt time.Time `json:"linkedAt"`
	}
	// exportSession is a stored session (README "Sessions"); its tokens
	// are not stored at all.
	exportSession struct {
		CreatedAt     time.Time `json:"createdAt"`
		LastUsedAt    time.Time `json:"lastUsedAt"`
		ClientAddress string    `json:"clientAddress"`
		UserAgent     string    `json:"userAgent"`
		SignInMethod  string    `json:"signInMethod"`
	}
	exportEvent struct {
		Kind   string    `json:"kind"`
		Detail string    `json:"detail"`
		At     time.Time `json:"at"`
	}
	// exportRequest is something the user asked of a fleet: a device or
	// fleet action, or a release.
	exportRequest struct {
		Kind        string    `json:"kind"`
		What        string    `json:"what"`
		Application string    `json:"applicationId"`
		At          time.Time `json:"at"`
	}
)

func (d Deps) exportMyData(ctx context.Context) (string, error) {
	v, err := viewer.RequireAccount(ctx)
	if err != nil {
		return "", err
	}
	// Everything about the viewer, including rows of fleets they no longer
	// see (their past requests): their own data, past the privacy rules.
	sys := policy.System(ctx)
	u, err := d.DB.User.Get(sys, v.UserID)
	if err != nil {
		return "", err
	}
	doc := export{ExportedAt: d.Now().UTC(), Account: exportAccount{
		ID: strconv.Itoa(u.ID), Username: u.Username, Email: u.Email, CreatedAt: u.CreatedAt,
		EmailVerified: u.EmailVerified, HasPassword: u.PasswordHash != "", TwoFactorEnabled: u.TotpSecret != nil, SessionsValidAfter: u.SessionsValidAfter,
	}}
	orgs, err := d.DB.OrganizationMembership.Query().Where(organizationmembership.UserID(u.ID)).WithOrganization().All(sys)
	if err != nil {
		return "", err
	}
	for _, m := range orgs {
		doc.Organizations = append(doc.Organizations, exportMembership{m.Edges.Organization.Handle, string(m.Role), m.CreatedAt})
	}
	apps, err := d.DB.ApplicationMembership.Query().Where(applicationmembership.UserID(u.ID)).WithApplication().All(sys)
	if err != nil {
		return "", err
	}
	for _, m := range apps {
		doc.Applications = append(doc.Applications, exportMembership{m.Edges.Application.Slug, string(m.Role), m.CreatedAt})
	}
	keys, err := d.DB.ApiKey.Query().Where(apikey.UserID(u.ID)).All(sys)
	if err != nil {
		return "", err
	}
	for _, k := range keys {
		doc.APIKeys = append(doc.APIKeys, exportAPIKey{k.Name, k.Description, k.Prefix, k.CreatedAt, k.LastUsedAt, k.ExpiresAt, k.Scope})
	}
	identities, err := d.DB.Identity.Query().Where(identity.UserID(u.ID)).All(sys)
	if err != nil {
		return "", err
	}
	for _, i := range identities {
		doc.Identities = append(doc.Identities, exportIdentity{i.Provider, i.Subject, i.Email, i.LinkedAt})
	}
	sessions, err := d.DB.Session.Query().Where(entsession.UserID(u.ID)).All(sys)
	if err != nil {
		return "", err
	}
	for _, s := range sessions {
		doc.Sessions = append(doc.Sessions, exportSession{s.CreatedAt, s.LastUsedAt, s.ClientAddress, s.UserAgent, s.SignInMethod})
	}
	events, err := d.DB.SecurityEvent.Query().Where(securityevent.UserID(u.ID)).All(sys)
	if err != nil {
		return "", err
	}
	for _, e := range events {
		doc.SecurityEvents = append(doc.SecurityEvents, exportEvent{string(e.Kind), e.Detail, e.CreatedAt})
	}
	if doc.Requested, err = d.exportRequests(sys, u.ID); err != nil {
		return "", err
	}
	if doc.EmailVisibleTo, err = d.DB.KnownEmail.Query().Where(knownemail.UserID(u.ID)).
		QueryKnownBy().Select(user.FieldUsername).Strings(sys); err != nil {
		return "", err
	}
	if doc.KnowsEmailOf, err = d.DB.KnownEmail.Query().Where(knownemail.KnownByID(u.ID)).
		QueryUser().Select(user.FieldUsername).Strings(sys); err != nil {
		return "", err
	}
	if doc.RecoveryCodesRemaining, err = d.DB.RecoveryCode.Query().Where(recoverycode.UserID(u.ID), recoverycode.UsedAtIsNil()).Count(sys); err != nil {
		return "", err
	}
	if doc.ProvisioningKeysCreated, err = d.DB.ProvisioningKey.Query().Where(provisioningkey.RequestedByID(u.ID)).Count(sys); err != nil {
		return "", err
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	return string(out), err
}

func (d Deps) exportRequests(ctx context.Context, userID int) ([]exportRequest, error) {
	var out []exportRequest
	deviceActions, err := d.DB.DeviceAction.Query().Where(deviceaction.RequestedByID(userID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range deviceActions {
		out = append(out, exportRequest{"DEVICE_ACTION", string(a.Action), strconv.Itoa(a.ApplicationID), a.CreatedAt})
	}
	fleetActions, err := d.DB.FleetAction.Query().Where(fleetaction.RequestedByID(userID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range fleetActions {
		out = append(out, exportRequest{"FLEET_ACTION", string(a.Action), strconv.Itoa(a.ApplicationID), a.CreatedAt})
	}
	releases, err := d.DB.Release.Query().Where(release.RequestedByID(userID)).All(ctx)
	if err != nil {
		return nil, err
	}
	for _, r := range releases {
		out = append(out, exportRequest{"RELEASE", r.Commit, strconv.Itoa(r.ApplicationID), r.CreatedAt})
	}
	return out, nil
}

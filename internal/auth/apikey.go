package auth

import (
	"cmp"
	"context"
	stdsql "database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"fleetgate/ent"
	entapikey "fleetgate/ent/apikey"
	"fleetgate/ent/application"
	"fleetgate/ent/provisioningkey"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/internal/access"
	"fleetgate/internal/apikey"
	"fleetgate/internal/audit"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/text"
	"fleetgate/internal/viewer"
)

// MaxAPIKeys bounds the keys one user holds, which keeps apiKeys one page.
const MaxAPIKeys = 100

// lastUsedResolution is how stale lastUsedAt may be: it is written at most
// once per interval per key, so a busy key costs no write per request.
const lastUsedResolution = time.Minute

var errBadAPIKey = fault.New(fault.Unauthenticated, "invalid API key")

// authenticateAPIKey checks an API key. The checksum refuses mistyped and
// made-up keys before any database lookup; a revoked key is deleted, so it
// fails at once on every instance.
func (s *Service) authenticateAPIKey(ctx context.Context, raw string) (*viewer.Viewer, *ent.User, error) {
	if apikey.Parse(raw) != nil {
		return nil, nil, errBadAPIKey
	}
	now := s.Now()
	hash := apikey.Hash(raw)
	k, err := s.keyOwner(ctx, apiKeyOwner, hash, now)
	if k == nil && err == nil {
		k, err = s.keyOwner(ctx, apiKeyOwnerInGrace, hash, now)
	}
	switch {
	case err != nil:
		return nil, nil, err
	case k == nil:
		return nil, nil, errBadAPIKey
	case k.expiresAt.Valid && !k.expiresAt.Time.After(now):
		return nil, nil, fault.New(fault.Unauthenticated, "API key expired")
	}
	var scope *access.Scope
	if k.scope.Valid && k.scope.String != "" {
		if err := json.Unmarshal([]byte(k.scope.String), &scope); err != nil {
			return nil, nil, fmt.Errorf("API key %d: scope: %w", k.id, err)
		}
	}
	if !k.lastUsedAt.Valid || k.lastUsedAt.Time.Before(now.Add(-lastUsedResolution)) {
		s.touchAPIKey(policy.System(ctx), k.id, now)
	}
	return &viewer.Viewer{UserID: k.owner.ID, Credential: viewer.APIKey, APIKeyID: k.id, Scope: scope}, k.owner, nil
}

// keyRow is what a keyOwnerStatement reads: the key's owner, and, beside the
// owner's columns, the key's id, scope (JSON), expiresAt and lastUsedAt.
type keyRow struct {
	owner                 *ent.User
	id                    int
	scope                 stdsql.NullString
	expiresAt, lastUsedAt stdsql.NullTime
}

// keyOwner runs stmt, a keyOwnerStatement, for the secret's hash at now:
// nil when no key matches.
func (s *Service) keyOwner(ctx context.Context, stmt *database.Statement, hash []byte, now time.Time) (*keyRow, error) {
	var k keyRow
	var err error
	k.owner, err = s.userRow(ctx, stmt, []any{&k.id, &k.scope, &k.expiresAt, &k.lastUsedAt}, hash, now)
	if k.owner == nil {
		return nil, err
	}
	return &k, nil
}

// A key is found by its current secret in one indexed statement with its
// owner (README "Performance"), and only when none has it, by the secret a
// rotation replaced while its grace lasts (README "Scoped API keys"): one
// statement matching either would scan two indexes for every request.
var (
	apiKeyOwner = keyOwnerStatement(func(keys *sql.SelectTable, hash, _ any) *sql.Predicate {
		return sql.EQ(keys.C(entapikey.FieldHash), hash)
	})
	apiKeyOwnerInGrace = keyOwnerStatement(func(keys *sql.SelectTable, hash, now any) *sql.Predicate {
		return sql.And(sql.EQ(keys.C(entapikey.FieldPreviousHash), hash), sql.GT(keys.C(entapikey.FieldPreviousValidUntil), now))
	})
)

// keyOwnerStatement reads the keyRow of the key that match selects. Its
// values: the secret's hash and now (which the current secret's match does
// not use). Nobody is signed in until the key is found: no privacy rule
// applies.
func keyOwnerStatement(match func(keys *sql.SelectTable, hash, now any) *sql.Predicate) *database.Statement {
	return database.NewStatement(2, func(d string, p ...any) sql.Querier {
		users, keys := sql.Table(user.Table), sql.Table(entapikey.Table)
		q := sql.Dialect(d).Select(users.Columns(user.Columns...)...).From(users)
		q.Join(keys).On(users.C(user.FieldID), keys.C(entapikey.FieldUserID)) // names keys (t1)
		return q.AppendSelect(keys.Columns(entapikey.FieldID, entapikey.FieldScope, entapikey.FieldExpiresAt, entapikey.FieldLastUsedAt)...).
			Where(match(keys, p[0], p[1]))
	})
}

// authenticateProvisioningKey checks a device provisioning key: the caller
// is then no user, only the right to register devices in one application.
func (s *Service) authenticateProvisioningKey(ctx context.Context, raw string) (*viewer.Viewer, error) {
	if apikey.Provisioning.Parse(raw) != nil {
		return nil, errBadAPIKey
	}
	k, err := s.DB.ProvisioningKey.Query().Where(provisioningkey.Hash(apikey.Hash(raw))).Only(policy.System(ctx))
	switch {
	case ent.IsNotFound(err):
		return nil, errBadAPIKey
	case err != nil:
		return nil, err
	}
	return &viewer.Viewer{Credential: viewer.Provisioning, ApplicationID: k.ApplicationID}, nil
}

// touchAPIKey records a use. The update is conditional, so concurrent
// requests write once, and its failure never fails the request.
func (s *Service) touchAPIKey(ctx context.Context, id int, now time.Time) {
	err := s.DB.ApiKey.Update().Where(entapikey.ID(id), entapikey.Or(
		entapikey.LastUsedAtIsNil(), entapikey.LastUsedAtLT(now.Add(-lastUsedResolution)),
	)).SetLastUsedAt(now).Exec(ctx)
	if err != nil {
		s.Log.WarnContext(ctx, "recording API key use failed", "key", id, "err", err)
	}
}

// CreateAPIKey makes the caller a new API key, narrowed by scope if one is
// given (README "Scoped API keys"); the key itself is returned only here.
func (s *Service) CreateAPIKey(ctx context.Context, name string, description *string, expiresAt *time.Time, scope *access.Scope) (string, *ent.ApiKey, error) {
	v, err := viewer.RequireRecentSession(ctx, "createApiKey", s.Now())
	if err != nil {
		return "", nil, err
	}
	name, err = text.Line.Clean("name", name, 1, 50)
	if err != nil {
		return "", nil, err
	}
	cleaned := ""
	if description != nil {
		if cleaned, err = text.Multiline.Clean("description", *description, 0, 150); err != nil {
			return "", nil, err
		}
	}
	if expiresAt != nil {
		if !expiresAt.After(s.Now()) {
			return "", nil, fault.Input("expiresAt", "expiresAt must be in the future")
		}
		utc := expiresAt.UTC() // stored times are UTC (README "Configuration")
		expiresAt = &utc
	}
	if scope, err = s.narrowing(ctx, scope); err != nil {
		return "", nil, err
	}
	key, err := apikey.Generate()
	if err != nil {
		return "", nil, err
	}
	var created *ent.ApiKey
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		// The owner's row is locked first, so concurrent creations count
		// one after the other and MaxAPIKeys holds.
		u, err := lockedUser(ctx, tx, v.UserID)
		if err != nil {
			return err
		}
		n, err := tx.ApiKey.Query().Where(entapikey.UserID(v.UserID)).Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxAPIKeys {
			return fault.Input("name", "you have %d API keys, the most allowed: revoke one first", n)
		}
		create := tx.ApiKey.Create().SetUserID(v.UserID).SetName(name).SetDescription(cleaned).
			SetPrefix(apikey.DisplayPrefix(key)).SetHash(apikey.Hash(key)).
			SetNillableExpiresAt(expiresAt)
		if scope != nil {
			create.SetScope(scope)
		}
		if created, err = create.Save(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx.Client(), v.UserID, securityevent.KindAPI_KEY_CREATED, describeKey(name, scope)); err != nil {
			return err
		}
		return s.mail(ctx, tx, u, "A new fleetgate API key", "An API key named "+describeKey("\""+name+"\"", scope)+" was created for the fleetgate account "+u.Username+
			".\n\nIf it was not you, revoke it (revokeApiKeys) and change your password.\n")
	})
	if err != nil {
		return "", nil, err
	}
	return key, created.Unwrap(), nil
}

// describeKey names a key in security events: its name, and its scope if
// it has one.
func describeKey(name string, scope *access.Scope) string {
	if scope == nil {
		return name
	}
	return name + " (" + scope.String() + ")"
}

// MaxScopeApplications bounds the applications one scope lists.
const MaxScopeApplications = 100

// narrowing checks that scope only narrows what the caller may do: every
// application it lists is one the caller has a role on, and that role
// grants every permission it lists. It returns the scope with repeated
// entries dropped. Only the creation is checked here; every request also
// checks the owner's live role (internal/policy).
func (s *Service) narrowing(ctx context.Context, scope *access.Scope) (*access.Scope, error) {
	if scope == nil {
		return nil, nil
	}
	out := &access.Scope{ReadOnly: scope.ReadOnly, ApplicationIDs: distinct(scope.ApplicationIDs)}
	if scope.Permissions != nil {
		out.Permissions = distinct(scope.Permissions)
	}
	switch {
	case len(out.ApplicationIDs) > MaxScopeApplications:
		return nil, fault.Input("scope", "a scope lists at most %d applications", MaxScopeApplications)
	case scope.Permissions != nil && len(scope.Permissions) == 0:
		return nil, fault.Input("scope", "permissions lists none: name at least one, or ask for readOnly")
	case scope.ReadOnly && len(scope.Permissions) > 0:
		return nil, fault.Input("scope", "a readOnly scope allows no permissions: give readOnly or permissions, not both")
	}
	if len(out.ApplicationIDs) == 0 {
		return out, nil
	}
	roles, err := policy.ViewerRoles(ctx)
	if err != nil {
		return nil, err
	}
	apps, err := s.DB.Application.Query().Where(application.IDIn(out.ApplicationIDs...)).All(ctx)
	if err != nil {
		return nil, err
	}
	if len(apps) != len(out.ApplicationIDs) {
		return nil, fault.Input("scope", "%d of the scope's applications do not exist or are not shared with you", len(out.ApplicationIDs)-len(apps))
	}
	for _, app := range apps {
		role := roles.On(app)
		for _, p := range out.Permissions {
			if !role.Allows(p) {
				return nil, fault.Input("scope", "your %s role on %s does not include %s: a scope can only narrow what you may do", role, app.Slug, p)
			}
		}
	}
	return out, nil
}

// distinct is items without repeats, in their first order.
func distinct[T comparable](items []T) []T {
	out := []T{}
	for _, x := range items {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}

// MaxRotationGrace is the longest an old secret may keep working after a
// rotation.
const MaxRotationGrace = 7 * 24 * time.Hour

// RotateAPIKey gives the caller's key id a new secret, keeping its id,
// name, description, expiry and scope. The old secret keeps working for
// grace (at most MaxRotationGrace), then fails on every instance; a
// secret replaced by an earlier rotation stops at once. The new key is
// returned only here.
func (s *Service) RotateAPIKey(ctx context.Context, id int, graceSeconds int) (string, *ent.ApiKey, error) {
	now := s.Now()
	v, err := viewer.RequireRecentSession(ctx, "rotateApiKey", now)
	if err != nil {
		return "", nil, err
	}
	// Checked before converting: a huge value would overflow the Duration.
	if graceSeconds < 0 || graceSeconds > int(MaxRotationGrace/time.Second) {
		return "", nil, fault.Input("graceSeconds", "graceSeconds is 0 to %d (7 days)", int(MaxRotationGrace/time.Second))
	}
	grace := time.Duration(graceSeconds) * time.Second
	key, err := apikey.Generate()
	if err != nil {
		return "", nil, err
	}
	var rotated *ent.ApiKey
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		old, err := tx.ApiKey.Query().Where(entapikey.ID(id), entapikey.UserID(v.UserID)).Only(ctx)
		if ent.IsNotFound(err) {
			return fault.New(fault.NotFound, "no such API key of yours")
		}
		if err != nil {
			return err
		}
		if old.ExpiresAt != nil && !old.ExpiresAt.After(now) {
			return fault.Input("id", "this API key has expired: create a new one")
		}
		// Conditional on the secret read, so of two concurrent rotations
		// one fails rather than both handing out a key.
		update := tx.ApiKey.UpdateOneID(id).Where(entapikey.Hash(old.Hash)).
			SetHash(apikey.Hash(key)).SetPrefix(apikey.DisplayPrefix(key))
		if grace > 0 {
			update.SetPreviousHash(old.Hash).SetPreviousValidUntil(now.Add(grace))
		} else {
			// Without grace the old secret is gone, not merely past a
			// deadline that a lagging clock could still see ahead.
			update.ClearPreviousHash().ClearPreviousValidUntil()
		}
		if rotated, err = update.Save(ctx); ent.IsNotFound(err) {
			return fault.New(fault.Conflict, "this API key was rotated or revoked meanwhile")
		} else if err != nil {
			return err
		}
		until := "the old secret stopped working at once"
		if grace > 0 {
			until = "the old secret works until " + now.Add(grace).UTC().Format(time.RFC3339)
		}
		return audit.Record(ctx, tx.Client(), v.UserID, securityevent.KindAPI_KEY_ROTATED, describeKey(old.Name, old.Scope)+"; "+until)
	})
	if err != nil {
		return "", nil, err
	}
	return key, rotated.Unwrap(), nil
}

// APIKeys lists the caller's API keys, newest first.
func (s *Service) APIKeys(ctx context.Context) ([]*ent.ApiKey, error) {
	v, err := viewer.RequireAccount(ctx)
	if err != nil {
		return nil, err
	}
	return s.DB.ApiKey.Query().Where(entapikey.UserID(v.UserID)).
		Order(ent.Desc(entapikey.FieldCreatedAt), ent.Desc(entapikey.FieldID)).All(ctx)
}

// RevokeAPIKeys deletes the caller's API keys ids, all or none.
func (s *Service) RevokeAPIKeys(ctx context.Context, ids []int) ([]int, error) {
	v, err := viewer.RequireAccount(ctx)
	if err != nil {
		return nil, err
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) > MaxAPIKeys {
		return nil, fault.Input("ids", "at most %d ids at once", MaxAPIKeys)
	}
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		keys, err := tx.ApiKey.Query().Where(entapikey.IDIn(ids...), entapikey.UserID(v.UserID)).All(ctx)
		if err != nil {
			return err
		}
		if len(keys) != len(ids) {
			return fault.New(fault.NotFound, "%d of the %d API keys do not exist or are not yours: none was revoked", len(ids)-len(keys), len(ids))
		}
		// A concurrent revocation may have deleted some in the meantime.
		if n, err := tx.ApiKey.Delete().Where(entapikey.IDIn(ids...)).Exec(ctx); err != nil || n != len(ids) {
			return cmp.Or(err, fault.New(fault.NotFound, "some of these API keys were revoked meanwhile: none was revoked"))
		}
		for _, k := range keys {
			if err := audit.Record(ctx, tx.Client(), v.UserID, securityevent.KindAPI_KEY_REVOKED, k.Name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ids, nil
}

package auth

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"entgo.io/ent/dialect/sql"

	"fleetgate/ent"
	entapikey "fleetgate/ent/apikey"
	"fleetgate/ent/provisioningkey"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
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
	// Nobody is signed in until the key is found. The key and its owner
	// come in one statement (README "Performance").
	ctx = policy.System(ctx)
	now := s.Now()
	u, err := s.DB.User.Query().Modify(func(s *sql.Selector) {
		keys := sql.Table(entapikey.Table)
		s.Join(keys).On(s.C(user.FieldID), keys.C(entapikey.FieldUserID)) // names keys (t1)
		expiresAt, lastUsedAt := keys.C(entapikey.FieldExpiresAt), keys.C(entapikey.FieldLastUsedAt)
		s.Where(sql.EQ(keys.C(entapikey.FieldHash), apikey.Hash(raw))).
			AppendSelectAs(keys.C(entapikey.FieldID), keyID).
			AppendSelectExprAs(whether(sql.And(sql.NotNull(expiresAt), sql.LTE(expiresAt, now))), keyExpired).
			AppendSelectExprAs(whether(sql.Or(sql.IsNull(lastUsedAt), sql.LT(lastUsedAt, now.Add(-lastUsedResolution)))), keyUseUnrecorded)
	}).Only(ctx)
	switch {
	case ent.IsNotFound(err):
		return nil, nil, errBadAPIKey
	case err != nil:
		return nil, nil, err
	}
	var columns [3]int
	for i, name := range []string{keyID, keyExpired, keyUseUnrecorded} {
		if columns[i], err = intValue(u, name); err != nil {
			return nil, nil, err
		}
	}
	id, expired, useUnrecorded := columns[0], columns[1] == 1, columns[2] == 1
	if expired {
		return nil, nil, fault.New(fault.Unauthenticated, "API key expired")
	}
	if useUnrecorded {
		s.touchAPIKey(ctx, id, now)
	}
	return &viewer.Viewer{UserID: u.ID, Credential: viewer.APIKey, APIKeyID: id}, u, nil
}

// The columns authenticateAPIKey reads beside the user's: the key's id, and
// two conditions on it, as 0 or 1 (integers scan alike on every database).
const (
	keyID            = "api_key_id"
	keyExpired       = "api_key_expired"
	keyUseUnrecorded = "api_key_use_unrecorded"
)

// whether is 1 where p holds, else 0.
func whether(p *sql.Predicate) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) { b.WriteString("CASE WHEN ").Join(p).WriteString(" THEN 1 ELSE 0 END") })
}

// intValue is the integer column name that a query selected beside u's own.
func intValue(u *ent.User, name string) (int, error) {
	v, err := u.Value(name)
	if n, ok := v.(int64); ok && err == nil {
		return int(n), nil
	}
	return 0, fmt.Errorf("column %s: %T %v", name, v, err)
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

// CreateAPIKey makes the caller a new API key; the key itself is returned
// only here.
func (s *Service) CreateAPIKey(ctx context.Context, name string, description *string, expiresAt *time.Time) (string, *ent.ApiKey, error) {
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
	if expiresAt != nil && !expiresAt.After(s.Now()) {
		return "", nil, fault.Input("expiresAt", "expiresAt must be in the future")
	}
	key, err := apikey.Generate()
	if err != nil {
		return "", nil, err
	}
	var created *ent.ApiKey
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		n, err := tx.ApiKey.Query().Where(entapikey.UserID(v.UserID)).Count(ctx)
		if err != nil {
			return err
		}
		if n >= MaxAPIKeys {
			return fault.Input("name", "you have %d API keys, the most allowed: revoke one first", n)
		}
		created, err = tx.ApiKey.Create().SetUserID(v.UserID).SetName(name).SetDescription(cleaned).
			SetPrefix(apikey.DisplayPrefix(key)).SetHash(apikey.Hash(key)).
			SetNillableExpiresAt(expiresAt).Save(ctx)
		if err != nil {
			return err
		}
		if err := audit.Record(ctx, tx.Client(), v.UserID, securityevent.KindAPI_KEY_CREATED, name); err != nil {
			return err
		}
		u, err := tx.User.Get(ctx, v.UserID)
		if err != nil {
			return err
		}
		return s.mail(ctx, tx, u, "A new fleetgate API key", "An API key named \""+name+"\" was created for the fleetgate account "+u.Username+
			".\n\nIf it was not you, revoke it (revokeApiKeys) and change your password.\n")
	})
	if err != nil {
		return "", nil, err
	}
	return key, created.Unwrap(), nil
}

// APIKeys lists the caller's API keys, newest first.
func (s *Service) APIKeys(ctx context.Context) ([]*ent.ApiKey, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, err
	}
	return s.DB.ApiKey.Query().Where(entapikey.UserID(v.UserID)).
		Order(ent.Desc(entapikey.FieldCreatedAt), ent.Desc(entapikey.FieldID)).All(ctx)
}

// RevokeAPIKeys deletes the caller's API keys ids, all or none.
func (s *Service) RevokeAPIKeys(ctx context.Context, ids []int) ([]int, error) {
	v, err := viewer.Require(ctx)
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

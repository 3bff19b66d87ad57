// Package keystore keeps the session-token signing keys in the database, so
// every instance on one database signs and verifies with the same keys and
// tokens survive restarts. The private keys are sealed with a key derived
// from SECRET_KEY: a copy of the database alone cannot forge sessions.
package keystore

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/signingkey"
	"fleetgate/internal/secretbox"
	"fleetgate/internal/token"
)

// Load returns the stored signing keys, creating the first one if there is
// none. Instances starting at once race on the unique generation: the
// losers' inserts fail and they read the winner's key.
// Keys stored in the clear (before sealing) are sealed as they are loaded.
func Load(ctx context.Context, db *ent.Client, secretKey []byte, now time.Time) (*token.Set, error) {
	box := secretbox.ForPurpose(secretKey, "fleetgate signing keys")
	rows, err := db.SigningKey.Query().Order(signingkey.ByGeneration()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	if len(rows) == 0 {
		key, err := token.GenerateKey(now)
		if err != nil {
			return nil, err
		}
		sealed, err := box.Seal(key.Private.Seed(), []byte(key.ID))
		if err != nil {
			return nil, err
		}
		err = db.SigningKey.Create().SetGeneration(1).SetKid(key.ID).
			SetPrivateKey(sealed).SetCreatedAt(key.CreatedAt.UTC()).Exec(ctx) // stored times are UTC
		if err != nil && !ent.IsConstraintError(err) {
			return nil, fmt.Errorf("store signing key: %w", err)
		}
		return Load(ctx, db, secretKey, now)
	}
	keys := make([]token.Key, 0, len(rows))
	for _, r := range rows {
		seed, err := openSeed(ctx, db, box, r)
		if err != nil {
			return nil, err
		}
		keys = append(keys, token.Key{ID: r.Kid, Private: ed25519.NewKeyFromSeed(seed), CreatedAt: r.CreatedAt})
	}
	return token.NewSet(keys...)
}

// openSeed unseals a stored key (bound to its kid). A seed stored in the
// clear, by a version that did not seal, is sealed now.
func openSeed(ctx context.Context, db *ent.Client, box *secretbox.Box, r *ent.SigningKey) ([]byte, error) {
	if len(r.PrivateKey) == ed25519.SeedSize {
		sealed, err := box.Seal(r.PrivateKey, []byte(r.Kid))
		if err == nil {
			err = db.SigningKey.UpdateOne(r).SetPrivateKey(sealed).Exec(ctx)
		}
		if err != nil {
			return nil, fmt.Errorf("seal signing key %s: %w", r.Kid, err)
		}
		return r.PrivateKey, nil
	}
	seed, err := box.Open(r.PrivateKey, []byte(r.Kid))
	if err != nil || len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("signing key %s does not open with this SECRET_KEY (was it changed?)", r.Kid)
	}
	return seed, nil
}

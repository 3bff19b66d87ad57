// Package keystore keeps the session-token signing keys in the database, so
// every instance on one database signs and verifies with the same keys and
// tokens survive restarts.
package keystore

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/signingkey"
	"fleetgate/internal/token"
)

// Load returns the stored signing keys, creating the first one if there is
// none. Instances starting at once race on the unique generation: the
// losers' inserts fail and they read the winner's key.
func Load(ctx context.Context, db *ent.Client, now time.Time) (*token.Set, error) {
	rows, err := db.SigningKey.Query().Order(signingkey.ByGeneration()).All(ctx)
	if err != nil {
		return nil, fmt.Errorf("load signing keys: %w", err)
	}
	if len(rows) == 0 {
		key, err := token.GenerateKey(now)
		if err != nil {
			return nil, err
		}
		err = db.SigningKey.Create().SetGeneration(1).SetKid(key.ID).
			SetPrivateKey(key.Private.Seed()).SetCreatedAt(key.CreatedAt).Exec(ctx)
		if err != nil && !ent.IsConstraintError(err) {
			return nil, fmt.Errorf("store signing key: %w", err)
		}
		return Load(ctx, db, now)
	}
	keys := make([]token.Key, 0, len(rows))
	for _, r := range rows {
		if len(r.PrivateKey) != ed25519.SeedSize {
			return nil, fmt.Errorf("signing key %s: bad seed length %d", r.Kid, len(r.PrivateKey))
		}
		keys = append(keys, token.Key{ID: r.Kid, Private: ed25519.NewKeyFromSeed(r.PrivateKey), CreatedAt: r.CreatedAt})
	}
	return token.NewSet(keys...)
}

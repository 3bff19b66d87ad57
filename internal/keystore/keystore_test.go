package keystore_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"fleetgate/internal/apitest"
	"fleetgate/internal/keystore"
)

func TestKeysAreSealedAtRest(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		secret := bytes.Repeat([]byte{1}, 32)
		// A fresh table: the test server's own key is removed first.
		apitest.Must(s.DB.SigningKey.Delete().Exec(ctx))(t)
		first := apitest.Must(keystore.Load(ctx, s.DB, secret, time.Now()))(t)
		row := apitest.Must(s.DB.SigningKey.Query().Only(ctx))(t)
		if len(row.PrivateKey) == ed25519.SeedSize {
			t.Fatal("the seed is stored in the clear")
		}
		again := apitest.Must(keystore.Load(ctx, s.DB, secret, time.Now()))(t)
		if !bytes.Equal(first.JWKS(), again.JWKS()) {
			t.Fatal("a second load gives other keys")
		}
		// Another SECRET_KEY cannot open it: a clear error, no new key.
		if _, err := keystore.Load(ctx, s.DB, bytes.Repeat([]byte{2}, 32), time.Now()); err == nil {
			t.Fatal("opened with the wrong SECRET_KEY")
		}
	})
}

func TestClearKeysAreSealedOnLoad(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		secret := bytes.Repeat([]byte{1}, 32)
		apitest.Must(s.DB.SigningKey.Delete().Exec(ctx))(t)
		seed := bytes.Repeat([]byte{9}, ed25519.SeedSize)
		apitest.Must(s.DB.SigningKey.Create().SetGeneration(1).SetKid("legacy").SetPrivateKey(seed).Save(ctx))(t)
		set := apitest.Must(keystore.Load(ctx, s.DB, secret, time.Now()))(t)
		if !bytes.Contains(set.JWKS(), []byte(`"legacy"`)) {
			t.Fatalf("JWKS %s", set.JWKS())
		}
		row := apitest.Must(s.DB.SigningKey.Query().Only(ctx))(t)
		if bytes.Equal(row.PrivateKey, seed) {
			t.Fatal("the clear seed was not sealed")
		}
		apitest.Must(keystore.Load(ctx, s.DB, secret, time.Now()))(t)
	})
}

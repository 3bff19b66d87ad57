// Package apitest is a TEMPORARY stand-in while graph does not build.
package apitest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"

	"fleetgate/ent"
	"fleetgate/internal/database"
)

type Server struct{ DB *ent.Client }

func Run(t *testing.T, fn func(t *testing.T, s *Server)) {
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		drv, err := database.SQLite(filepath.Join(t.TempDir(), "x.db"))
		if err != nil {
			t.Fatal(err)
		}
		fn(t, start(t, drv))
	})
	if dsn := os.Getenv("TEST_DATABASE_URL"); dsn != "" {
		t.Run("postgres", func(t *testing.T) {
			t.Parallel()
			admin, _ := sql.Open("postgres", dsn)
			defer admin.Close()
			b := make([]byte, 8)
			rand.Read(b)
			schema := "t_" + hex.EncodeToString(b)
			if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db, _ := sql.Open("postgres", dsn); db.Exec("DROP SCHEMA " + schema + " CASCADE"); db.Close() })
			u, _ := url.Parse(dsn)
			q := u.Query()
			q.Set("search_path", schema)
			u.RawQuery = q.Encode()
			db, _ := sql.Open("postgres", u.String())
			db.SetMaxOpenConns(5)
			fn(t, start(t, entsql.OpenDB(dialect.Postgres, db)))
		})
	}
}

func start(t *testing.T, drv *entsql.Driver) *Server {
	c := ent.NewClient(ent.Driver(drv))
	t.Cleanup(func() { c.Close() })
	if err := database.Migrate(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	return &Server{DB: c}
}

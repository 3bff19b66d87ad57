// Package database opens fleetgate's storage: an embedded SQLite file by
// default, PostgreSQL when a postgres:// URL is configured. Both come back
// as an ent driver, and Migrate brings either schema up to date.
package database

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
	_ "github.com/lib/pq"  // registers "postgres"
	_ "modernc.org/sqlite" // registers "sqlite" (pure Go: CGO_ENABLED=0 builds)

	"fleetgate/ent"
	// Registers the privacy policies of ent/schema with every client.
	_ "fleetgate/ent/runtime"
)

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Postgres opens a PostgreSQL database through lib/pq.
func Postgres(dsn string) (*entsql.Driver, error) {
	db, err := sql.Open("postgres", dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	db.SetMaxOpenConns(20)
	db.SetMaxIdleConns(20)
	return entsql.OpenDB(dialect.Postgres, db), nil
}

// SQLite opens (creating it if needed) the SQLite database file at path.
//
// Foreign keys are on (ent's cascades need them), WAL lets readers run
// beside the writer, and transactions begin IMMEDIATE so two writers queue
// on busy_timeout instead of one failing with SQLITE_BUSY when it upgrades
// a read lock.
func SQLite(path string) (*entsql.Driver, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	return entsql.OpenDB(dialect.SQLite, db), nil
}

// migrating serializes Migrate: ent's migrator rewrites its package-level
// table descriptors, so two migrations in one process (parallel tests) race.
var migrating sync.Mutex

// Migrate creates or updates the schema. ent's migration only adds: it never
// drops a column or table.
func Migrate(ctx context.Context, client *ent.Client) error {
	migrating.Lock()
	defer migrating.Unlock()
	if err := client.Schema.Create(ctx); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}

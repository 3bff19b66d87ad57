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

	"fleetgate/ent/migrate"
	// Registers the privacy policies of ent/schema with every client.
	_ "fleetgate/ent/runtime"
)

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Postgres opens a PostgreSQL database through lib/pq. Parameters are bound
// in binary (binary_parameters=yes, unless dsn says otherwise), so a query
// with parameters takes one round trip, not two.
func Postgres(dsn string) (*entsql.Driver, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if q := u.Query(); !q.Has("binary_parameters") {
		q.Set("binary_parameters", "yes")
		u.RawQuery = q.Encode()
	}
	db, err := sql.Open("postgres", u.String())
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

// migrating serializes Migrate within the process: ent's migrator rewrites
// its package-level table descriptors, so two migrations in one process
// (parallel tests) race.
var migrating sync.Mutex

// migrationLock is the PostgreSQL advisory lock key that serializes Migrate
// across processes: instances starting together on an empty database would
// otherwise all see no tables and all create them, and all but one fail
// (README "Configuration"). The key is database-wide, whatever the schema.
const migrationLock int64 = 0x666c656574676174 // "fleetgat"

// Migrate creates or updates the schema. ent's migration only adds: it never
// drops a column or table.
func Migrate(ctx context.Context, drv *entsql.Driver) error {
	migrating.Lock()
	defer migrating.Unlock()
	if drv.Dialect() == dialect.Postgres {
		// A transaction-level lock, held by a transaction of its own while
		// the migration runs on other connections: it ends with the
		// transaction whatever happens, so no pooled connection keeps it.
		lock, err := drv.DB().BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migrate schema: %w", err)
		}
		defer lock.Rollback()
		if _, err := lock.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("migrate schema: take the migration lock: %w", err)
		}
	}
	if err := migrate.NewSchema(drv).Create(ctx); err != nil {
		return fmt.Errorf("migrate schema: %w", err)
	}
	return nil
}

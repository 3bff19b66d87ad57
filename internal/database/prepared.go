package database

import (
	"context"
	"database/sql"
	"sync"

	"entgo.io/ent/dialect"
	entsql "entgo.io/ent/dialect/sql"
)

// MaxPreparedStatements bounds the statements Prepared keeps: ent writes a
// few hundred distinct ones (an IN list's length makes its own), and each
// costs a parsed plan in every database connection that ran it. Past the
// bound, new ones run unprepared.
const MaxPreparedStatements = 500

// Prepared returns drv with every statement run outside a transaction
// prepared once and reused (README "Performance"): the database parses and
// plans it once per connection instead of on every request. Transactions run
// their statements unprepared: preparing takes a connection from the pool,
// which a transaction holding the last one would wait for forever.
func Prepared(drv *entsql.Driver) dialect.Driver {
	return &preparedDriver{Driver: drv, conn: entsql.Conn{ExecQuerier: &statements{db: drv.DB()}}}
}

type preparedDriver struct {
	*entsql.Driver // transactions, Close, Dialect
	conn           entsql.Conn
}

func (d *preparedDriver) Exec(ctx context.Context, query string, args, v any) error {
	return d.conn.Exec(ctx, query, args, v)
}

func (d *preparedDriver) Query(ctx context.Context, query string, args, v any) error {
	return d.conn.Query(ctx, query, args, v)
}

// ExecContext and QueryContext are ent's Client.ExecContext and QueryContext
// (a Statement's), prepared like the rest.
func (d *preparedDriver) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	return d.conn.ExecContext(ctx, query, args...)
}

func (d *preparedDriver) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return d.conn.QueryContext(ctx, query, args...)
}

// statements is an entsql.ExecQuerier over db that prepares each statement
// text on first use and keeps it, up to MaxPreparedStatements.
type statements struct {
	db   *sql.DB
	mu   sync.RWMutex
	kept map[string]*sql.Stmt
}

func (s *statements) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if stmt := s.stmt(ctx, query); stmt != nil {
		return stmt.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, query, args...)
}

func (s *statements) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if stmt := s.stmt(ctx, query); stmt != nil {
		return stmt.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, query, args...)
}

// stmt returns the kept statement of query, preparing it if there is room;
// nil means run it unprepared (no room, or preparing failed: the query then
// reports its own error).
func (s *statements) stmt(ctx context.Context, query string) *sql.Stmt {
	s.mu.RLock()
	stmt, ok := s.kept[query]
	full := len(s.kept) >= MaxPreparedStatements
	s.mu.RUnlock()
	if ok || full {
		return stmt
	}
	prepared, err := s.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if stmt, ok := s.kept[query]; ok { // prepared meanwhile by another request
		prepared.Close()
		return stmt
	}
	if len(s.kept) >= MaxPreparedStatements {
		prepared.Close()
		return nil
	}
	if s.kept == nil {
		s.kept = map[string]*sql.Stmt{}
	}
	s.kept[query] = prepared
	return prepared
}

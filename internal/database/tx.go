package database

import (
	"context"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"fleetgate/ent"
)

// WithTx runs fn in a transaction: it commits if fn succeeds and rolls back
// otherwise, so a failure leaves nothing half done.
func WithTx(ctx context.Context, db *ent.Client, fn func(tx *ent.Tx) error) error {
	tx, err := db.Tx(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if p := recover(); p != nil {
			tx.Rollback()
			panic(p)
		}
	}()
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// LockRow makes a query inside a transaction lock the rows it reads, on
// PostgreSQL. SQLite transactions here begin IMMEDIATE: the writer already
// holds the database, and SQLite has no FOR UPDATE.
func LockRow(s *sql.Selector) {
	if s.Dialect() != dialect.SQLite {
		s.ForUpdate()
	}
}

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

// LockRowSkipLocked is LockRow for work queues: on PostgreSQL, rows
// another transaction holds are skipped rather than waited for.
func LockRowSkipLocked(s *sql.Selector) {
	if s.Dialect() != dialect.SQLite {
		s.ForUpdate(sql.WithLockAction(sql.SkipLocked))
	}
}

// AfterCommit runs fn once tx has committed, and never if it rolls back:
// for what must follow a change and only a change that was made (waking
// the mail worker).
func AfterCommit(tx *ent.Tx, fn func(ctx context.Context)) {
	tx.OnCommit(func(next ent.Committer) ent.Committer {
		return ent.CommitFunc(func(ctx context.Context, tx *ent.Tx) error {
			err := next.Commit(ctx, tx)
			if err == nil {
				fn(ctx)
			}
			return err
		})
	})
}

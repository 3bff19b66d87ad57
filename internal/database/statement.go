package database

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	entsql "entgo.io/ent/dialect/sql"

	"fleetgate/ent"
)

// Statement is a query whose text ent's builder writes once per dialect;
// each run only binds its values. Building the text is most of what an ent
// query costs the server, which the authentication of every request should
// not pay (README "Performance").
type Statement struct {
	values int
	build  func(dialect string, params ...any) entsql.Querier
	texts  sync.Map // dialect: *statementText
}

type statementText struct {
	text  string
	order []int // the value each placeholder binds, by index, in text order
}

// param stands for a statement's value while ent writes its text.
type param int

// NewStatement is the statement that build writes for a dialect, with
// params[i] wherever ent's builder takes the i-th value. Every value of
// the text must be one of params: a constant would be baked in.
func NewStatement(values int, build func(dialect string, params ...any) entsql.Querier) *Statement {
	return &Statement{values: values, build: build}
}

// QueryRow runs the statement on db with values, in the order of its
// params, and gives its first row, if there is one, to scan. The rows are
// closed when it returns, so the caller's next statement can have the
// connection: holding it would let requests that each wait for a second
// connection take the whole pool.
func (s *Statement) QueryRow(ctx context.Context, db *ent.Client, scan func(*sql.Rows) error, values ...any) (found bool, err error) {
	t, err := s.text(db.Dialect())
	if err != nil {
		return false, err
	}
	args := make([]any, len(t.order))
	for i, v := range t.order {
		if v >= len(values) {
			return false, fmt.Errorf("statement %q: %d values, want %d", t.text, len(values), v+1)
		}
		args[i] = values[v]
	}
	rows, err := db.QueryContext(ctx, t.text, args...)
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	if err := scan(rows); err != nil {
		return false, err
	}
	return true, rows.Close()
}

func (s *Statement) text(dialect string) (*statementText, error) {
	if t, ok := s.texts.Load(dialect); ok {
		return t.(*statementText), nil
	}
	params := make([]any, s.values)
	for i := range params {
		params[i] = param(i)
	}
	text, args := s.build(dialect, params...).Query()
	t := &statementText{text: text, order: make([]int, len(args))}
	for i, a := range args {
		p, ok := a.(param)
		if !ok {
			return nil, fmt.Errorf("statement %q: value %d is %v, not a parameter", text, i, a)
		}
		t.order[i] = int(p)
	}
	s.texts.Store(dialect, t)
	return t, nil
}

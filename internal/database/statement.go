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
	build func(dialect string, params ...any) entsql.Querier
	texts sync.Map // dialect: *statementText
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
	return &Statement{build: func(d string, _ ...any) entsql.Querier {
		params := make([]any, values)
		for i := range params {
			params[i] = param(i)
		}
		return build(d, params...)
	}}
}

// Query runs the statement on db with values, in the order of its params.
func (s *Statement) Query(ctx context.Context, db *ent.Client, values ...any) (*sql.Rows, error) {
	t, err := s.text(db.Dialect())
	if err != nil {
		return nil, err
	}
	args := make([]any, len(t.order))
	for i, v := range t.order {
		if v >= len(values) {
			return nil, fmt.Errorf("statement %q: %d values, want %d", t.text, len(values), v+1)
		}
		args[i] = values[v]
	}
	return db.QueryContext(ctx, t.text, args...)
}

func (s *Statement) text(dialect string) (*statementText, error) {
	if t, ok := s.texts.Load(dialect); ok {
		return t.(*statementText), nil
	}
	text, args := s.build(dialect).Query()
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

package database

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Traced returns drv with a span for every statement of a traced request
// (README "Tracing"):
// named by its first keyword (SELECT, INSERT, …), with the database system
// and the statement's text, whose values are parameters and so never in
// it. Statements in transactions get theirs too.
func Traced(drv dialect.Driver, tp trace.TracerProvider) dialect.Driver {
	system := "sqlite"
	if drv.Dialect() == dialect.Postgres {
		system = "postgresql"
	}
	t := &statementTracer{tracer: tp.Tracer("fleetgate/internal/database"), system: system}
	return &tracedDriver{tracedConn{drv, t}, drv}
}

type statementTracer struct {
	tracer trace.Tracer
	system string
}

// start begins a statement's span, within a trace only: background work
// (the mail outbox polling, the hourly pruning) would otherwise make a
// trace of its own for every statement. Without one the span is the
// context's no-op one.
func (t *statementTracer) start(ctx context.Context, query string) (context.Context, trace.Span) {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ctx, trace.SpanFromContext(ctx)
	}
	op, _, _ := strings.Cut(strings.TrimSpace(query), " ")
	return t.tracer.Start(ctx, strings.ToUpper(op), trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("db.system.name", t.system), attribute.String("db.query.text", query)))
}

func end(span trace.Span, err error) {
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// execQuerier is what ent's Client.ExecContext and QueryContext need of a
// driver or a transaction.
type execQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// tracedConn is a driver's or a transaction's statements, each in a span.
type tracedConn struct {
	conn dialect.ExecQuerier
	t    *statementTracer
}

func (c tracedConn) Exec(ctx context.Context, query string, args, v any) (err error) {
	ctx, span := c.t.start(ctx, query)
	defer func() { end(span, err) }()
	return c.conn.Exec(ctx, query, args, v)
}

func (c tracedConn) Query(ctx context.Context, query string, args, v any) (err error) {
	ctx, span := c.t.start(ctx, query)
	defer func() { end(span, err) }()
	return c.conn.Query(ctx, query, args, v)
}

func (c tracedConn) ExecContext(ctx context.Context, query string, args ...any) (_ sql.Result, err error) {
	ctx, span := c.t.start(ctx, query)
	defer func() { end(span, err) }()
	eq, ok := c.conn.(execQuerier)
	if !ok {
		return nil, fmt.Errorf("database: %T has no ExecContext", c.conn)
	}
	return eq.ExecContext(ctx, query, args...)
}

func (c tracedConn) QueryContext(ctx context.Context, query string, args ...any) (_ *sql.Rows, err error) {
	ctx, span := c.t.start(ctx, query)
	defer func() { end(span, err) }()
	eq, ok := c.conn.(execQuerier)
	if !ok {
		return nil, fmt.Errorf("database: %T has no QueryContext", c.conn)
	}
	return eq.QueryContext(ctx, query, args...)
}

type tracedDriver struct {
	tracedConn
	drv dialect.Driver
}

func (d *tracedDriver) Dialect() string { return d.drv.Dialect() }
func (d *tracedDriver) Close() error    { return d.drv.Close() }

func (d *tracedDriver) Tx(ctx context.Context) (dialect.Tx, error) {
	tx, err := d.drv.Tx(ctx)
	if err != nil {
		return nil, err
	}
	return &tracedTx{tracedConn{tx, d.t}, tx}, nil
}

// BeginTx is ent's Client.BeginTx (transactions with options).
func (d *tracedDriver) BeginTx(ctx context.Context, opts *sql.TxOptions) (dialect.Tx, error) {
	b, ok := d.drv.(interface {
		BeginTx(context.Context, *sql.TxOptions) (dialect.Tx, error)
	})
	if !ok {
		return nil, fmt.Errorf("database: %T has no BeginTx", d.drv)
	}
	tx, err := b.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	return &tracedTx{tracedConn{tx, d.t}, tx}, nil
}

type tracedTx struct {
	tracedConn
	tx dialect.Tx
}

func (tx *tracedTx) Commit() error   { return tx.tx.Commit() }
func (tx *tracedTx) Rollback() error { return tx.tx.Rollback() }

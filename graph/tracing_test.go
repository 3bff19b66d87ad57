package graph_test

import (
	"log/slog"
	"testing"

	"entgo.io/ent/dialect"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	. "fleetgate/internal/apitest"
	"fleetgate/internal/database"
)

// A trace a client started, as its traceparent header carries it.
const (
	clientTraceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	clientSpanID  = "00f067aa0ba902b7"
)

// TestTracing: with a tracer, a request is a server span continuing the
// client's trace, its operation a span under it, each resolver a span under
// that and each statement a span within the trace; the log line names the
// trace.
func TestTracing(t *testing.T) {
	for _, b := range Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			rec := tracetest.NewSpanRecorder()
			tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
			s := StartDriver(t, b, func(d dialect.Driver) dialect.Driver { return database.Traced(d, tp) })
			alice := s.SignUp(t, "alice")
			logs := &logLines{}
			deps := s.Deps
			deps.Tracer = tp
			deps.Log = slog.New(slog.NewJSONHandler(logs, nil))
			s = ServeDeps(t, deps)

			before := len(rec.Ended())
			s.PostWith(map[string]string{
				"Authorization": "Bearer " + alice.Token,
				"traceparent":   "00-" + clientTraceID + "-" + clientSpanID + "-01",
			}, `{"query":"query Mine { me { id username } }"}`)
			spans := rec.Ended()[before:]

			byName := map[string]sdktrace.ReadOnlySpan{}
			for _, sp := range spans {
				if sp.SpanContext().TraceID().String() != clientTraceID {
					t.Errorf("span %q is not in the client's trace", sp.Name())
				}
				if _, seen := byName[sp.Name()]; !seen {
					byName[sp.Name()] = sp
				}
			}
			server, op, me, sel := byName["POST /graphql"], byName["query Mine"], byName["Query.me"], byName["SELECT"]
			if server == nil || op == nil || me == nil || sel == nil {
				t.Fatalf("spans %v", names(spans))
			}
			if server.Parent().SpanID().String() != clientSpanID || !server.Parent().IsRemote() {
				t.Errorf("the server span's parent is %v, want the client's span", server.Parent())
			}
			if op.Parent().SpanID() != server.SpanContext().SpanID() || me.Parent().SpanID() != op.SpanContext().SpanID() {
				t.Errorf("operation under %v, resolver under %v", op.Parent().SpanID(), me.Parent().SpanID())
			}
			if !hasAttr(sel, "db.system.name") || !hasAttr(server, "fleetgate.request_id") ||
				!hasAttr(op, "graphql.operation.name") {
				t.Errorf("attributes: %v / %v / %v", sel.Attributes(), server.Attributes(), op.Attributes())
			}
			if _, ok := byName["User.username"]; ok {
				t.Error("a field without a resolver has a span")
			}
			if line := requestLine(t, logs.take(t)); line["trace_id"] != clientTraceID {
				t.Errorf("log line %v", line)
			}

			// Statements outside a traced request (background work) make
			// no trace of their own.
			before = len(rec.Ended())
			Must(s.DB.User.Query().Count(ctx))(t)
			if extra := rec.Ended()[before:]; len(extra) > 0 {
				t.Errorf("spans outside a request: %v", names(extra))
			}
		})
	}
}

// TestTracingErrors: an operation that answers errors is a span with an
// error status and their codes.
func TestTracingErrors(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	deps := Start(t, Backends()[0]).Deps
	deps.Tracer = tp
	s := ServeDeps(t, deps)
	s.PostWith(nil, `{"query":"query Who { me { id } }"}`)
	for _, sp := range rec.Ended() {
		if sp.Name() == "query Who" {
			if sp.Status().Description != "UNAUTHENTICATED" || !hasAttr(sp, "graphql.error.codes") {
				t.Fatalf("status %v, attributes %v", sp.Status(), sp.Attributes())
			}
			return
		}
	}
	t.Fatalf("no operation span: %v", names(rec.Ended()))
}

func names(spans []sdktrace.ReadOnlySpan) []string {
	var n []string
	for _, s := range spans {
		n = append(n, s.Name())
	}
	return n
}

func hasAttr(s sdktrace.ReadOnlySpan, key attribute.Key) bool {
	for _, a := range s.Attributes() {
		if a.Key == key {
			return true
		}
	}
	return false
}

package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"fleetgate/internal/tracing"
)

func env(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

// TestOffWithoutEndpoint: without an OTLP endpoint there is no provider, so
// nothing of tracing is set up (graph and the database add nothing).
func TestOffWithoutEndpoint(t *testing.T) {
	tp, stop, err := tracing.FromEnv(context.Background(), env(nil), "devel")
	if err != nil || tp != nil {
		t.Fatalf("provider %v, err %v", tp, err)
	}
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestOnWithEndpoint: an endpoint turns tracing on (nothing is sent until a
// span ends, so none is needed to listen); another protocol is refused.
func TestOnWithEndpoint(t *testing.T) {
	for _, name := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		tp, stop, err := tracing.FromEnv(context.Background(), env(map[string]string{name: "http://127.0.0.1:4318"}), "devel")
		if err != nil || tp == nil {
			t.Fatalf("%s: provider %v, err %v", name, tp, err)
		}
		if err := stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := tracing.FromEnv(context.Background(), env(map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"}), "devel")
	if err == nil || !strings.Contains(err.Error(), "OTEL_EXPORTER_OTLP_PROTOCOL=grpc") {
		t.Fatalf("grpc: %v", err)
	}
}

// TestExports: spans go to the endpoint's /v1/traces as OTLP/HTTP.
func TestExports(t *testing.T) {
	got := make(chan string, 10)
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r.Method + " " + r.URL.Path + " " + r.Header.Get("Content-Type")
	}))
	defer collector.Close()
	tp, stop, err := tracing.FromEnv(context.Background(), env(map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": collector.URL + "/"}), "devel")
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(context.Background(), "work")
	span.End()
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case req := <-got:
		if req != "POST /v1/traces application/x-protobuf" {
			t.Fatalf("collector got %s", req)
		}
	default:
		t.Fatal("nothing exported")
	}
}

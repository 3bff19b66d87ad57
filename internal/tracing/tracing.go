// Package tracing sets up OpenTelemetry tracing (README "Tracing"): on when
// OTEL_EXPORTER_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) is
// set, exporting spans over OTLP/HTTP; off otherwise, when nothing of it
// runs at all.
//
// The spans themselves are made where the work is: HTTP server spans and
// GraphQL operation and resolver spans in graph/, SQL spans by
// database.Traced.
package tracing

import (
	"context"
	"fmt"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// Propagator reads and writes the W3C trace context (traceparent,
// tracestate) of requests.
var Propagator = propagation.TraceContext{}

// FromEnv returns the tracer provider the environment asks for, and a
// function that flushes and stops it; nil (tracing off) when no OTLP
// endpoint is set. The exporter reads the standard OTEL_EXPORTER_OTLP_…
// variables of headers, timeout and TLS itself; only the http/protobuf
// protocol is supported.
func FromEnv(ctx context.Context, getenv func(string) string, version string) (trace.TracerProvider, func(context.Context) error, error) {
	// The endpoints as OpenTelemetry's specification reads them: the
	// traces' one as it is, the general one with the traces' path.
	endpoint := getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
	if general := getenv("OTEL_EXPORTER_OTLP_ENDPOINT"); endpoint == "" && general != "" {
		endpoint = strings.TrimRight(general, "/") + "/v1/traces"
	}
	if endpoint == "" {
		return nil, func(context.Context) error { return nil }, nil
	}
	for _, name := range []string{"OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"} {
		if p := getenv(name); p != "" && p != "http/protobuf" {
			return nil, nil, fmt.Errorf("%s=%s: fleetgate exports traces over http/protobuf only", name, p)
		}
	}
	exporter, err := otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(endpoint))
	if err != nil {
		return nil, nil, fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	serviceName := getenv("OTEL_SERVICE_NAME")
	if serviceName == "" {
		serviceName = "fleetgate"
	}
	res := resource.NewSchemaless(attribute.String("service.name", serviceName), attribute.String("service.version", version))
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exporter), sdktrace.WithResource(res))
	return tp, tp.Shutdown, nil
}

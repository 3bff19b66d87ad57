package graph

import (
	"context"
	"net/http"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	otelcodes "go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"fleetgate/internal/tracing"
)

// Tracing (README "Tracing"): everything here is added only when
// Deps.Tracer is set, so that without it no request or field pays for it.

// traced is h in an HTTP server span, continuing the trace of an incoming
// traceparent.
func (d Deps) traced(h http.Handler) http.Handler {
	if d.Tracer == nil {
		return h
	}
	return otelhttp.NewHandler(h, "fleetgate",
		otelhttp.WithTracerProvider(d.Tracer), otelhttp.WithPropagators(tracing.Propagator))
}

// route is h, one route of the service, counted in the metrics and, with
// tracing, naming its server span after the route ("GET /graphql").
func (d Deps) route(name string, h http.Handler) http.Handler {
	if d.Tracer != nil {
		next := h
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			pattern := r.Pattern
			if _, path, ok := strings.Cut(pattern, " "); ok {
				pattern = path // "GET /healthz": the method is the request's
			}
			span := trace.SpanFromContext(r.Context())
			span.SetName(r.Method + " " + pattern)
			span.SetAttributes(attribute.String("http.route", pattern))
			next.ServeHTTP(w, r)
		})
	}
	return d.metrics.instrument(name, h)
}

// traceOperations puts each GraphQL operation in a span ("query Me"), and
// each field that runs a resolver of ours in a span of its own under it
// (fields read from a loaded object get none: they do no work worth one).
type traceOperations struct{ tracer trace.Tracer }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationInterceptor
	graphql.FieldInterceptor
} = traceOperations{}

func (traceOperations) ExtensionName() string                   { return "Tracing" }
func (traceOperations) Validate(graphql.ExecutableSchema) error { return nil }

func (t traceOperations) InterceptOperation(ctx context.Context, next graphql.OperationHandler) graphql.ResponseHandler {
	name, typ := operationOf(ctx)
	spanName := typ
	if name != "" {
		spanName += " " + name
	}
	ctx, span := t.tracer.Start(ctx, spanName, trace.WithAttributes(
		attribute.String("graphql.operation.name", name), attribute.String("graphql.operation.type", typ)))
	respond := next(ctx)
	ended := false
	return func(ctx context.Context) *graphql.Response {
		resp := respond(ctx)
		if !ended {
			ended = true
			if codes := errorCodes(resp); len(codes) > 0 {
				span.SetAttributes(attribute.StringSlice("graphql.error.codes", codes))
				span.SetStatus(otelcodes.Error, strings.Join(codes, " "))
			}
			span.End()
		}
		return resp
	}
}

func (t traceOperations) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver {
		return next(ctx)
	}
	ctx, span := t.tracer.Start(ctx, fc.Object+"."+fc.Field.Name,
		trace.WithAttributes(attribute.String("graphql.field.path", fc.Path().String())))
	res, err := next(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(otelcodes.Error, "resolver failed")
	}
	span.End()
	return res, err
}

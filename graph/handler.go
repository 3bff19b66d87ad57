package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/extension"
	"github.com/99designs/gqlgen/graphql/handler/lru"
	"github.com/rs/cors"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"fleetgate/internal/auth"
	"fleetgate/internal/fault"
	"fleetgate/internal/playground"
	"fleetgate/internal/policy"
	"fleetgate/internal/requestlog"
	"fleetgate/internal/viewer"
)

// Request limits (README "Limits").
const (
	MaxBodyBytes = 1 << 20
	MaxDepth     = 12
)

// NewHandler returns fleetgate's HTTP handler: every route of the service,
// /metrics included.
func NewHandler(d Deps) http.Handler {
	d = d.prepare()
	mux := d.routes()
	mux.Handle("GET /metrics", d.route("metrics", d.metrics.handler()))
	return d.traced(d.logRequests(mux))
}

// NewHandlers is NewHandler with /metrics apart, for a listener of its own
// (METRICS_ADDR): service answers 404 for /metrics, and metrics serves only
// /metrics, of the requests service handles.
func NewHandlers(d Deps) (service, metrics http.Handler) {
	d = d.prepare()
	mux := d.routes()
	only := http.NewServeMux()
	only.Handle("GET /metrics", d.route("metrics", d.metrics.handler()))
	return d.traced(d.logRequests(mux)), d.logRequests(only)
}

// logRequests resolves the client's address for every route
// (internal/clientip) and logs one line per request (README "Operating").
func (d Deps) logRequests(h http.Handler) http.Handler {
	return d.ClientIPs.Middleware(requestlog.Middleware(d.Log, d.ClientIPs, h))
}

// routes are the service's routes but /metrics.
func (d Deps) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /{$}", d.route("playground", playground.Page("/graphql")))
	mux.Handle("GET "+playground.AssetPath, d.route("playground_assets", playground.Assets()))
	mux.Handle("/graphql", d.route("graphql", d.cors(limitBody(d.withDeadline(d.withViewer(d.graphqlServer()))))))
	mux.Handle("GET /healthz", d.route("healthz", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "ok\n")
	})))
	mux.Handle("GET /readyz", d.route("readyz", http.HandlerFunc(d.ready)))
	mux.Handle("GET /auth/{provider}/start", d.route("social_start", d.withDeadline(http.HandlerFunc(d.socialStart))))
	mux.Handle("GET /auth/{provider}/callback", d.route("social_callback", d.withDeadline(http.HandlerFunc(d.socialCallback))))
	mux.Handle("GET /.well-known/jwks.json", d.route("jwks", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "public, max-age=300")
		w.Write(d.Tokens.JWKS())
	})))
	return mux
}

func (d Deps) graphqlServer() *handler.Server {
	es := NewExecutableSchema(Config{
		Resolvers:  &Resolver{d},
		Directives: DirectiveRoot{Can: d.can, PageLimits: pageLimits},
	})
	srv := handler.New(es)
	addTransports(srv)
	srv.SetQueryCache(pagedQueries{lru.New[*ast.QueryDocument](1000)})
	if d.Introspection {
		srv.Use(extension.Introspection{})
	}
	srv.Use(extension.AutomaticPersistedQuery{Cache: lru.New[string](1000)})
	srv.Use(nullPages{}) // before the cost limit, which reads the variables
	srv.Use(costLimit{newCostedSchema(es)})
	srv.Use(depthLimit{max: MaxDepth})
	srv.Use(storableInputs{})
	srv.Use(observeOperations{d.metrics})
	if d.Tracer != nil {
		srv.Use(traceOperations{d.Tracer.Tracer("fleetgate/graph")})
	}
	srv.AroundRootFields(d.currentAuthorization)
	srv.SetErrorPresenter(d.presentError)
	srv.SetRecoverFunc(d.recoverPanic)
	return srv
}

// withViewer attaches the caller's credential to the request; it is checked
// only when a field asks for the caller (internal/viewer). The caller's
// roles are loaded once per request, when first needed (internal/policy).
func (d Deps) withViewer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header := r.Header.Get("Authorization")
		ctx := auth.WithUserAgent(r.Context(), r.UserAgent()) // for the session a sign-in begins
		ctx = d.auth.WithAuthenticator(policy.WithRoleCache(ctx, d.DB), header)
		if e := requestlog.FromContext(ctx); e != nil {
			ctx = viewer.Observe(ctx, func(v *viewer.Viewer) { e.SetViewer(v.UserID, v.Credential.String()) })
		}
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// limitBody refuses request bodies over MaxBodyBytes with a GraphQL error.
func limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body == nil || r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
		if err != nil {
			writeError(r.Context(), w, http.StatusBadRequest, fault.New(fault.BadUserInput, "could not read the request body"))
			return
		}
		if len(body) > MaxBodyBytes {
			writeError(r.Context(), w, http.StatusRequestEntityTooLarge,
				fault.New(fault.BadUserInput, "request body is larger than %d bytes", MaxBodyBytes))
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		next.ServeHTTP(w, r)
	})
}

// corsHeaders are the request headers a browser may send cross-origin:
// the credential and the body's type, W3C trace context (README "Tracing")
// and what Apollo Client adds (client awareness, its CSRF preflight
// trigger).
var corsHeaders = []string{
	"Authorization", "Content-Type",
	"traceparent", "tracestate",
	"apollographql-client-name", "apollographql-client-version", "apollo-require-preflight",
}

// cors answers browsers from the configured origins only (README
// "Configuration", CORS_ORIGINS). A preflight from any other origin is
// answered without Access-Control-Allow-* headers, which browsers take as a
// refusal. With no origin configured nothing is added: rs/cors would read
// an empty list as every origin.
func (d Deps) cors(next http.Handler) http.Handler {
	if len(d.CORSOrigins) == 0 {
		return next
	}
	return cors.New(cors.Options{
		AllowedOrigins:       d.CORSOrigins,
		AllowedMethods:       []string{http.MethodGet, http.MethodPost},
		AllowedHeaders:       corsHeaders,
		ExposedHeaders:       []string{requestlog.Header}, // so that a browser app can quote it
		AllowCredentials:     d.CORSAllowCredentials,
		MaxAge:               600,
		OptionsSuccessStatus: http.StatusNoContent,
	}).Handler(next)
}

func (d Deps) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	rows, err := d.DB.QueryContext(ctx, "SELECT 1")
	if err == nil {
		err = rows.Close()
	}
	if err != nil {
		d.Log.ErrorContext(ctx, "readiness check failed", "err", err)
		http.Error(w, "database unavailable", http.StatusServiceUnavailable)
		return
	}
	io.WriteString(w, "ok\n")
}

// writeError answers with a GraphQL-shaped error outside of gqlgen.
func writeError(ctx context.Context, w http.ResponseWriter, status int, err error) {
	f, _ := fault.As(err)
	requestlog.FromContext(ctx).AddErrorCode(string(f.Code))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]any{"errors": []map[string]any{{
		"message":    f.Message,
		"extensions": map[string]any{"code": f.Code},
	}}})
}

// depthLimit refuses operations nested deeper than max. Introspection
// (__schema, __type) is exempt: its standard query is deep by design and
// bounded by the schema.
type depthLimit struct{ max int }

var _ interface {
	graphql.HandlerExtension
	graphql.OperationContextMutator
} = depthLimit{}

func (depthLimit) ExtensionName() string                   { return "DepthLimit" }
func (depthLimit) Validate(graphql.ExecutableSchema) error { return nil }

func (l depthLimit) MutateOperationContext(_ context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if depth := selectionDepth(oc.Operation.SelectionSet, map[string]bool{}); depth > l.max {
		return &gqlerror.Error{
			Message:    fmt.Sprintf("query is nested %d levels deep; the limit is %d", depth, l.max),
			Extensions: map[string]any{"code": fault.BadUserInput},
		}
	}
	return nil
}

func selectionDepth(set ast.SelectionSet, visiting map[string]bool) int {
	deepest := 0
	for _, sel := range set {
		var d int
		switch s := sel.(type) {
		case *ast.Field:
			if s.Name == "__schema" || s.Name == "__type" {
				continue
			}
			d = 1 + selectionDepth(s.SelectionSet, visiting)
		case *ast.InlineFragment:
			d = selectionDepth(s.SelectionSet, visiting)
		case *ast.FragmentSpread:
			// Validation already refused fragment cycles; the guard only
			// keeps this walk finite regardless.
			if s.Definition == nil || visiting[s.Name] {
				continue
			}
			visiting[s.Name] = true
			d = selectionDepth(s.Definition.SelectionSet, visiting)
			delete(visiting, s.Name)
		}
		deepest = max(deepest, d)
	}
	return deepest
}

// Package requestlog writes one structured line per HTTP request and puts
// the request's id on every other line logged while serving it (README
// "Operating").
//
// Middleware gives each request an Entry in its context: the request id,
// taken from X-Request-Id when a trusted proxy sent it and generated
// otherwise, and returned in the response's X-Request-Id. The layers that
// learn something about the request (the GraphQL operation, the caller, the
// error codes answered) write it into the Entry; when the request ends the
// Entry is logged as one line. Handler wraps a slog.Handler so that every
// record logged with a request's context carries its id.
package requestlog

import (
	"context"
	"crypto/rand"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"fleetgate/internal/clientip"
)

// Header is the request id's header, read from trusted proxies and always
// answered.
const Header = "X-Request-Id"

// Entry is what is known of one request, for its log line.
type Entry struct {
	// ID is the request id.
	ID string

	mu            sync.Mutex
	operation     string
	operationType string
	userID        int
	credential    string
	codes         []string
}

type entryKey struct{}

// FromContext is the request's Entry, or nil outside a request.
func FromContext(ctx context.Context) *Entry {
	e, _ := ctx.Value(entryKey{}).(*Entry)
	return e
}

// NewContext returns ctx carrying e.
func NewContext(ctx context.Context, e *Entry) context.Context {
	return context.WithValue(ctx, entryKey{}, e)
}

// SetOperation records the GraphQL operation's name and type (query,
// mutation).
func (e *Entry) SetOperation(name, typ string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.operation, e.operationType = name, typ
	e.mu.Unlock()
}

// SetViewer records who called: the user's id (0 for none, as for a
// provisioning key) and the kind of credential, never the credential.
func (e *Entry) SetViewer(userID int, credential string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.userID, e.credential = userID, credential
	e.mu.Unlock()
}

// AddErrorCode records an error code the response carries.
func (e *Entry) AddErrorCode(code string) {
	if e == nil {
		return
	}
	e.mu.Lock()
	e.codes = append(e.codes, code)
	e.mu.Unlock()
}

// Middleware logs one line for each request to log, with the client
// address clientip.Resolver.Middleware stored before it; only proxies may
// set the request id.
func Middleware(log *slog.Logger, proxies *clientip.Resolver, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		e := &Entry{}
		if id := r.Header.Get(Header); id != "" && validID(id) && proxies.FromTrustedProxy(r) {
			e.ID = id
		} else {
			e.ID = rand.Text()
		}
		w.Header().Set(Header, e.ID)
		span := trace.SpanFromContext(r.Context()) // the HTTP server span, when tracing (README "Tracing")
		if span.SpanContext().IsValid() {
			span.SetAttributes(attribute.String("fleetgate.request_id", e.ID))
		}
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		client := clientip.FromContext(r.Context())
		ctx := NewContext(r.Context(), e)
		next.ServeHTTP(rec, r.WithContext(ctx))

		e.mu.Lock()
		defer e.mu.Unlock()
		attrs := make([]slog.Attr, 0, 12)
		attrs = append(attrs,
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", rec.status),
			slog.Duration("duration", time.Since(start).Round(time.Microsecond)),
			slog.String("client", client.String()))
		if e.operationType != "" {
			attrs = append(attrs, slog.String("operation", e.operation), slog.String("operation_type", e.operationType))
		}
		if e.credential != "" {
			attrs = append(attrs, slog.Int("user_id", e.userID), slog.String("credential", e.credential))
		}
		if len(e.codes) > 0 {
			attrs = append(attrs, slog.Any("errors", e.codes))
		}
		if sc := span.SpanContext(); sc.IsValid() {
			attrs = append(attrs, slog.String("trace_id", sc.TraceID().String()))
		}
		log.LogAttrs(ctx, slog.LevelInfo, "request", attrs...)
	})
}

// validID accepts ids of 1 to 128 visible ASCII characters without
// spaces or quotes, so that a proxy's id cannot forge log lines.
func validID(id string) bool {
	if len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Handler adds the request id (request_id) to every record logged with a
// request's context.
type Handler struct{ slog.Handler }

// NewHandler wraps h.
func NewHandler(h slog.Handler) Handler { return Handler{h} }

func (h Handler) Handle(ctx context.Context, r slog.Record) error {
	if e := FromContext(ctx); e != nil {
		r.AddAttrs(slog.String("request_id", e.ID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return Handler{h.Handler.WithAttrs(attrs)}
}
func (h Handler) WithGroup(name string) slog.Handler { return Handler{h.Handler.WithGroup(name)} }

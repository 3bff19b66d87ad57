package graph

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/handler"
	"github.com/99designs/gqlgen/graphql/handler/transport"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"fleetgate/internal/fault"
)

// addTransports gives /graphql gqlgen's transports, with every refusal a
// GraphQL error carrying extensions.code (README "Errors"). The success
// path is gqlgen's own: nothing is decoded twice.
func addTransports(srv *handler.Server) {
	srv.AddTransport(transport.Options{})
	srv.AddTransport(getTransport{})
	srv.AddTransport(postTransport{})
	srv.AddTransport(refuseTransport{})
}

// getTransport is gqlgen's GET, whose own refusals carry no code: a URL,
// variables or extensions it cannot decode (400) and a mutation (406).
// Those responses alone are held back and rewritten.
type getTransport struct{ transport.GET }

func (t getTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	rw := &heldRefusal{ResponseWriter: w, ctx: r.Context()}
	t.GET.Do(rw, r, exec)
	rw.finish()
}

type heldRefusal struct {
	http.ResponseWriter
	ctx    context.Context // the request's, for the log (writeError)
	status int             // of the refusal held back; 0 while passing through
	body   bytes.Buffer
}

func (w *heldRefusal) WriteHeader(status int) {
	if status == http.StatusBadRequest || status == http.StatusNotAcceptable {
		w.status = status
		return
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *heldRefusal) Write(b []byte) (int, error) {
	if w.status == 0 {
		return w.ResponseWriter.Write(b)
	}
	return w.body.Write(b)
}

// finish adds the code to a held refusal. A mutation is answered 405 with
// Allow: POST, as GraphQL over HTTP asks.
func (w *heldRefusal) finish() {
	if w.status == 0 {
		return
	}
	var resp struct{ Errors gqlerror.List }
	if json.Unmarshal(w.body.Bytes(), &resp) != nil || len(resp.Errors) != 1 || resp.Errors[0].Extensions["code"] != nil {
		// Already coded: a protocol error, answered 400 to clients that
		// accept application/graphql-response+json.
		w.ResponseWriter.WriteHeader(w.status)
		w.ResponseWriter.Write(w.body.Bytes())
		return
	}
	msg := resp.Errors[0].Message
	if w.status == http.StatusNotAcceptable {
		w.Header().Set("Allow", http.MethodPost)
		writeError(w.ctx, w.ResponseWriter, http.StatusMethodNotAllowed, fault.New(fault.MethodNotAllowed, "%s", msg))
		return
	}
	writeError(w.ctx, w.ResponseWriter, w.status, fault.New(fault.BadUserInput, "%s", msg))
}

// postTransport is gqlgen's POST, except that a body it cannot decode is
// refused in words of ours: gqlgen's message quotes the whole body back.
type postTransport struct{ transport.POST }

func (t postTransport) Do(w http.ResponseWriter, r *http.Request, exec graphql.GraphExecutor) {
	t.POST.Do(w, r, bodyRefusal{exec})
}

// bodyRefusal recognises gqlgen's report of an undecodable body: it comes
// before any operation, so without an operation context, where every other
// error POST dispatches has one.
type bodyRefusal struct{ graphql.GraphExecutor }

func (e bodyRefusal) DispatchError(ctx context.Context, list gqlerror.List) *graphql.Response {
	if !graphql.HasOperationContext(ctx) {
		list = gqlerror.List{gqlerror.WrapIfUnwrapped(fault.New(fault.BadUserInput,
			`the request body is not a GraphQL request: send a JSON object such as {"query": "{ me { id } }"}`))}
	}
	return e.GraphExecutor.DispatchError(ctx, list)
}

// refuseTransport, registered last, answers every request no other
// transport takes, where gqlgen would answer "transport not supported".
type refuseTransport struct{}

func (refuseTransport) Supports(*http.Request) bool { return true }

func (refuseTransport) Do(w http.ResponseWriter, r *http.Request, _ graphql.GraphExecutor) {
	switch {
	case r.Method != http.MethodGet && r.Method != http.MethodPost:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		writeError(r.Context(), w, http.StatusMethodNotAllowed, fault.New(fault.MethodNotAllowed,
			"method %s is not allowed: send POST, or GET for queries", r.Method))
	case r.Header.Get("Upgrade") != "":
		writeError(r.Context(), w, http.StatusBadRequest, fault.New(fault.BadUserInput, "protocol upgrades (websockets) are not supported"))
	default: // a POST of something other than JSON
		writeError(r.Context(), w, http.StatusUnsupportedMediaType, fault.New(fault.BadUserInput, "Content-Type must be application/json"))
	}
}

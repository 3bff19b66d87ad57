package graph

import (
	"context"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"fleetgate/internal/fault"
	"fleetgate/internal/requestlog"
)

// observeOperations tells the request log and the metrics (README
// "Operating") which operation a request ran, how long it took and which
// error codes it answered. It runs once per response, never per field
// (README "Performance").
type observeOperations struct{ metrics *metrics }

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = observeOperations{}

func (observeOperations) ExtensionName() string                   { return "ObserveOperations" }
func (observeOperations) Validate(graphql.ExecutableSchema) error { return nil }

func (o observeOperations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	start := time.Now()
	if graphql.HasOperationContext(ctx) {
		if read := graphql.GetOperationContext(ctx).Stats.OperationStart; !read.IsZero() {
			start = read // parsing and validation count too
		}
	}
	resp := next(ctx)
	name, typ := operationOf(ctx)
	codes := errorCodes(resp)
	o.metrics.operation(name, typ != "", time.Since(start), codes)
	if e := requestlog.FromContext(ctx); e != nil {
		e.SetOperation(name, typ)
		for _, code := range codes {
			e.AddErrorCode(code)
		}
	}
	return resp
}

// operationOf is the operation's name ("" for an anonymous one) and type
// ("" when the request never got as far as choosing one).
func operationOf(ctx context.Context) (name, typ string) {
	if !graphql.HasOperationContext(ctx) {
		return "", ""
	}
	oc := graphql.GetOperationContext(ctx)
	if oc.Operation == nil {
		return oc.OperationName, ""
	}
	return oc.Operation.Name, string(oc.Operation.Operation)
}

// errorCode is an error's extensions.code, which the error presenter gives
// every error (README "Errors").
func errorCode(extensions map[string]any) string {
	switch c := extensions["code"].(type) {
	case fault.Code:
		return string(c)
	case string:
		return c
	}
	return string(fault.Internal)
}

// errorCodes are the extensions.code of resp's errors; nil without any.
func errorCodes(resp *graphql.Response) []string {
	if resp == nil || len(resp.Errors) == 0 {
		return nil
	}
	codes := make([]string, len(resp.Errors))
	for i, err := range resp.Errors {
		codes[i] = errorCode(err.Extensions)
	}
	return codes
}

package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"fleetgate/internal/fault"
	"fleetgate/internal/requestlog"
)

// observeOperations tells the request log (README "Operating") which
// operation a request ran and which error codes it answered. It runs once
// per response, never per field (README "Performance").
type observeOperations struct{}

var _ interface {
	graphql.HandlerExtension
	graphql.ResponseInterceptor
} = observeOperations{}

func (observeOperations) ExtensionName() string                   { return "ObserveOperations" }
func (observeOperations) Validate(graphql.ExecutableSchema) error { return nil }

func (observeOperations) InterceptResponse(ctx context.Context, next graphql.ResponseHandler) *graphql.Response {
	resp := next(ctx)
	e := requestlog.FromContext(ctx)
	if e == nil {
		return resp
	}
	name, typ := operationOf(ctx)
	e.SetOperation(name, typ)
	if resp != nil {
		for _, err := range resp.Errors {
			e.AddErrorCode(errorCode(err.Extensions))
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

package graph

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"fleetgate/ent"
	"fleetgate/ent/privacy"
	"fleetgate/internal/fault"
)

// internalError marks an error a resolver returned that was not meant for
// the client: the presenter logs it and shows only "internal error".
type internalError struct{ err error }

func (e internalError) Error() string { return e.err.Error() }
func (e internalError) Unwrap() error { return e.err }

// notFound is refusal if err is ent's not-found, else err (nil stays nil):
// what a lookup the viewer may not make answers.
func notFound(err, refusal error) error {
	if ent.IsNotFound(err) {
		return refusal
	}
	return err
}

var errPrivacyDenied = fault.New(fault.Forbidden, "not allowed")

// markInternalErrors wraps every resolver error that is not a fault.Error.
// Errors that never pass through a resolver are gqlgen's own reports on the
// request (parse, validation, argument coercion): those are about the input.
func markInternalErrors(ctx context.Context, next graphql.Resolver) (any, error) {
	res, err := next(ctx)
	if err != nil {
		switch _, ok := fault.As(err); {
		case ok, ent.IsNotFound(err):
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			// Whatever failed, it failed because the request's time ran out.
			err = errRequestTimeout
		case errors.Is(err, privacy.Deny):
			// A privacy rule refused what the resolvers let through.
			err = errPrivacyDenied
		default:
			err = internalError{err}
		}
	}
	return res, err
}

// presentError gives every error an extensions.code (README "Errors") and keeps
// internal detail (SQL, stack text) in the log only.
func (d Deps) presentError(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	if gerr.Extensions == nil {
		gerr.Extensions = map[string]any{}
	}
	var internal internalError
	switch f, isFault := fault.As(err); {
	case isFault:
		gerr.Message = f.Message
		gerr.Extensions["code"] = f.Code
		if f.Field != "" {
			gerr.Extensions["field"] = f.Field
		}
		if f.Code == fault.RateLimited {
			gerr.Extensions["retryAfter"] = fault.RetryAfterSeconds(f.RetryAfter)
		}
	case ent.IsNotFound(err):
		gerr.Message = "not found"
		gerr.Extensions["code"] = fault.NotFound
	case errors.As(err, &internal):
		d.Log.ErrorContext(ctx, "resolver failed", "path", gerr.Path.String(), "err", internal.err)
		gerr.Message = "internal error"
		gerr.Extensions["code"] = fault.Internal
	case gerr.Extensions["code"] == nil:
		gerr.Extensions["code"] = fault.BadUserInput
	}
	return gerr
}

func (d Deps) recoverPanic(ctx context.Context, p any) error {
	return internalError{fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
}

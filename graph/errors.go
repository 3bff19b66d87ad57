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

// internalError is a panic recovered in a resolver: the presenter logs it
// and shows only "internal error".
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

var (
	errPrivacyDenied = fault.New(fault.Forbidden, "not allowed")
	errNotFound      = fault.New(fault.NotFound, "not found")
)

// presentError gives every error an extensions.code (README "Errors") and keeps
// internal detail (SQL, stack text) in the log only. It tells apart, without
// a middleware on every field (README "Performance"):
//   - fault errors, from resolvers and from the scalars' parsers (IDs,
//     cursors, times, roles), which say what is wrong in words of ours;
//   - gqlgen's and gqlparser's own reports on the request (parse,
//     validation), which wrap no error: about the input;
//   - everything else a resolver returned (the database failing, a bug):
//     internal.
func (d Deps) presentError(ctx context.Context, err error) *gqlerror.Error {
	gerr := graphql.DefaultErrorPresenter(ctx, err)
	if gerr.Extensions == nil {
		gerr.Extensions = map[string]any{}
	}
	if _, isFault := fault.As(err); !isFault {
		switch {
		case ent.IsNotFound(err):
			err = errNotFound
		case errors.Is(ctx.Err(), context.DeadlineExceeded):
			// Whatever failed, it failed because the request's time ran out.
			err = errRequestTimeout
		case errors.Is(err, privacy.Deny):
			// A privacy rule refused what the resolvers let through.
			err = errPrivacyDenied
		}
	}
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
	case errors.Unwrap(err) == nil:
		if gerr.Extensions["code"] == nil {
			gerr.Extensions["code"] = fault.BadUserInput
		}
	default:
		d.Log.ErrorContext(ctx, "resolver failed", "path", gerr.Path.String(), "err", err)
		gerr.Message = "internal error"
		gerr.Extensions["code"] = fault.Internal
	}
	return gerr
}

func (d Deps) recoverPanic(ctx context.Context, p any) error {
	return internalError{fmt.Errorf("panic: %v\n%s", p, debug.Stack())}
}

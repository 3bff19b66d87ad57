// Package fault defines the errors fleetgate shows to API clients.
//
// Every error that reaches a client carries one of the codes below in
// extensions.code. Code outside the GraphQL layer returns these errors; the
// GraphQL error presenter turns them into responses, and turns anything else
// into INTERNAL without leaking its text.
package fault

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Code is the machine-readable kind of an error, shown as extensions.code.
type Code string

// The codes of README "Errors".
const (
	Unauthenticated   Code = "UNAUTHENTICATED"
	Forbidden         Code = "FORBIDDEN"
	NotFound          Code = "NOT_FOUND"
	BadUserInput      Code = "BAD_USER_INPUT"
	Conflict          Code = "CONFLICT"
	PasswordRequired  Code = "PASSWORD_REQUIRED"
	TwoFactorRequired Code = "TWO_FACTOR_REQUIRED"
	RateLimited       Code = "RATE_LIMITED"
	Internal          Code = "INTERNAL"
	// Timeout: the request ran longer than the server allows and was stopped.
	Timeout Code = "TIMEOUT"

	// MethodNotAllowed: the HTTP method cannot carry the request (a PUT, a
	// mutation over GET; README "Errors").
	MethodNotAllowed Code = "METHOD_NOT_ALLOWED"
)

// Error is an error meant for the client: its message is safe to show.
type Error struct {
	Code    Code
	Message string
	// Field names the input field at fault (BAD_USER_INPUT, CONFLICT).
	Field string
	// RetryAfter is set on RATE_LIMITED errors.
	RetryAfter time.Duration
}

func (e *Error) Error() string { return e.Message }

// New returns a client-facing error with the given code.
func New(code Code, format string, args ...any) error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Input reports invalid input in the named field (BAD_USER_INPUT).
func Input(field, format string, args ...any) error {
	return &Error{Code: BadUserInput, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Taken reports a unique value already in use (CONFLICT).
func Taken(field, format string, args ...any) error {
	return &Error{Code: Conflict, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Limited reports that the caller must wait before trying again.
func Limited(retryAfter time.Duration) error {
	return &Error{Code: RateLimited, RetryAfter: retryAfter,
		Message: fmt.Sprintf("too many attempts: try again in %d seconds", RetryAfterSeconds(retryAfter))}
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least one.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// As returns the client-facing error in err's chain, if any.
func As(err error) (*Error, bool) {
	var e *Error
	ok := errors.As(err, &e)
	return e, ok
}

// Is reports whether err carries the given code.
func Is(err error, code Code) bool {
	e, ok := As(err)
	return ok && e.Code == code
}

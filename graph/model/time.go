package model

import (
	"time"

	"github.com/99designs/gqlgen/graphql"

	"fleetgate/internal/fault"
)

// MarshalTime writes a time as RFC 3339, as gqlgen does.
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalTime reads an RFC 3339 time, in UTC whatever its offset: times
// are stored and compared in UTC (SQLite keeps them as text, and could not
// read back one stored with an offset of its own). Anything else is refused
// in words of ours (README "Errors"), not the parser's.
func UnmarshalTime(v any) (time.Time, error) {
	t, err := graphql.UnmarshalTime(v)
	if err != nil {
		return time.Time{}, fault.New(fault.BadUserInput, "not a valid time: give RFC 3339, such as 2030-01-02T15:04:05Z")
	}
	return t.UTC(), nil
}

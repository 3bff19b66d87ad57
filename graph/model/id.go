package model

import (
	"encoding/json"
	"strconv"

	"github.com/99designs/gqlgen/graphql"

	"fleetgate/internal/fault"
)

// errBadID is the one answer to an ID that is not one of ours: it names no
// parser internals, and every malformed ID gets the same words.
var errBadID = fault.New(fault.BadUserInput, "not a valid ID")

// MarshalID writes an ent id as a GraphQL ID (a string of digits).
func MarshalID(id int) graphql.Marshaler { return graphql.MarshalIntID(id) }

// UnmarshalID reads a GraphQL ID. Only the canonical form is accepted (the
// digits MarshalID writes, no sign or leading zeros), so one object has one
// ID and clients can compare IDs as strings.
func UnmarshalID(v any) (int, error) {
	switch v := v.(type) {
	case string:
		return parseID(v)
	case json.Number:
		return parseID(string(v))
	case int:
		if v >= 0 {
			return v, nil
		}
	case int64:
		if v >= 0 && int64(int(v)) == v {
			return int(v), nil
		}
	}
	return 0, errBadID
}

func parseID(s string) (int, error) {
	if s == "" || len(s) > 19 || s[0] == '0' && len(s) > 1 {
		return 0, errBadID
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, errBadID
		}
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, errBadID
	}
	return n, nil
}

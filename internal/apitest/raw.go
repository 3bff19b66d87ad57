package apitest

import (
	"encoding/json"
	"fmt"
	"testing"
)

// Result is a GraphQL response read without a typed client, for documents
// a generated operation cannot express (many aliased root fields).
type Result struct {
	Data   map[string]json.RawMessage `json:"data"`
	Errors []ResultError              `json:"errors"`
}

// ResultError is one error of a Result.
type ResultError struct {
	Message    string         `json:"message"`
	Path       []any          `json:"path"`
	Extensions map[string]any `json:"extensions"`
}

// Code is the error's extensions.code.
func (e ResultError) Code() string { return fmt.Sprint(e.Extensions["code"]) }

// Do posts query with variables to /graphql, with credential as the bearer
// token (none if empty), and decodes the answer.
func (s *Server) Do(t testing.TB, credential, query string, variables map[string]any) Result {
	t.Helper()
	body, err := json.Marshal(map[string]any{"query": query, "variables": variables})
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	if credential != "" {
		headers["Authorization"] = "Bearer " + credential
	}
	resp := s.PostWith(headers, string(body))
	var r Result
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		t.Fatalf("decode response (status %d): %v", resp.StatusCode, err)
	}
	return r
}

// ErrorAt returns the error whose path starts at the root field alias, or
// nil if there is none.
func (r Result) ErrorAt(alias string) *ResultError {
	for i, e := range r.Errors {
		if len(e.Path) > 0 && e.Path[0] == alias {
			return &r.Errors[i]
		}
	}
	return nil
}

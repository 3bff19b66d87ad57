//go:build tools

// Package main's tool imports keep the code generators in go.mod, so
// `go generate ./...` runs them at the pinned versions.
package main

import (
	_ "entgo.io/contrib/entgql"
	_ "entgo.io/ent/entc/gen"
	_ "github.com/99designs/gqlgen"
	_ "github.com/Khan/genqlient"
)

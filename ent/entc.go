//go:build ignore

// entc.go generates the ent client and, through entgql, schema/ent.graphql.
// server.go runs it from the repository root (see its //go:generate lines):
// entgql compares paths textually, so they must stay root-relative.
package main

import (
	"log"

	"entgo.io/contrib/entgql"
	"entgo.io/ent/entc"
	"entgo.io/ent/entc/gen"
)

func main() {
	ex, err := entgql.NewExtension(
		entgql.WithConfigPath("./gqlgen.yml"),
		entgql.WithSchemaGenerator(),
		entgql.WithSchemaPath("./schema/ent.graphql"),
		entgql.WithWhereInputs(true),
		entgql.WithNodeDescriptor(true),
	)
	if err != nil {
		log.Fatalf("creating entgql extension: %v", err)
	}
	err = entc.Generate("./ent/schema", &gen.Config{
		Features: []gen.Feature{
			gen.FeatureGlobalID,
			gen.FeaturePrivacy,
			gen.FeatureEntQL,
			gen.FeatureUpsert,
			gen.FeatureModifier,
			gen.FeatureIntercept,
			gen.FeatureExecQuery,
		},
	}, entc.Extensions(ex))
	if err != nil {
		log.Fatalf("running ent codegen: %v", err)
	}
}

package schema

// EnumDoc describes an enum field's GraphQL enum, the type and each value:
// ent/entc.go copies it into ent.graphql, as entgql has no place for it.
type EnumDoc struct {
	Type   string
	Values map[string]string
}

func (EnumDoc) Name() string { return "EnumDoc" }

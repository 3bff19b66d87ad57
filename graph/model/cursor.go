package model

import (
	"context"
	"io"
	"time"

	"entgo.io/contrib/entgql"
	"github.com/99designs/gqlgen/graphql"

	"fleetgate/internal/fault"
)

// MarshalCursor writes a connection cursor as entgql does. gqlgen hands
// UnmarshalCursor a context only when the marshaler takes one too.
func MarshalCursor(c *entgql.Cursor[int]) graphql.ContextMarshaler {
	return (*cursorWriter)(c)
}

type cursorWriter entgql.Cursor[int]

func (c *cursorWriter) MarshalGQLContext(_ context.Context, w io.Writer) error {
	(*entgql.Cursor[int])(c).MarshalGQL(w)
	return nil
}

// UnmarshalCursor reads the after or before argument of a connection
// (README "Errors"). An empty string is no cursor: clients that send unset
// optional values as zero values ask for the first page. Anything else that
// is not a cursor this API wrote is refused naming the argument, without
// the decoder's words.
func UnmarshalCursor(ctx context.Context, v any) (*entgql.Cursor[int], error) {
	if v == "" {
		return nil, nil
	}
	c := new(entgql.Cursor[int])
	if err := c.UnmarshalGQL(v); err != nil || !orderValue(c.Value) {
		var arg string
		if pc := graphql.GetPathContext(ctx); pc != nil && pc.Field != nil {
			arg = *pc.Field
		}
		return nil, fault.Input(arg, "%s is not a valid cursor: pass one from an earlier page", arg)
	}
	if t, ok := c.Value.(time.Time); ok {
		c.Value = t.UTC() // compared with stored times, which are UTC (UnmarshalTime)
	}
	return c, nil
}

// orderValue reports whether v can be a cursor's value: connections are
// ordered by id (no value) or by createdAt (a time). Anything else was not
// written by this API, and would reach SQL as a value of the wrong type.
func orderValue(v any) bool {
	switch v.(type) {
	case nil, time.Time:
		return true
	}
	return false
}

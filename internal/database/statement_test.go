package database_test

import (
	"context"
	"database/sql"
	"testing"

	entsql "entgo.io/ent/dialect/sql"

	"fleetgate/ent/user"
	"fleetgate/internal/apitest"
	"fleetgate/internal/database"
)

// TestStatement: a statement's values bind where ent's builder put them,
// one used twice included, on each database; a constant in its text is
// refused rather than baked in.
func TestStatement(t *testing.T) {
	named := database.NewStatement(2, func(d string, p ...any) entsql.Querier {
		users := entsql.Table(user.Table)
		return entsql.Dialect(d).Select(users.C(user.FieldUsername)).From(users).
			Where(entsql.Or(
				entsql.And(entsql.EQ(users.C(user.FieldUsername), p[1]), entsql.NEQ(users.C(user.FieldEmail), p[0])),
				entsql.EQ(users.C(user.FieldEmail), p[1]),
			))
	})
	constant := database.NewStatement(0, func(d string, _ ...any) entsql.Querier {
		users := entsql.Table(user.Table)
		return entsql.Dialect(d).Select(users.C(user.FieldID)).From(users).Where(entsql.EQ(users.C(user.FieldUsername), "alice"))
	})
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		ctx := context.Background()
		s.SignUp(t, "alice")
		s.SignUp(t, "bob")
		for _, c := range []struct {
			values []any
			want   string
		}{
			{[]any{"nobody@example.com", "bob"}, "bob"},
			{[]any{"bob@example.com", "bob"}, ""},
			{[]any{"x", "alice@example.com"}, "alice"},
		} {
			got := ""
			found, err := named.QueryRow(ctx, s.DB, func(rows *sql.Rows) error { return rows.Scan(&got) }, c.values...)
			if err != nil || found != (c.want != "") {
				t.Fatalf("values %v: found %v, %v", c.values, found, err)
			}
			if got != c.want {
				t.Errorf("values %v: got %q, want %q", c.values, got, c.want)
			}
		}
		ignore := func(*sql.Rows) error { return nil }
		if _, err := named.QueryRow(ctx, s.DB, ignore, "only one"); err == nil {
			t.Error("a statement ran with a value missing")
		}
		if _, err := constant.QueryRow(ctx, s.DB, ignore); err == nil {
			t.Error("a statement with a constant in its text ran")
		}
	})
}

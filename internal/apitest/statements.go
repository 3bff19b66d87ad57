package apitest

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"

	"fleetgate/ent"
	"fleetgate/internal/database"
)

// Statements counts the SQL statements a server sends to its database.
type Statements struct{ n atomic.Int64 }

// Count is the number of statements since the last Reset.
func (s *Statements) Count() int64 { return s.n.Load() }

// Reset starts counting from zero.
func (s *Statements) Reset() { s.n.Store(0) }

// StartCounting is Start with every statement the server runs counted:
// ent's debug driver reports each one, in or out of a transaction.
func StartCounting(t testing.TB, b Backend) (*Server, *Statements) {
	t.Helper()
	drv := b.open(t)
	plain := ent.NewClient(ent.Driver(drv))
	t.Cleanup(func() { plain.Close() })
	if err := database.Migrate(context.Background(), drv); err != nil {
		t.Fatal(err)
	}
	st := &Statements{}
	counted := dialect.DebugWithContext(database.Prepared(drv), func(_ context.Context, v ...any) {
		if strings.Contains(fmt.Sprint(v...), ": query=") {
			st.n.Add(1)
		}
	})
	return Serve(t, ent.NewClient(ent.Driver(counted))), st
}

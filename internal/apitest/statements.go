package apitest

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"entgo.io/ent/dialect"

	"fleetgate/ent"
	"fleetgate/internal/database"
)

// Statements counts the SQL statements a server sends to its database, and
// keeps their text (with their arguments).
type Statements struct {
	n     atomic.Int64
	mu    sync.Mutex
	texts []string
}

// Texts are the statements since the last Reset, in order.
func (s *Statements) Texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.texts)
}

// Count is the number of statements since the last Reset.
func (s *Statements) Count() int64 { return s.n.Load() }

// Reset starts counting from zero.
func (s *Statements) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n.Store(0)
	s.texts = nil
}

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
		if text := fmt.Sprint(v...); strings.Contains(text, ": query=") {
			st.mu.Lock()
			st.n.Add(1)
			st.texts = append(st.texts, text)
			st.mu.Unlock()
		}
	})
	return Serve(t, ent.NewClient(ent.Driver(counted))), st
}

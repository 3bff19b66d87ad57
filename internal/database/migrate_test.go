package database_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"fleetgate/internal/apitest"
	"fleetgate/internal/database"
)

// instanceDSN, set in a test binary's environment, makes it one instance
// starting: it migrates that database and exits (TestConcurrentStarts).
const instanceDSN = "FLEETGATE_TEST_INSTANCE_DSN"

func TestMain(m *testing.M) {
	if dsn := os.Getenv(instanceDSN); dsn != "" {
		if err := startInstance(dsn); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func startInstance(dsn string) error {
	drv, err := database.Postgres(dsn)
	if err != nil {
		return err
	}
	defer drv.Close()
	return database.Migrate(context.Background(), drv)
}

type exit struct {
	err    error
	output string
}

// TestConcurrentStarts: three instances start at once on one empty
// PostgreSQL schema, and all three migrate it. They are processes, so the
// in-process mutex of Migrate plays no part. The test holds the migration
// lock until all three wait for it, so all three contend for it at the same
// moment; an instance that migrates without waiting for the lock fails the
// test.
func TestConcurrentStarts(t *testing.T) {
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL is not set")
	}
	u, err := url.Parse(apitest.PostgresSchema(t, base))
	if err != nil {
		t.Fatal(err)
	}
	// The instances' connections carry this name, to tell them apart from
	// anyone else's in pg_locks.
	name := fmt.Sprintf("fleetgate-test-%d", os.Getpid())
	q := u.Query()
	q.Set("application_name", name)
	u.RawQuery = q.Encode()

	db, err := sql.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	holder, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Rollback()
	if _, err := holder.Exec("SELECT pg_advisory_xact_lock($1)", database.MigrationLock); err != nil {
		t.Fatal(err)
	}

	const instances = 3
	exits := make(chan exit, instances)
	for range instances {
		cmd := exec.CommandContext(t.Context(), os.Args[0])
		cmd.Env = append(os.Environ(), instanceDSN+"="+u.String())
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() {
			err := cmd.Wait()
			exits <- exit{err, out.String()}
		}()
	}

	// Waiting for a state of the database, observed as often as it is
	// cheap to look.
	poll := time.NewTicker(10 * time.Millisecond)
	defer poll.Stop()
	for waiting := 0; waiting < instances; {
		select {
		case e := <-exits:
			t.Fatalf("an instance finished before all %d waited for the migration lock (%v):\n%s", instances, e.err, e.output)
		case <-poll.C:
		}
		err := db.QueryRow(`SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
			WHERE l.locktype = 'advisory' AND NOT l.granted AND a.application_name = $1`, name).Scan(&waiting)
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := holder.Rollback(); err != nil {
		t.Fatal(err)
	}
	for range instances {
		if e := <-exits; e.err != nil {
			t.Errorf("an instance failed to start (%v):\n%s", e.err, e.output)
		}
	}

	migrated, err := sql.Open("postgres", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer migrated.Close()
	var users int
	if err := migrated.QueryRow("SELECT count(*) FROM users").Scan(&users); err != nil {
		t.Fatalf("the migrated schema: %v", err)
	}
}

package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	entsql "entgo.io/ent/dialect/sql"
	"github.com/Khan/genqlient/graphql"

	"fleetgate/ent"
	"fleetgate/ent/passwordreset"
	"fleetgate/internal/apitest"
	"fleetgate/internal/database"
	"fleetgate/internal/mail"
)

// childProcess, in a test binary's environment, makes it a fleetgate
// process: run with that environment, until it is killed.
const childProcess = "FLEETGATE_TEST_CHILD"

// patience bounds a wait for something asynchronous: a guard against a
// hanging test, never a way to let time pass.
const patience = 30 * time.Second

// TestResetMailSurvivesKill: a reset mail accepted by the API is not lost
// when the process is killed with SIGKILL while sending (the mail server
// has the connection but never answers): after a restart it reaches the
// mail server, once, with the link that was committed, even with two
// instances restarting together; so does the sign-up's verification mail
// before it.
func TestResetMailSurvivesKill(t *testing.T) {
	if os.Getenv(childProcess) != "" {
		err := run(context.Background(), []string{"fleetgate"}, os.Getenv, os.Stdout)
		t.Fatalf("fleetgate ended: %v", err)
	}
	type backend struct {
		name string
		env  map[string]string
		open func() (*entsql.Driver, error)
	}
	dir := t.TempDir()
	backends := []backend{{"sqlite", map[string]string{"DATA_DIR": dir}, func() (*entsql.Driver, error) {
		return database.SQLite(filepath.Join(dir, "fleetgate.db"))
	}}}
	if base := os.Getenv("TEST_DATABASE_URL"); base != "" {
		dsn := apitest.PostgresSchema(t, base)
		backends = append(backends, backend{"postgres", map[string]string{
			"DATABASE_URL": dsn, "SECRET_KEY": "ZmxlZXRnYXRlIHRlc3Qgc2VjcmV0IGtleSAzMiBiISE=", "DATA_DIR": t.TempDir(),
		}, func() (*entsql.Driver, error) { return database.Postgres(dsn) }})
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			stalled := stallingMailServer(t)
			child := startChild(t, b.env, map[string]string{"SMTP_URL": "smtp://" + stalled.addr + "?starttls=none"})
			api := graphql.NewClient(child.url+"/graphql", http.DefaultClient)
			apitest.Must(apitest.SignUp(t.Context(), api, apitest.SignUpInput{Username: "alice", Email: "alice@example.com", Password: apitest.Password}))(t)
			apitest.Must(apitest.RequestPasswordReset(t.Context(), api, "alice@example.com"))(t)
			select {
			case <-stalled.connected: // the worker is sending
			case <-time.After(patience):
				t.Fatal("the worker never connected to the mail server")
			}
			child.kill(t)

			// Two instances start again on the database, each with its
			// connections.
			var dbs [2]*ent.Client
			for i := range dbs {
				drv, err := b.open()
				if err != nil {
					t.Fatal(err)
				}
				dbs[i] = ent.NewClient(ent.Driver(drv))
				defer dbs[i].Close()
			}
			db, ctx := dbs[0], context.Background()
			// The sign-up's verification mail and the reset mail, neither
			// sent, and one of them in flight.
			pending, err := db.OutboxMail.Query().All(ctx)
			if err != nil {
				t.Fatal(err)
			}
			inFlight := 0
			for _, m := range pending {
				if m.SentAt != nil || m.FailedAt != nil {
					t.Fatalf("a mail was done with before the kill: %+v", m)
				}
				if m.Attempts == 1 && m.LeaseUntil != nil {
					inFlight++
				}
			}
			if len(pending) != 2 || inFlight == 0 {
				t.Fatalf("%d mails, %d of them in flight, when the process died; want 2, 1 or 2", len(pending), inFlight)
			}
			// They deliver at once, after the dead one's lease has passed.
			box := apitest.NewMailbox(t)
			later := func() time.Time { return time.Now().Add(mail.DefaultLease) }
			var outboxes [2]*mail.Outbox
			tried := make(chan int, len(dbs))
			for i, db := range dbs {
				outboxes[i] = mail.NewOutbox(db, box.Sender(), slog.New(slog.NewTextHandler(io.Discard, nil)), mail.WithClock(later))
				go func() {
					n, err := outboxes[i].Deliver(ctx)
					if err != nil {
						t.Error(err)
					}
					tried <- n
				}()
			}
			if n := <-tried + <-tried; n != 2 {
				t.Fatalf("after the restart: tried %d mails, want 2", n)
			}
			received := map[string]apitest.Mail{}
			for range 2 {
				got := box.Next()
				received[got.Subject] = got
			}
			got := received["Reset your fleetgate password"]
			link := regexp.MustCompile(`/password-reset\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(got.Text)
			if got.To != "alice@example.com" || link == nil || len(received) != 2 {
				t.Fatalf("received %v", received)
			}
			hash := sha256.Sum256([]byte(link[1]))
			if n, err := db.PasswordReset.Query().Where(passwordreset.Hash(hash[:])).Count(ctx); err != nil || n != 1 {
				t.Fatalf("the mailed link is not the committed one: %d rows (%v)", n, err)
			}
			for _, o := range outboxes {
				if n, err := o.Deliver(ctx); err != nil || n != 0 {
					t.Fatalf("a second pass tried %d mails (%v)", n, err)
				}
			}
			box.Empty()
		})
	}
}

// stalledServer accepts SMTP connections and never says a word: a send to
// it hangs until the sender's timeout.
type stalledServer struct {
	addr      string
	connected chan struct{}
}

func stallingMailServer(t *testing.T) stalledServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := stalledServer{addr: ln.Addr().String(), connected: make(chan struct{}, 10)}
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			s.connected <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return s
}

// child is fleetgate running in a process of its own.
type child struct {
	cmd *exec.Cmd
	url string
}

// startChild runs the test binary as fleetgate with env and extra (and
// the rest of this process's environment), and waits until it listens.
func startChild(t *testing.T, env, extra map[string]string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestResetMailSurvivesKill$")
	cmd.Env = append(os.Environ(), childProcess+"=1", "LISTEN_ADDR=127.0.0.1:0", "LOG_FORMAT=json",
		"MAIL_FROM=fleetgate@example.test", "DATABASE_URL=", "SECRET_KEY=")
	for _, vars := range []map[string]string{env, extra} {
		for k, v := range vars {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(lines.Bytes(), &line) == nil && line.Msg == "fleetgate listening" {
				addr <- strings.TrimSuffix(line.Addr, "/")
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatal("fleetgate ended before listening")
		}
		c.url = a
	case <-time.After(patience):
		t.Fatal("fleetgate did not start listening")
	}
	return c
}

// kill sends SIGKILL: no deferred function, no shutdown, runs.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	if err := c.cmd.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		t.Fatalf("the child ended with %v, want killed", err)
	}
}

// TestMailRetention: MAIL_RETENTION is a positive duration, 168h unless
// set; anything else stops the start with a message naming it.
func TestMailRetention(t *testing.T) {
	for v, want := range map[string]time.Duration{"": 168 * time.Hour, "72h": 72 * time.Hour, "90m": 90 * time.Minute} {
		cfg, err := loadConfig(func(k string) string { return map[string]string{"MAIL_RETENTION": v}[k] })
		if err != nil || cfg.mailRetention != want {
			t.Errorf("MAIL_RETENTION=%q: %v, %v; want %v", v, cfg.mailRetention, err, want)
		}
	}
	for _, v := range []string{"0", "-1h", "7d", "soon"} {
		_, err := loadConfig(func(k string) string { return map[string]string{"MAIL_RETENTION": v}[k] })
		if err == nil || !strings.HasPrefix(err.Error(), "MAIL_RETENTION must be a positive duration") {
			t.Errorf("MAIL_RETENTION=%q: %v", v, err)
		}
	}
}

// TestMailMetrics: the API's /metrics has the outbox's series.
func TestMailMetrics(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		s, _ = s.WithMailbox(t)
		code, body := get(t, s.URL+"/metrics")
		for _, series := range []string{"fleetgate_mail_outbox_depth 0", "fleetgate_mail_outbox_failed 0",
			"fleetgate_mail_sent_total 0", "fleetgate_mail_failed_total 0"} {
			if code != http.StatusOK || !strings.Contains(body, "\n"+series+"\n") {
				t.Fatalf("/metrics (%d) lacks %s:\n%s", code, series, body)
			}
		}
	})
}

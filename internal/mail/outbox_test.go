package mail_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"fleetgate/ent"
	"fleetgate/ent/outboxmail"
	"fleetgate/internal/apitest"
	"fleetgate/internal/database"
	"fleetgate/internal/mail"
)

// patience bounds a wait for something asynchronous: a guard against a
// hanging test, never a way to let time pass.
const patience = 10 * time.Second

// clock is a frozen time that a test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now()} }

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// senderFunc adapts a function to mail.Sender.
type senderFunc func(ctx context.Context, m mail.Message) error

func (f senderFunc) Send(ctx context.Context, m mail.Message) error { return f(ctx, m) }

// counting is a Sender that counts what it sent, by subject.
type counting struct {
	mu   sync.Mutex
	sent map[string]int
}

func (c *counting) Send(_ context.Context, m mail.Message) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sent == nil {
		c.sent = map[string]int{}
	}
	c.sent[m.Subject]++
	return nil
}

// records is a slog.Handler keeping every record, for the test to look at.
type records struct {
	mu   sync.Mutex
	list []slog.Record
}

func (r *records) Enabled(context.Context, slog.Level) bool { return true }
func (r *records) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.list = append(r.list, rec.Clone())
	return nil
}
func (r *records) WithAttrs(attrs []slog.Attr) slog.Handler { return withAttrs{r, attrs} }
func (r *records) WithGroup(string) slog.Handler            { return r }

// withAttrs keeps the attributes of Logger.With on each record.
type withAttrs struct {
	*records
	attrs []slog.Attr
}

func (w withAttrs) Handle(ctx context.Context, rec slog.Record) error {
	rec = rec.Clone()
	rec.AddAttrs(w.attrs...)
	return w.records.Handle(ctx, rec)
}

// find returns the records with message msg, as maps of their attributes.
func (r *records) find(msg string) []map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]string
	for _, rec := range r.list {
		if rec.Message != msg {
			continue
		}
		attrs := map[string]string{}
		rec.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		out = append(out, attrs)
	}
	return out
}

func discard() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func message(i int) mail.Message {
	return mail.Message{To: fmt.Sprintf("user%d@example.test", i), Subject: fmt.Sprintf("message %d", i), Text: "body"}
}

// enqueue writes ms in one transaction, as a change that mails would.
func enqueue(t *testing.T, o *mail.Outbox, db *ent.Client, ms ...mail.Message) {
	t.Helper()
	err := database.WithTx(context.Background(), db, func(tx *ent.Tx) error {
		for _, m := range ms {
			if err := o.Enqueue(context.Background(), tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func deliver(t *testing.T, o *mail.Outbox) int {
	t.Helper()
	n, err := o.Deliver(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func row(t *testing.T, db *ent.Client, subject string) *ent.OutboxMail {
	t.Helper()
	r, err := db.OutboxMail.Query().Where(outboxmail.Subject(subject)).Only(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// metrics is what the outbox exposes to Prometheus, in the text format.
func metrics(t *testing.T, o *mail.Outbox) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	reg.MustRegister(o)
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.PanicOnError}).
		ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

func wantMetrics(t *testing.T, o *mail.Outbox, lines ...string) {
	t.Helper()
	got := metrics(t, o)
	for _, l := range lines {
		if !strings.Contains(got, "\n"+l+"\n") {
			t.Errorf("metrics lack %q:\n%s", l, got)
		}
	}
}

// A mail committed goes to the SMTP server once; a mail whose transaction
// rolls back goes nowhere.
func TestOutboxSendsWhatCommits(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		box := apitest.NewMailbox(t)
		o := mail.NewOutbox(s.DB, box.Sender(), discard())
		rolledBack := errors.New("the change failed")
		err := database.WithTx(context.Background(), s.DB, func(tx *ent.Tx) error {
			if err := o.Enqueue(context.Background(), tx, message(1)); err != nil {
				return err
			}
			return rolledBack
		})
		if !errors.Is(err, rolledBack) {
			t.Fatal(err)
		}
		enqueue(t, o, s.DB, message(2))
		wantMetrics(t, o, "fleetgate_mail_outbox_depth 1", "fleetgate_mail_sent_total 0")

		if n := deliver(t, o); n != 1 {
			t.Fatalf("tried %d mails, want 1", n)
		}
		if got := box.Next(); got.To != "user2@example.test" || got.Subject != "message 2" || got.Text != "body\n" {
			t.Fatalf("received %+v", got)
		}
		if n := deliver(t, o); n != 0 {
			t.Fatalf("tried %d mails again", n)
		}
		box.Empty()
		r := row(t, s.DB, "message 2")
		if r.SentAt == nil || r.Attempts != 1 || r.LeaseUntil != nil {
			t.Fatalf("row after sending: %+v", r)
		}
		wantMetrics(t, o, "fleetgate_mail_outbox_depth 0", "fleetgate_mail_sent_total 1", "fleetgate_mail_outbox_failed 0")
	})
}

// A temporary failure is retried after each wait of the backoff, not
// before, until the mail goes out.
func TestOutboxRetriesWithBackoff(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		c := newClock()
		var log records
		var mu sync.Mutex
		failures := 2
		sender := senderFunc(func(context.Context, mail.Message) error {
			mu.Lock()
			defer mu.Unlock()
			if failures > 0 {
				failures--
				return errors.New("451 try again later")
			}
			return nil
		})
		o := mail.NewOutbox(s.DB, sender, slog.New(&log), mail.WithClock(c.now), mail.WithBackoff(time.Minute, 4*time.Minute, time.Hour))
		enqueue(t, o, s.DB, message(1))

		for attempt, wait := range []time.Duration{time.Minute, 4 * time.Minute} {
			if n := deliver(t, o); n != 1 {
				t.Fatalf("attempt %d: tried %d", attempt+1, n)
			}
			r := row(t, s.DB, "message 1")
			if r.SentAt != nil || r.LastError != "451 try again later" || r.Attempts != attempt+1 ||
				!r.NextAttemptAt.Equal(c.now().UTC().Truncate(time.Microsecond).Add(wait)) {
				t.Fatalf("after attempt %d: %+v", attempt+1, r)
			}
			c.advance(wait - time.Second)
			if n := deliver(t, o); n != 0 {
				t.Fatalf("retried %v early", time.Second)
			}
			c.advance(time.Second)
		}
		if n := deliver(t, o); n != 1 {
			t.Fatalf("third attempt: tried %d", n)
		}
		if r := row(t, s.DB, "message 1"); r.SentAt == nil || r.Attempts != 3 || r.LastError != "" {
			t.Fatalf("after the third attempt: %+v", r)
		}
		if got := log.find("mail not sent, will retry"); len(got) != 2 || got[0]["retry_in"] != "1m0s" || got[1]["retry_in"] != "4m0s" {
			t.Errorf("retry log lines: %v", got)
		}
		if got := log.find("mail sent after retry"); len(got) != 1 || got[0]["attempt"] != "3" {
			t.Errorf("sent log lines: %v", got)
		}
	})
}

// Out of attempts, or rejected for good, a mail is marked failed, logged
// without its body and counted, and stays visible in the outbox.
func TestOutboxFailedMailsStayVisible(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		c := newClock()
		var log records
		sender := senderFunc(func(_ context.Context, m mail.Message) error {
			if m.To == "rejected@example.test" {
				return fmt.Errorf("%w: 550 no such user", mail.ErrPermanent)
			}
			return errors.New("connection refused")
		})
		o := mail.NewOutbox(s.DB, sender, slog.New(&log), mail.WithClock(c.now), mail.WithBackoff(time.Minute, time.Minute))
		enqueue(t, o, s.DB, mail.Message{To: "down@example.test", Subject: "unlucky", Text: "secret link"},
			mail.Message{To: "rejected@example.test", Subject: "rejected", Text: "secret link"})
		if n := deliver(t, o); n != 2 {
			t.Fatalf("first pass tried %d", n)
		}
		if r := row(t, s.DB, "rejected"); r.FailedAt == nil || r.Attempts != 1 || !strings.Contains(r.LastError, "550 no such user") {
			t.Fatalf("rejected mail: %+v", r)
		}
		for range 2 {
			c.advance(time.Minute)
			if n := deliver(t, o); n != 1 {
				t.Fatalf("retry tried %d", n)
			}
		}
		if r := row(t, s.DB, "unlucky"); r.FailedAt == nil || r.Attempts != 3 || r.LastError != "connection refused" {
			t.Fatalf("mail out of attempts: %+v", r)
		}
		c.advance(time.Hour)
		if n := deliver(t, o); n != 0 {
			t.Fatalf("a failed mail was tried again")
		}
		for msg, subject := range map[string]string{"mail not sent: giving up": "unlucky", "mail not sent: rejected": "rejected"} {
			got := log.find(msg)
			if len(got) != 1 || got[0]["subject"] != subject || got[0]["err"] == "" {
				t.Errorf("%q log lines: %v", msg, got)
			}
			if _, ok := got[0]["text"]; ok {
				t.Errorf("the failure log has the body: %v", got)
			}
		}
		wantMetrics(t, o, "fleetgate_mail_failed_total 2", "fleetgate_mail_outbox_failed 2", "fleetgate_mail_outbox_depth 0")
	})
}

// gate is a Sender that blocks every send until released.
type gate struct {
	started chan mail.Message
	release chan struct{}
	counting
}

func newGate() *gate {
	return &gate{started: make(chan mail.Message, 100), release: make(chan struct{})}
}

func (g *gate) Send(ctx context.Context, m mail.Message) error {
	g.started <- m
	<-g.release
	return g.counting.Send(ctx, m)
}

func (g *gate) waitStarted(t *testing.T) {
	t.Helper()
	select {
	case <-g.started:
	case <-time.After(patience):
		t.Fatal("no send started")
	}
}

// Two instances on one database: the mails one has claimed are not the
// other's to send while its lease holds, and every mail goes out once.
func TestOutboxTwoInstancesSendEachMailOnce(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		c := newClock()
		a, b := newGate(), &counting{}
		first := mail.NewOutbox(s.DB, a, discard(), mail.WithClock(c.now))
		second := mail.NewOutbox(s.DB, b, discard(), mail.WithClock(c.now))
		const total = 23
		for i := range total {
			enqueue(t, first, s.DB, message(i))
		}
		done := make(chan int)
		go func() {
			n, _ := first.Deliver(context.Background())
			done <- n
		}()
		a.waitStarted(t) // the first instance holds a claim, stuck in a send
		n := deliver(t, second)
		close(a.release)
		n += <-done
		if n != total {
			t.Fatalf("the two tried %d mails, want %d", n, total)
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		if len(a.sent) == 0 || len(b.sent) == 0 {
			t.Fatalf("sent %d and %d: the second instance was meant to send while the first was stuck", len(a.sent), len(b.sent))
		}
		for i := range total {
			subject := message(i).Subject
			if got := a.sent[subject] + b.sent[subject]; got != 1 {
				t.Errorf("%s sent %d times", subject, got)
			}
		}
	})
}

// Both instances deliver at the same moment, over and over: PostgreSQL's
// SKIP LOCKED (SQLite's single writer) keeps their claims apart.
func TestOutboxConcurrentInstances(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		var sent counting
		instances := []*mail.Outbox{mail.NewOutbox(s.DB, &sent, discard()), mail.NewOutbox(s.DB, &sent, discard())}
		const total = 40
		for i := range total {
			enqueue(t, instances[0], s.DB, message(i))
		}
		var wg sync.WaitGroup
		for _, o := range instances {
			wg.Go(func() {
				if _, err := o.Deliver(context.Background()); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		for i := range total {
			if got := sent.sent[message(i).Subject]; got != 1 {
				t.Errorf("%s sent %d times", message(i).Subject, got)
			}
		}
	})
}

// A mail claimed by an instance that stopped answering goes out from
// another once the lease has passed.
func TestOutboxLeaseExpires(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		c := newClock()
		stuck := newGate()
		defer close(stuck.release)
		var sent counting
		dead := mail.NewOutbox(s.DB, stuck, discard(), mail.WithClock(c.now), mail.WithLease(time.Minute))
		alive := mail.NewOutbox(s.DB, &sent, discard(), mail.WithClock(c.now))
		enqueue(t, dead, s.DB, message(1))
		go dead.Deliver(context.Background())
		stuck.waitStarted(t)

		c.advance(time.Minute - time.Microsecond)
		if n := deliver(t, alive); n != 0 {
			t.Fatal("took a mail under another's lease")
		}
		c.advance(time.Microsecond)
		if n := deliver(t, alive); n != 1 || sent.sent["message 1"] != 1 {
			t.Fatalf("after the lease: tried %d, sent %v", n, sent.sent)
		}
		if r := row(t, s.DB, "message 1"); r.SentAt == nil || r.Attempts != 2 {
			t.Fatalf("row: %+v", r)
		}
	})
}

// Stopped in the middle of a batch, a worker finishes the send under way
// and hands back the mails it claimed but did not try.
func TestOutboxStopHandsBackClaims(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		g := newGate()
		o := mail.NewOutbox(s.DB, g, discard())
		enqueue(t, o, s.DB, message(1), message(2), message(3))
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan int)
		go func() {
			n, _ := o.Deliver(ctx)
			done <- n
		}()
		g.waitStarted(t)
		stop()
		close(g.release)
		if n := <-done; n != 1 {
			t.Fatalf("tried %d after the stop", n)
		}
		if r := row(t, s.DB, "message 1"); r.SentAt == nil {
			t.Fatalf("the send under way was not recorded: %+v", r)
		}
		for _, subject := range []string{"message 2", "message 3"} {
			if r := row(t, s.DB, subject); r.LeaseUntil != nil || r.Attempts != 0 || r.SentAt != nil {
				t.Fatalf("%s was not handed back: %+v", subject, r)
			}
		}
		// Another worker takes them at once, without waiting for a lease.
		var sent counting
		if n := deliver(t, mail.NewOutbox(s.DB, &sent, discard())); n != 2 {
			t.Fatalf("the next worker tried %d", n)
		}
	})
}

// Sent and failed mails are deleted after the retention; waiting ones
// never, however old.
func TestOutboxCleanup(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		c := newClock()
		sender := senderFunc(func(_ context.Context, m mail.Message) error {
			if m.Subject == "fails" {
				return mail.ErrPermanent
			}
			return nil
		})
		o := mail.NewOutbox(s.DB, sender, discard(), mail.WithClock(c.now), mail.WithRetention(24*time.Hour))
		enqueue(t, o, s.DB, mail.Message{To: "a@example.test", Subject: "old", Text: "x"},
			mail.Message{To: "a@example.test", Subject: "fails", Text: "x"})
		deliver(t, o)
		// A mail waiting for its retry, written as long ago.
		enqueue(t, o, s.DB, mail.Message{To: "a@example.test", Subject: "waiting", Text: "x"})
		if err := s.DB.OutboxMail.Update().Where(outboxmail.Subject("waiting")).
			SetNextAttemptAt(c.now().UTC().Add(48 * time.Hour)).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.advance(24*time.Hour - time.Second)
		enqueue(t, o, s.DB, mail.Message{To: "a@example.test", Subject: "recent", Text: "x"})
		deliver(t, o)
		c.advance(2 * time.Second)
		n, err := o.Cleanup(context.Background())
		if err != nil || n != 2 {
			t.Fatalf("cleanup deleted %d (%v), want 2", n, err)
		}
		var left []string
		if err := s.DB.OutboxMail.Query().Order(outboxmail.BySubject()).Select(outboxmail.FieldSubject).
			Scan(context.Background(), &left); err != nil {
			t.Fatal(err)
		}
		if strings.Join(left, ",") != "recent,waiting" {
			t.Fatalf("left %v", left)
		}
	})
}

// Run sends a mail as soon as its transaction commits, without waiting for
// the poll.
func TestOutboxRunWakesOnCommit(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		box := apitest.NewMailbox(t)
		o := mail.NewOutbox(s.DB, box.Sender(), discard(), mail.WithPollInterval(time.Hour))
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); o.Run(ctx) }()
		defer func() { stop(); <-done }()
		for i := range 3 {
			enqueue(t, o, s.DB, message(i))
			if got := box.Next(); got.Subject != message(i).Subject {
				t.Fatalf("received %+v", got)
			}
		}
	})
}

// Without SMTP_URL the log sender writes each mail, with its body, to the
// log: through the outbox as before it.
func TestOutboxLogSender(t *testing.T) {
	apitest.Run(t, func(t *testing.T, s *apitest.Server) {
		var buf bytes.Buffer
		log := slog.New(slog.NewJSONHandler(&buf, nil))
		o := mail.NewOutbox(s.DB, mail.NewLog(log), log)
		enqueue(t, o, s.DB, mail.Message{To: "ada@example.test", Subject: "Reset", Text: "open /password-reset?token=abc"})
		deliver(t, o)
		want := `"msg":"mail not sent, logged","to":"ada@example.test","subject":"Reset","text":"open /password-reset?token=abc"`
		if !strings.Contains(buf.String(), want) {
			t.Fatalf("log lacks %s:\n%s", want, buf.String())
		}
	})
}

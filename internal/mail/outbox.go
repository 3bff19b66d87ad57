package mail

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"fleetgate/ent"
	"fleetgate/ent/outboxmail"
	"fleetgate/ent/predicate"
	"fleetgate/internal/clock"
	"fleetgate/internal/database"
)

// Outbox defaults (README "Passwords, mail and the account").
const (
	// DefaultRetention is how long sent and failed mails stay in the
	// outbox (MAIL_RETENTION).
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultLease is how long a worker holds the mails it claimed: a mail
	// claimed by an instance that died goes out again once it has passed.
	// It covers a whole batch of sends at the SMTP sender's timeout.
	DefaultLease = 5 * time.Minute
	// DefaultPollInterval is how often a worker looks for mail that another
	// instance wrote or whose retry is due; mail written in the same
	// process wakes it at once.
	DefaultPollInterval = 5 * time.Second
	// claimBatch is how many mails one claim takes.
	claimBatch = 5
	// cleanupInterval is how often Run deletes old mails.
	cleanupInterval = time.Hour
)

// defaultBackoff is the wait before each retry: eight attempts over about
// an hour, the lifetime of a reset link.
var defaultBackoff = []time.Duration{
	30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute,
	8 * time.Minute, 16 * time.Minute, 32 * time.Minute,
}

// Outbox is the durable mail queue: [Outbox.Enqueue] writes a mail into
// the transaction of the change it tells of, and [Outbox.Run] sends what is
// due, from any number of instances on one database, each mail once (the
// instance that claims it holds a lease). Safe for concurrent use.
type Outbox struct {
	db        *ent.Client
	sender    Sender
	log       *slog.Logger
	now       func() time.Time
	owner     string
	lease     time.Duration
	backoff   []time.Duration
	retention time.Duration
	poll      time.Duration
	wake      chan struct{}

	sent, failed      prometheus.Counter
	depth, failedRows *prometheus.Desc
}

// OutboxOption configures an Outbox.
type OutboxOption func(*Outbox)

// WithClock replaces time.Now: tests move it by hand to make retries and
// leases come due.
func WithClock(now func() time.Time) OutboxOption { return func(o *Outbox) { o.now = now } }

// WithBackoff sets the waits between attempts: a mail is tried
// len(delays)+1 times, waiting delays[i] before retry i+1, then marked
// failed. Default: 30s doubling to 32m (eight attempts).
func WithBackoff(delays ...time.Duration) OutboxOption {
	return func(o *Outbox) { o.backoff = append([]time.Duration(nil), delays...) }
}

// WithRetention sets how long sent and failed mails are kept (default
// [DefaultRetention]).
func WithRetention(d time.Duration) OutboxOption { return func(o *Outbox) { o.retention = d } }

// WithLease sets how long a claim holds (default [DefaultLease]).
func WithLease(d time.Duration) OutboxOption { return func(o *Outbox) { o.lease = d } }

// WithPollInterval sets how often Run looks for due mail (default
// [DefaultPollInterval]).
func WithPollInterval(d time.Duration) OutboxOption { return func(o *Outbox) { o.poll = d } }

// NewOutbox returns the outbox of db, sending through s and logging to log
// (slog.Default() when nil). Nothing is sent until [Outbox.Run] runs.
func NewOutbox(db *ent.Client, s Sender, log *slog.Logger, opts ...OutboxOption) *Outbox {
	if s == nil {
		panic("mail: NewOutbox with nil Sender")
	}
	if log == nil {
		log = slog.Default()
	}
	o := &Outbox{
		db: db, sender: s, log: log, now: clock.Now, owner: instanceName(),
		lease: DefaultLease, backoff: defaultBackoff, retention: DefaultRetention, poll: DefaultPollInterval,
		wake: make(chan struct{}, 1),
		sent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleetgate_mail_sent_total",
			Help: "Mails this instance sent.",
		}),
		failed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "fleetgate_mail_failed_total",
			Help: "Mails this instance gave up on: rejected, or out of attempts.",
		}),
		depth: prometheus.NewDesc("fleetgate_mail_outbox_depth",
			"Mails in the outbox waiting to be sent (by any instance).", nil, nil),
		failedRows: prometheus.NewDesc("fleetgate_mail_outbox_failed",
			"Failed mails still kept in the outbox (MAIL_RETENTION).", nil, nil),
	}
	for _, opt := range opts {
		opt(o)
	}
	return o
}

// instanceName tells the instances apart in lease_owner.
func instanceName() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), rand.Text()[:8])
}

// Enqueue writes m into tx, to be sent once tx commits: a rolled-back
// change mails nothing, and a committed one cannot lose its mail. The
// commit wakes this process's worker.
func (o *Outbox) Enqueue(ctx context.Context, tx *ent.Tx, m Message) error {
	now := o.clock()
	err := tx.OutboxMail.Create().SetRecipient(m.To).SetSubject(m.Subject).SetText(m.Text).SetHTML(m.HTML).
		SetNextAttemptAt(now).SetCreatedAt(now).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mail: enqueue: %w", err)
	}
	database.AfterCommit(tx, func(context.Context) { o.notify() })
	return nil
}

// clock is the time as stored: in UTC (SQLite compares times as text), to
// the microsecond (PostgreSQL's resolution, so that a time written is the
// time read back).
func (o *Outbox) clock() time.Time { return o.now().UTC().Truncate(time.Microsecond) }

func (o *Outbox) notify() {
	select {
	case o.wake <- struct{}{}:
	default: // a wake-up is pending already
	}
}

// Run sends due mail until ctx ends: at once after an Enqueue of this
// process, otherwise every poll interval; and deletes old mails every
// hour. A send in progress when ctx ends finishes and is recorded; mails
// claimed but not yet tried are handed back.
func (o *Outbox) Run(ctx context.Context) {
	poll := time.NewTicker(o.poll)
	defer poll.Stop()
	var cleaned time.Time
	for {
		if _, err := o.Deliver(ctx); err != nil && ctx.Err() == nil {
			o.log.Warn("mail outbox: delivery pass failed", "err", err)
		}
		if now := o.clock(); now.Sub(cleaned) >= cleanupInterval {
			if _, err := o.Cleanup(ctx); err != nil && ctx.Err() == nil {
				o.log.Warn("mail outbox: cleanup failed", "err", err)
			}
			cleaned = now
		}
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-poll.C:
		}
	}
}

// Deliver claims and tries every mail due now, batch after batch, and
// returns how many it tried. It stops early when ctx ends.
func (o *Outbox) Deliver(ctx context.Context) (int, error) {
	tried := 0
	for ctx.Err() == nil {
		batch, err := o.claim(ctx)
		if err != nil || len(batch) == 0 {
			return tried, err
		}
		for i, row := range batch {
			if ctx.Err() != nil {
				o.release(batch[i:])
				return tried, ctx.Err()
			}
			o.attempt(ctx, row)
			tried++
		}
	}
	return tried, ctx.Err()
}

// waiting is a mail neither sent nor given up on.
func waiting() predicate.OutboxMail {
	return outboxmail.And(outboxmail.SentAtIsNil(), outboxmail.FailedAtIsNil())
}

// claim takes a batch of due mails under a lease of this instance. On
// PostgreSQL the rows are locked as they are read, skipping those another
// instance is claiming at the same moment; SQLite has a single writer
// (transactions begin IMMEDIATE), so the read and the update cannot
// interleave with another claim.
func (o *Outbox) claim(ctx context.Context) (rows []*ent.OutboxMail, err error) {
	now := o.clock()
	err = database.WithTx(ctx, o.db, func(tx *ent.Tx) error {
		rows, err = tx.OutboxMail.Query().
			Where(waiting(), outboxmail.NextAttemptAtLTE(now),
				outboxmail.Or(outboxmail.LeaseUntilIsNil(), outboxmail.LeaseUntilLTE(now))).
			Order(ent.Asc(outboxmail.FieldNextAttemptAt), ent.Asc(outboxmail.FieldID)).
			Limit(claimBatch).Modify(database.LockRowSkipLocked).All(ctx)
		if err != nil || len(rows) == 0 {
			return err
		}
		ids := make([]int, len(rows))
		for i, r := range rows {
			ids[i] = r.ID
			r.Attempts++
		}
		return tx.OutboxMail.Update().Where(outboxmail.IDIn(ids...)).
			SetLeaseOwner(o.owner).SetLeaseUntil(now.Add(o.lease)).AddAttempts(1).Exec(ctx)
	})
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// attempt sends one claimed mail and records the outcome: sent, retried
// after the backoff, or failed for good.
func (o *Outbox) attempt(ctx context.Context, row *ent.OutboxMail) {
	m := Message{To: row.Recipient, Subject: row.Subject, Text: row.Text, HTML: row.HTML}
	// A send begun is finished even when ctx ends: cut short, it would
	// leave its mail to go out again after the lease.
	err := o.sender.Send(context.WithoutCancel(ctx), m)
	now := o.clock()
	log := o.log.With("mail", row.ID, "to", m.To, "subject", m.Subject, "attempt", row.Attempts)
	update := o.db.OutboxMail.Update().
		Where(outboxmail.ID(row.ID), outboxmail.LeaseOwner(o.owner)).ClearLeaseUntil()
	permanent := errors.Is(err, ErrPermanent) || errors.Is(err, ErrInvalidMessage)
	switch {
	case err == nil:
		update.SetSentAt(now).SetLastError("")
		o.sent.Inc()
		if row.Attempts > 1 {
			log.Info("mail sent after retry")
		}
	case permanent || row.Attempts > len(o.backoff):
		update.SetFailedAt(now).SetLastError(err.Error())
		o.failed.Inc()
		if permanent {
			log.Error("mail not sent: rejected", "err", err)
		} else {
			log.Error("mail not sent: giving up", "err", err)
		}
	default:
		delay := o.backoff[row.Attempts-1]
		update.SetNextAttemptAt(now.Add(delay)).SetLastError(err.Error())
		log.Warn("mail not sent, will retry", "retry_in", delay, "err", err)
	}
	n, uerr := update.Save(context.WithoutCancel(ctx))
	switch {
	case uerr != nil:
		log.Error("mail outbox: recording the attempt failed; it goes out again after its lease", "err", uerr)
	case n == 0:
		// Our lease ran out and another worker claimed the mail.
		log.Warn("mail outbox: lease lost while sending; the mail may go out twice")
	}
}

// release hands claimed mails back untried (at shutdown), so they need not
// wait for the lease to pass.
func (o *Outbox) release(rows []*ent.OutboxMail) {
	ids := make([]int, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := o.db.OutboxMail.Update().Where(outboxmail.IDIn(ids...), outboxmail.LeaseOwner(o.owner)).
		ClearLeaseUntil().AddAttempts(-1).Exec(ctx)
	if err != nil {
		o.log.Warn("mail outbox: handing back claimed mails failed; they go out after their lease", "err", err)
	}
}

// Cleanup deletes the mails sent or failed longer than the retention ago,
// and returns how many.
func (o *Outbox) Cleanup(ctx context.Context) (int, error) {
	before := o.clock().Add(-o.retention)
	return o.db.OutboxMail.Delete().
		Where(outboxmail.Or(outboxmail.SentAtLT(before), outboxmail.FailedAtLT(before))).Exec(ctx)
}

// Describe and Collect make the outbox a Prometheus collector: its
// counters, and the depth and failed rows read from the database at each
// scrape (README "Operating").
func (o *Outbox) Describe(ch chan<- *prometheus.Desc) {
	ch <- o.depth
	ch <- o.failedRows
	o.sent.Describe(ch)
	o.failed.Describe(ch)
}

func (o *Outbox) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if n, err := o.db.OutboxMail.Query().Where(waiting()).Count(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(o.depth, prometheus.GaugeValue, float64(n))
	} else {
		ch <- prometheus.NewInvalidMetric(o.depth, err)
	}
	if n, err := o.db.OutboxMail.Query().Where(outboxmail.FailedAtNotNil()).Count(ctx); err == nil {
		ch <- prometheus.MustNewConstMetric(o.failedRows, prometheus.GaugeValue, float64(n))
	} else {
		ch <- prometheus.NewInvalidMetric(o.failedRows, err)
	}
	o.sent.Collect(ch)
	o.failed.Collect(ch)
}

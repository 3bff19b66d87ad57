package mail

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Queue defaults.
const (
	DefaultQueueSize = 1000
	DefaultWorkers   = 4
)

// defaultBackoff is the wait before each retry: five attempts in all.
var defaultBackoff = []time.Duration{1 * time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}

// Queue sends messages in the background with a fixed number of workers,
// retrying failures with backoff. Create it with [NewQueue]; it is safe for
// concurrent use.
type Queue struct {
	sender  Sender
	log     *slog.Logger
	backoff []time.Duration
	wait    func(ctx context.Context, d time.Duration) error

	mu     sync.RWMutex // guards closed against sends on ch
	closed bool
	ch     chan Message

	ctx    context.Context // cancelled when Close gives up draining
	cancel context.CancelFunc
	done   chan struct{} // closed when every worker has returned
}

// QueueOption configures a Queue.
type QueueOption func(*queueConfig)

type queueConfig struct {
	size    int
	workers int
	backoff []time.Duration
	wait    func(ctx context.Context, d time.Duration) error
}

// WithQueueSize sets how many messages may wait (default
// [DefaultQueueSize]); beyond that Enqueue drops. Values < 1 are ignored.
func WithQueueSize(n int) QueueOption {
	return func(c *queueConfig) {
		if n > 0 {
			c.size = n
		}
	}
}

// WithWorkers sets how many messages are sent at once (default
// [DefaultWorkers]). Values < 1 are ignored.
func WithWorkers(n int) QueueOption {
	return func(c *queueConfig) {
		if n > 0 {
			c.workers = n
		}
	}
}

// WithBackoff sets the waits between attempts: a message is tried
// len(delays)+1 times, waiting delays[i] before retry i+1. No delays means a
// single attempt. Default: 1s, 2s, 4s, 8s (five attempts).
func WithBackoff(delays ...time.Duration) QueueOption {
	return func(c *queueConfig) {
		c.backoff = append([]time.Duration(nil), delays...)
	}
}

// WithWaitFunc replaces the function that waits between attempts (by
// default a timer). It must return early with ctx.Err() when ctx ends.
// Tests use it to retry without sleeping.
func WithWaitFunc(wait func(ctx context.Context, d time.Duration) error) QueueOption {
	return func(c *queueConfig) {
		if wait != nil {
			c.wait = wait
		}
	}
}

// NewQueue starts the workers sending through s and logging to log
// (slog.Default() when nil). Stop it with [Queue.Close].
func NewQueue(s Sender, log *slog.Logger, opts ...QueueOption) *Queue {
	if s == nil {
		panic("mail: NewQueue with nil Sender")
	}
	if log == nil {
		log = slog.Default()
	}
	cfg := queueConfig{
		size:    DefaultQueueSize,
		workers: DefaultWorkers,
		backoff: defaultBackoff,
		wait:    sleep,
	}
	for _, o := range opts {
		if o != nil {
			o(&cfg)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	q := &Queue{
		sender:  s,
		log:     log,
		backoff: cfg.backoff,
		wait:    cfg.wait,
		ch:      make(chan Message, cfg.size),
		ctx:     ctx,
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	var wg sync.WaitGroup
	for range cfg.workers {
		wg.Go(q.work)
	}
	go func() {
		wg.Wait()
		close(q.done)
	}()
	return q
}

// Enqueue hands m to the workers and returns at once. It never fails: when
// the queue is full or closed, m is logged (without its body) and dropped.
func (q *Queue) Enqueue(m Message) {
	q.mu.RLock()
	defer q.mu.RUnlock()
	if q.closed {
		q.log.Error("mail dropped: queue closed", "to", m.To, "subject", m.Subject)
		return
	}
	select {
	case q.ch <- m:
	default:
		q.log.Error("mail dropped: queue full", "to", m.To, "subject", m.Subject, "capacity", cap(q.ch))
	}
}

// Close stops accepting messages and waits until the queued ones have been
// sent (or given up on). If ctx ends first, Close abandons the rest: waits
// between retries end at once, remaining messages are logged and dropped,
// and Close returns ctx.Err() without waiting for sends in progress.
// Calling Close again waits the same way.
func (q *Queue) Close(ctx context.Context) error {
	q.mu.Lock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
	q.mu.Unlock()
	select {
	case <-q.done:
		return nil
	default:
	}
	select {
	case <-q.done:
		return nil
	case <-ctx.Done():
		q.cancel()
		return ctx.Err()
	}
}

func (q *Queue) work() {
	for m := range q.ch {
		q.deliver(m)
	}
}

// deliver tries m until it is sent, rejected for good, or out of attempts.
func (q *Queue) deliver(m Message) {
	attempts := len(q.backoff) + 1
	for attempt := 1; ; attempt++ {
		if q.ctx.Err() != nil {
			q.log.Error("mail dropped: shutting down", "to", m.To, "subject", m.Subject)
			return
		}
		err := q.sender.Send(q.ctx, m)
		if err == nil {
			if attempt > 1 {
				q.log.Info("mail sent after retry", "to", m.To, "subject", m.Subject, "attempt", attempt)
			}
			return
		}
		if errors.Is(err, ErrPermanent) || errors.Is(err, ErrInvalidMessage) {
			q.log.Error("mail not sent: rejected", "to", m.To, "subject", m.Subject, "attempt", attempt, "err", err)
			return
		}
		if attempt >= attempts {
			q.log.Error("mail not sent: giving up", "to", m.To, "subject", m.Subject, "attempts", attempt, "err", err)
			return
		}
		delay := q.backoff[attempt-1]
		q.log.Warn("mail not sent, will retry", "to", m.To, "subject", m.Subject, "attempt", attempt, "retry_in", delay, "err", err)
		if err := q.wait(q.ctx, delay); err != nil {
			q.log.Error("mail dropped: shutting down", "to", m.To, "subject", m.Subject, "attempt", attempt)
			return
		}
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

package mail

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// senderFunc adapts a function to Sender.
type senderFunc func(ctx context.Context, m Message) error

func (f senderFunc) Send(ctx context.Context, m Message) error { return f(ctx, m) }

// waits records the backoff the queue asks for and returns at once.
type waits struct {
	mu sync.Mutex
	d  []time.Duration
}

func (w *waits) wait(ctx context.Context, d time.Duration) error {
	w.mu.Lock()
	w.d = append(w.d, d)
	w.mu.Unlock()
	return ctx.Err()
}

func (w *waits) get() []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.d)
}

func closeQueue(t *testing.T, q *Queue) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if err := q.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func msgN(i int) Message {
	return Message{To: fmt.Sprintf("user%d@example.test", i), Subject: fmt.Sprintf("message %d", i), Text: "body"}
}

// The queue retries with the default exponential schedule until a real
// SMTP server that answers 451 twice accepts the message.
func TestQueueRetriesUntilServerAccepts(t *testing.T) {
	b := newBackend()
	b.failFirst = 2
	addr := startServer(t, b, serverMode{})
	s, err := NewSMTP("smtp://"+addr, testFrom, WithTimeout(patience))
	if err != nil {
		t.Fatal(err)
	}
	rec, log := newRecorder()
	var w waits
	q := NewQueue(s, log, WithWaitFunc(w.wait))

	m := testMessage()
	q.Enqueue(m)
	checkDelivered(t, b.next(t), m)
	rec.waitFor(t, "mail sent after retry")
	closeQueue(t, q)

	if got, want := w.get(), []time.Duration{time.Second, 2 * time.Second}; !slices.Equal(got, want) {
		t.Errorf("waited %v, want %v", got, want)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.dataCalls != 3 {
		t.Errorf("%d attempts, want 3", b.dataCalls)
	}
}

func TestQueueDefaultSchedule(t *testing.T) {
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second}
	if !slices.Equal(defaultBackoff, want) {
		t.Errorf("default backoff %v, want %v", defaultBackoff, want)
	}
}

func TestQueueGivesUp(t *testing.T) {
	rec, log := newRecorder()
	var w waits
	var mu sync.Mutex
	attempts := 0
	s := senderFunc(func(ctx context.Context, m Message) error {
		mu.Lock()
		attempts++
		mu.Unlock()
		return errors.New("connection refused")
	})
	q := NewQueue(s, log, WithBackoff(time.Minute, 2*time.Minute, 4*time.Minute), WithWaitFunc(w.wait))
	q.Enqueue(testMessage())
	r := rec.waitFor(t, "mail not sent: giving up")
	closeQueue(t, q)

	if got := attr(r, "attempts").Int64(); got != 4 {
		t.Errorf("logged %d attempts, want 4", got)
	}
	if got := attr(r, "to").String(); got != testMessage().To {
		t.Errorf("logged to = %q", got)
	}
	if v := attr(r, "text"); v.Any() != nil {
		t.Errorf("failure log contains the body: %v", v)
	}
	if got, want := w.get(), []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute}; !slices.Equal(got, want) {
		t.Errorf("waited %v, want %v", got, want)
	}
	mu.Lock()
	defer mu.Unlock()
	if attempts != 4 {
		t.Errorf("%d attempts, want 4", attempts)
	}
}

func TestQueueDoesNotRetryPermanentFailures(t *testing.T) {
	for name, sendErr := range map[string]error{
		"permanent": fmt.Errorf("%w: 550 no such user", ErrPermanent),
		"invalid":   fmt.Errorf("%w: bad address", ErrInvalidMessage),
	} {
		t.Run(name, func(t *testing.T) {
			rec, log := newRecorder()
			var w waits
			calls := make(chan Message, 10)
			s := senderFunc(func(ctx context.Context, m Message) error {
				calls <- m
				return sendErr
			})
			q := NewQueue(s, log, WithWaitFunc(w.wait))
			q.Enqueue(testMessage())
			rec.waitFor(t, "mail not sent: rejected")
			closeQueue(t, q)
			if len(calls) != 1 || len(w.get()) != 0 {
				t.Errorf("%d attempts, %d waits; want 1 attempt, no wait", len(calls), len(w.get()))
			}
		})
	}
}

// The queue against a real server that rejects the recipient with 550.
func TestQueuePermanentRejectionFromServer(t *testing.T) {
	b := newBackend()
	b.rejectTo = "ada@example.test"
	addr := startServer(t, b, serverMode{})
	s, err := NewSMTP("smtp://"+addr, testFrom, WithTimeout(patience))
	if err != nil {
		t.Fatal(err)
	}
	rec, log := newRecorder()
	var w waits
	q := NewQueue(s, log, WithWaitFunc(w.wait))
	q.Enqueue(testMessage())
	rec.waitFor(t, "mail not sent: rejected")
	closeQueue(t, q)
	if len(w.get()) != 0 {
		t.Errorf("retried a 550: waits %v", w.get())
	}
}

// gate is a Sender that blocks every send until released and reports
// what it was given.
type gate struct {
	started chan Message // a send began
	release chan struct{}
	mu      sync.Mutex
	sent    []Message
}

func newGate() *gate {
	return &gate{started: make(chan Message, 100), release: make(chan struct{})}
}

func (g *gate) Send(ctx context.Context, m Message) error {
	g.started <- m
	<-g.release
	g.mu.Lock()
	g.sent = append(g.sent, m)
	g.mu.Unlock()
	return nil
}

func (g *gate) waitStarted(t *testing.T) Message {
	t.Helper()
	select {
	case m := <-g.started:
		return m
	case <-time.After(patience):
		t.Fatal("no send started")
		return Message{}
	}
}

func (g *gate) subjects() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var s []string
	for _, m := range g.sent {
		s = append(s, m.Subject)
	}
	return s
}

func TestQueueDropsWhenFull(t *testing.T) {
	rec, log := newRecorder()
	g := newGate()
	q := NewQueue(g, log, WithWorkers(1), WithQueueSize(2))

	q.Enqueue(msgN(1))
	g.waitStarted(t) // the only worker is busy with message 1
	q.Enqueue(msgN(2))
	q.Enqueue(msgN(3)) // the queue holds 2 and 3
	q.Enqueue(msgN(4)) // full: dropped, without blocking
	r := rec.waitFor(t, "mail dropped: queue full")
	if got := attr(r, "subject").String(); got != "message 4" {
		t.Errorf("dropped %q, want message 4", got)
	}
	if got := attr(r, "capacity").Int64(); got != 2 {
		t.Errorf("logged capacity %d", got)
	}

	close(g.release)
	closeQueue(t, q)
	if got, want := g.subjects(), []string{"message 1", "message 2", "message 3"}; !slices.Equal(got, want) {
		t.Errorf("sent %q, want %q", got, want)
	}
}

func TestQueueCloseDrains(t *testing.T) {
	_, log := newRecorder()
	g := newGate()
	q := NewQueue(g, log, WithWorkers(2))
	for i := range 10 {
		q.Enqueue(msgN(i))
	}
	g.waitStarted(t)

	closed := make(chan error, 1)
	go func() { closed <- q.Close(context.Background()) }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) with messages still queued", err)
	default:
	}
	close(g.release)
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(patience):
		t.Fatal("Close did not return")
	}
	if got := g.subjects(); len(got) != 10 {
		t.Errorf("sent %d messages, want all 10: %q", len(got), got)
	}
}

func TestQueueCloseDeadline(t *testing.T) {
	rec, log := newRecorder()
	g := newGate()
	q := NewQueue(g, log, WithWorkers(1))
	q.Enqueue(msgN(1))
	q.Enqueue(msgN(2))
	q.Enqueue(msgN(3))
	g.waitStarted(t) // stuck in a send that ignores its context

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close = %v, want context.Canceled", err)
	}
	close(g.release)
	for range 2 {
		rec.waitFor(t, "mail dropped: shutting down")
	}
	// A second Close waits for the workers, which are done now.
	closeQueue(t, q)
	if got := g.subjects(); !slices.Equal(got, []string{"message 1"}) {
		t.Errorf("sent %q, want only message 1", got)
	}
}

// Close's deadline also ends a wait between retries (with the real timer).
func TestQueueCloseInterruptsBackoff(t *testing.T) {
	rec, log := newRecorder()
	s := senderFunc(func(ctx context.Context, m Message) error { return errors.New("try later") })
	q := NewQueue(s, log, WithBackoff(time.Hour))
	q.Enqueue(testMessage())
	rec.waitFor(t, "mail not sent, will retry")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := q.Close(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("Close = %v, want context.Canceled", err)
	}
	rec.waitFor(t, "mail dropped: shutting down")
	closeQueue(t, q)
}

func TestQueueEnqueueAfterClose(t *testing.T) {
	rec, log := newRecorder()
	q := NewQueue(NewLog(log), log)
	closeQueue(t, q)
	q.Enqueue(testMessage()) // must not panic
	rec.waitFor(t, "mail dropped: queue closed")
	closeQueue(t, q) // Close is idempotent
}

func TestQueueConcurrent(t *testing.T) {
	_, log := newRecorder()
	var mu sync.Mutex
	got := map[string]int{}
	s := senderFunc(func(ctx context.Context, m Message) error {
		mu.Lock()
		got[m.Subject]++
		mu.Unlock()
		return nil
	})
	q := NewQueue(s, log, WithWorkers(8))
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				q.Enqueue(msgN(g*50 + i))
			}
		})
	}
	wg.Wait()
	closeQueue(t, q)
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 400 {
		t.Fatalf("sent %d distinct messages, want 400", len(got))
	}
	for subj, n := range got {
		if n != 1 {
			t.Errorf("%s sent %d times", subj, n)
		}
	}
}

// Enqueue racing with Close neither panics nor loses track of messages:
// each is either sent or logged as dropped.
func TestQueueEnqueueRacesClose(t *testing.T) {
	rec, log := newRecorder()
	var mu sync.Mutex
	sent := 0
	s := senderFunc(func(ctx context.Context, m Message) error {
		mu.Lock()
		sent++
		mu.Unlock()
		return nil
	})
	q := NewQueue(s, log)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for i := range 25 {
				q.Enqueue(msgN(i))
			}
		})
	}
	closeQueue(t, q)
	wg.Wait()
	mu.Lock()
	n := sent
	mu.Unlock()
	for range 100 - n {
		rec.waitFor(t, "mail dropped: queue closed")
	}
}

func TestSleepHonoursContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleep(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleep = %v", err)
	}
	if err := sleep(context.Background(), time.Nanosecond); err != nil {
		t.Errorf("sleep = %v", err)
	}
}

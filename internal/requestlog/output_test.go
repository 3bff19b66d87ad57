package requestlog_test

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"fleetgate/internal/requestlog"
)

// writes records what reaches the output, one entry per write.
type writes struct {
	mu   sync.Mutex
	got  []string
	some chan struct{} // one value per write
}

func newWrites() *writes { return &writes{some: make(chan struct{}, 100)} }

func (w *writes) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.got = append(w.got, string(p))
	w.mu.Unlock()
	w.some <- struct{}{}
	return len(p), nil
}

func (w *writes) all() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.got...)
}

// TestOutputBatches: INFO lines wait and are written together, in order,
// at Flush (or when the interval has passed: TestOutputWritesInTime); a
// WARN line is written at once with those before it; a full buffer is
// written without waiting; after Close every line is written at once.
func TestOutputBatches(t *testing.T) {
	w := newWrites()
	out := requestlog.NewOutput(w, time.Hour)
	log := slog.New(out.Urgent(slog.NewTextHandler(out, nil)))
	log.Info("one")
	log.Info("two")
	if got := w.all(); len(got) != 0 {
		t.Fatalf("written at once: %q", got)
	}
	log.Warn("three")
	got := w.all()
	if len(got) != 1 || strings.Count(got[0], "\n") != 3 || !(strings.Index(got[0], "one") < strings.Index(got[0], "two") && strings.Index(got[0], "two") < strings.Index(got[0], "three")) {
		t.Fatalf("a warning wrote %q, want the three lines in one write, in order", got)
	}

	log.With("k", "v").Error("four") // Urgent survives With
	if got := w.all(); len(got) != 2 || !strings.Contains(got[1], "four") {
		t.Fatalf("an error with attributes wrote %q", got)
	}

	big := strings.Repeat("x", 70<<10)
	out.Write([]byte(big + "\n"))
	if got := w.all(); len(got) != 3 || len(got[2]) != len(big)+1 {
		t.Fatalf("a full buffer waited: %d writes", len(got))
	}

	log.Info("five")
	out.Flush()
	out.Flush() // nothing waits: nothing written
	if got := w.all(); len(got) != 4 || !strings.Contains(got[3], "five") {
		t.Fatalf("Flush wrote %q", got)
	}

	log.Info("six")
	out.Close()
	log.Info("seven")
	if got := w.all(); len(got) != 6 || !strings.Contains(got[4], "six") || !strings.Contains(got[5], "seven") {
		t.Fatalf("around Close: %q", got)
	}
}

// TestOutputWritesInTime: a line that waits is written once the interval
// has passed, without a Flush.
func TestOutputWritesInTime(t *testing.T) {
	w := newWrites()
	out := requestlog.NewOutput(w, time.Millisecond)
	slog.New(slog.NewTextHandler(out, nil)).Info("waits")
	select {
	case <-w.some:
	case <-time.After(10 * time.Second):
		t.Fatal("a waiting line was not written")
	}
	if got := w.all(); len(got) != 1 || !strings.Contains(got[0], "waits") {
		t.Fatalf("wrote %q", got)
	}
}

// TestOutputConcurrentLines: lines logged at once from many goroutines all
// arrive whole.
func TestOutputConcurrentLines(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	out := requestlog.NewOutput(writerFunc(func(p []byte) (int, error) {
		mu.Lock()
		defer mu.Unlock()
		return buf.Write(p)
	}), requestlog.FlushInterval)
	log := slog.New(slog.NewTextHandler(out, nil))
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				log.Info("line", "from", i)
			}
		})
	}
	wg.Wait()
	out.Flush()
	mu.Lock()
	defer mu.Unlock()
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 800 {
		t.Fatalf("%d lines, want 800", len(lines))
	}
	for _, l := range lines {
		if !strings.Contains(l, "msg=line from=") {
			t.Fatalf("a torn line: %q", l)
		}
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

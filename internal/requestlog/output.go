package requestlog

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"time"
)

const (
	// FlushInterval is the longest a log line waits before it is written.
	FlushInterval = 100 * time.Millisecond
	// outputBuffer is how much may wait: past it, the lines are written.
	outputBuffer = 64 << 10
)

// Output batches log lines on their way to w (README "Logs"): a line waits
// at most FlushInterval, or until outputBuffer bytes wait, and one write
// takes them all. A write per line was a tenth of a `me` request's cost.
// Records at WARN and above are written at once with all before them
// (Urgent), and so is everything at Flush and Close; a process that ends
// without running its defers (SIGKILL, a crash) loses at most the last
// FlushInterval of lines.
type Output struct {
	mu       sync.Mutex
	w        io.Writer
	interval time.Duration
	buf      []byte
	timer    *time.Timer // the pending write of buf, while buf holds lines
	closed   bool        // Close was called: every line is written at once
}

// NewOutput is an Output writing to w, lines waiting at most interval
// (FlushInterval but in tests).
func NewOutput(w io.Writer, interval time.Duration) *Output {
	return &Output{w: w, interval: interval}
}

// Write takes p, one or more whole log lines (slog's handlers write a
// record at a time); it never fails: the writes that follow report nothing
// a log line could be told.
func (o *Output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.buf = append(o.buf, p...)
	switch {
	case o.closed || len(o.buf) >= outputBuffer:
		o.flushLocked()
	case o.timer == nil:
		o.timer = time.AfterFunc(o.interval, o.Flush)
	}
	return len(p), nil
}

// Close writes every line waiting, and every later line at once: what is
// logged after a server's last flush (a shutdown that timed out, a sweep
// still ending) is not left behind.
func (o *Output) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	o.flushLocked()
}

// Flush writes every line waiting.
func (o *Output) Flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.flushLocked()
}

func (o *Output) flushLocked() {
	if o.timer != nil {
		o.timer.Stop()
		o.timer = nil
	}
	if len(o.buf) > 0 {
		o.w.Write(o.buf)
		o.buf = o.buf[:0]
	}
}

// Urgent wraps h, a handler writing to o, so that a record at WARN or
// above is written at once, with every line before it.
func (o *Output) Urgent(h slog.Handler) slog.Handler { return urgent{h, o} }

type urgent struct {
	slog.Handler
	o *Output
}

func (u urgent) Handle(ctx context.Context, r slog.Record) error {
	err := u.Handler.Handle(ctx, r)
	if r.Level >= slog.LevelWarn {
		u.o.Flush()
	}
	return err
}

func (u urgent) WithAttrs(attrs []slog.Attr) slog.Handler {
	return urgent{u.Handler.WithAttrs(attrs), u.o}
}

func (u urgent) WithGroup(name string) slog.Handler { return urgent{u.Handler.WithGroup(name), u.o} }

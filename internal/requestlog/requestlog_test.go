package requestlog_test

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"fleetgate/internal/requestlog"
)

// TestHandler: a record logged with a request's context carries its id,
// also through loggers derived with With and WithGroup; one logged without
// carries none.
func TestHandler(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(requestlog.NewHandler(slog.NewTextHandler(&out, nil)))
	ctx := requestlog.NewContext(context.Background(), &requestlog.Entry{ID: "req-1"})

	log.InfoContext(ctx, "plain")
	log.With("component", "mail").WarnContext(ctx, "derived")
	log.WithGroup("g").ErrorContext(ctx, "grouped")
	log.Info("outside")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 4 {
		t.Fatalf("lines: %q", lines)
	}
	for _, l := range lines[:2] {
		if !strings.Contains(l, " request_id=req-1") {
			t.Errorf("no request id: %s", l)
		}
	}
	if !strings.Contains(lines[2], "g.request_id=req-1") {
		t.Errorf("grouped: %s", lines[2])
	}
	if strings.Contains(lines[3], "request_id") {
		t.Errorf("a line outside a request names one: %s", lines[3])
	}
}

// TestNilEntry: code outside a request may record on the nil Entry.
func TestNilEntry(t *testing.T) {
	e := requestlog.FromContext(context.Background())
	e.SetOperation("Me", "query")
	e.SetViewer(1, "session")
	e.AddErrorCode("INTERNAL")
}

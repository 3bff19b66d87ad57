package mail

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// syncBuffer is a bytes.Buffer safe for the queue's workers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestLogSender(t *testing.T) {
	var buf syncBuffer
	l := NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	m := testMessage()
	if err := l.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count(out, "\n"); n != 1 {
		t.Fatalf("%d lines, want 1:\n%s", n, out)
	}
	var line map[string]any
	if err := json.Unmarshal([]byte(out), &line); err != nil {
		t.Fatal(err)
	}
	for k, want := range map[string]string{
		"level": "INFO", "msg": "mail not sent, logged",
		"to": m.To, "subject": m.Subject, "text": m.Text,
	} {
		if line[k] != want {
			t.Errorf("%s = %v, want %q", k, line[k], want)
		}
	}
	if _, ok := line["html"]; ok {
		t.Error("html attribute without an HTML body")
	}
}

func TestLogSenderTextHandlerOneLine(t *testing.T) {
	var buf syncBuffer
	l := NewLog(slog.New(slog.NewTextHandler(&buf, nil)))
	m := testMessage()
	m.HTML = "<p>hi</p>\n<p>there</p>"
	if err := l.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Count(out, "\n") != 1 || !strings.Contains(out, "password-reset?token=") || !strings.Contains(out, "html=") {
		t.Errorf("unexpected log output:\n%s", out)
	}
}

func TestLogSenderRefusesInvalid(t *testing.T) {
	var buf syncBuffer
	l := NewLog(slog.New(slog.NewJSONHandler(&buf, nil)))
	err := l.Send(context.Background(), Message{To: "nobody", Subject: "x", Text: "y"})
	if !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("err = %v, want ErrInvalidMessage", err)
	}
	if buf.String() != "" {
		t.Errorf("logged an invalid message: %s", buf.String())
	}
}

func TestNewLogNil(t *testing.T) {
	if NewLog(nil).log == nil {
		t.Error("NewLog(nil) has no logger")
	}
}

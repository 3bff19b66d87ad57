package apitest

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"fleetgate/internal/mail"
)

// patience bounds a wait for mail: a guard against a hanging test, never a
// way to let time pass.
const patience = 10 * time.Second

// Mail is a message as the mailbox received it, decoded.
type Mail struct {
	From, To, Subject, Text string
}

// Mailbox is a real SMTP server on loopback that receives what fleetgate
// sends, through its real outbox and SMTP client.
type Mailbox struct {
	// Addr is the server's host:port.
	Addr string
	got  chan Mail
	t    testing.TB
}

// NewMailbox starts a Mailbox, stopped when the test ends.
func NewMailbox(t testing.TB) *Mailbox {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box := &Mailbox{Addr: ln.Addr().String(), got: make(chan Mail, 100), t: t}
	srv := smtp.NewServer(box)
	srv.Domain = "localhost"
	go srv.Serve(ln)
	// Close the listener too: Server.Close misses a Serve that has not
	// registered it yet.
	t.Cleanup(func() { srv.Close(); ln.Close() })
	return box
}

// Sender is an SMTP sender to the mailbox.
func (b *Mailbox) Sender() mail.Sender {
	b.t.Helper()
	sender, err := mail.NewSMTP("smtp://"+b.Addr, "fleetgate@example.test")
	if err != nil {
		b.t.Fatal(err)
	}
	return sender
}

// WithMailbox restarts s's API on the same database with mail sent by
// SMTP to a new Mailbox, by an outbox worker running until the test ends.
func (s *Server) WithMailbox(t testing.TB) (*Server, *Mailbox) {
	t.Helper()
	box := NewMailbox(t)
	outbox := mail.NewOutbox(s.DB, box.Sender(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); outbox.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	deps := s.Deps
	deps.Mail = outbox
	return ServeDeps(t, deps), box
}

// Next waits for the next message.
func (b *Mailbox) Next() Mail {
	b.t.Helper()
	select {
	case m := <-b.got:
		return m
	case <-time.After(patience):
		b.t.Fatal("no mail arrived")
		return Mail{}
	}
}

// Empty fails the test if a message is waiting.
func (b *Mailbox) Empty() {
	b.t.Helper()
	select {
	case m := <-b.got:
		b.t.Fatalf("unexpected mail: %+v", m)
	default:
	}
}

// NewSession is go-smtp's backend interface.
func (b *Mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: b}, nil }

type mailSession struct {
	box      *Mailbox
	from, to string
}

func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error { s.from = from; return nil }
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error   { s.to = to; return nil }
func (s *mailSession) Reset()                                      {}
func (s *mailSession) Logout() error                               { return nil }

func (s *mailSession) Data(r io.Reader) error {
	msg, err := netmail.ReadMessage(r)
	if err != nil {
		return err
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	text, err := plainText(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
	if err != nil {
		return err
	}
	s.box.got <- Mail{From: s.from, To: s.to, Subject: subject, Text: text}
	return nil
}

// plainText decodes a body, or the text/plain part of a multipart one.
func plainText(contentType, encoding string, body io.Reader) (string, error) {
	mediaType, params, _ := mime.ParseMediaType(contentType)
	if strings.HasPrefix(mediaType, "multipart/") {
		parts := multipart.NewReader(body, params["boundary"])
		for {
			p, err := parts.NextRawPart()
			if err != nil {
				return "", err
			}
			if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
				return plainText(p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p)
			}
		}
	}
	switch strings.ToLower(encoding) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	var out bytes.Buffer
	_, err := io.Copy(&out, body)
	return strings.ReplaceAll(out.String(), "\r\n", "\n"), err
}

// LinkToken is the token of the link under s's PUBLIC_URL+path (such as
// "/password-reset") that m carries; the test fails without one.
func (s *Server) LinkToken(t testing.TB, m Mail, path string) string {
	t.Helper()
	prefix := s.Deps.PublicURL + path + "?token="
	i := strings.Index(m.Text, prefix)
	if i < 0 {
		t.Fatalf("no link %s… in %q", prefix, m.Text)
	}
	link, _, _ := strings.Cut(m.Text[i:], "\n")
	u, err := url.Parse(strings.TrimSpace(link))
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("bad link %q: %v", link, err)
	}
	return u.Query().Get("token")
}

// SignUpVerified signs up username as SignUp does and follows the
// verification link that box (of s, from WithMailbox) receives for it.
func (s *Server) SignUpVerified(t testing.TB, box *Mailbox, username string) Account {
	t.Helper()
	a := s.SignUp(t, username)
	m := box.Next()
	if m.To != a.Email {
		t.Fatalf("expected the verification mail to %s, got %+v", a.Email, m)
	}
	if _, err := VerifyEmail(context.Background(), s.Client(""), s.LinkToken(t, m, "/verify-email")); err != nil {
		t.Fatalf("verify %s: %v", a.Email, err)
	}
	return a
}

package mail

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	gomail "github.com/wneessen/go-mail"
)

const (
	testFrom = "Fleetgate <no-reply@fleetgate.test>"
	// A reset link longer than a quoted-printable line (76 characters):
	// it must arrive intact.
	testLink = "https://fleetgate.test/password-reset?token=Zm9vYmFyYmF6cXV4MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6"
)

func testMessage() Message {
	return Message{
		To:      "Ada Lovelace <ada@example.test>",
		Subject: "Réinitialisez votre mot de passe", // non-ASCII: encoded word
		Text:    "Hello Ada,\n\nreset your password here:\n" + testLink + "\n\nThe link expires in 1 hour.\n",
	}
}

// send builds a sender for rawURL and sends m through it.
func send(t *testing.T, rawURL string, m Message, opts ...SMTPOption) error {
	t.Helper()
	s, err := NewSMTP(rawURL, testFrom, append([]SMTPOption{WithTimeout(patience)}, opts...)...)
	if err != nil {
		t.Fatalf("NewSMTP: %v", err)
	}
	return s.Send(context.Background(), m)
}

func checkDelivered(t *testing.T, r received, m Message) parsedMail {
	t.Helper()
	if r.From != "no-reply@fleetgate.test" {
		t.Errorf("envelope from = %q", r.From)
	}
	if len(r.To) != 1 || r.To[0] != "ada@example.test" {
		t.Errorf("envelope to = %q", r.To)
	}
	p := parseMail(t, r.Data)
	if p.From.Address != "no-reply@fleetgate.test" || p.From.Name != "Fleetgate" {
		t.Errorf("From = %v", p.From)
	}
	if p.To.Address != "ada@example.test" || p.To.Name != "Ada Lovelace" {
		t.Errorf("To = %v", p.To)
	}
	if p.Subj != m.Subject {
		t.Errorf("Subject = %q, want %q", p.Subj, m.Subject)
	}
	if p.Text != m.Text {
		t.Errorf("text body = %q, want %q", p.Text, m.Text)
	}
	if p.HTML != m.HTML {
		t.Errorf("html body = %q, want %q", p.HTML, m.HTML)
	}
	if got := p.Header.Get("Message-Id"); !strings.HasSuffix(got, "@fleetgate.test>") {
		t.Errorf("Message-ID = %q, want the From domain", got)
	}
	if p.Header.Get("Date") == "" {
		t.Error("no Date header")
	}
	if got := p.Header.Get("Auto-Submitted"); got != "auto-generated" {
		t.Errorf("Auto-Submitted = %q", got)
	}
	if ua := p.Header.Get("User-Agent") + p.Header.Get("X-Mailer"); ua != "" {
		t.Errorf("mailer advertised: %q", ua)
	}
	return p
}

func TestSMTPPlainWithoutAuth(t *testing.T) {
	b := newBackend()
	addr := startServer(t, b, serverMode{})
	m := testMessage()
	if err := send(t, "smtp://"+addr, m); err != nil {
		t.Fatal(err)
	}
	r := b.next(t)
	checkDelivered(t, r, m)
	if r.TLS || r.User != "" {
		t.Errorf("TLS=%v user=%q, want a plain unauthenticated session", r.TLS, r.User)
	}
}

func TestSMTPStartTLSWithAuthPlain(t *testing.T) {
	cert := newTestCert(t)
	b := newBackend()
	b.user, b.pass = "mailer@fleetgate.test", "p@ss/w:rd %"
	addr := startServer(t, b, serverMode{startTLS: cert.server})

	m := testMessage()
	m.HTML = `<p>Hello Ada, <a href="` + testLink + `">reset your password</a>.</p>`
	rawURL := "smtp://mailer%40fleetgate.test:p%40ss%2Fw%3Ard%20%25@" + addr
	if err := send(t, rawURL, m, WithTLSConfig(cert.client)); err != nil {
		t.Fatal(err)
	}
	r := b.next(t)
	p := checkDelivered(t, r, m)
	if !r.TLS || r.User != b.user {
		t.Errorf("TLS=%v user=%q, want STARTTLS and AUTH as %q", r.TLS, r.User, b.user)
	}
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "multipart/alternative") {
		t.Errorf("Content-Type = %q, want multipart/alternative", ct)
	}
}

func TestSMTPSImplicitTLS(t *testing.T) {
	cert := newTestCert(t)
	b := newBackend()
	b.user, b.pass = "mailer", "secret"
	addr := startServer(t, b, serverMode{implicitTLS: cert.server})

	m := testMessage()
	if err := send(t, "smtps://mailer:secret@"+addr, m, WithTLSConfig(cert.client)); err != nil {
		t.Fatal(err)
	}
	r := b.next(t)
	checkDelivered(t, r, m)
	if !r.TLS || r.User != "mailer" {
		t.Errorf("TLS=%v user=%q, want implicit TLS and AUTH", r.TLS, r.User)
	}
}

func TestSMTPWrongPassword(t *testing.T) {
	cert := newTestCert(t)
	b := newBackend()
	b.user, b.pass = "mailer", "secret"
	addr := startServer(t, b, serverMode{startTLS: cert.server})

	err := send(t, "smtp://mailer:wrong-secret@"+addr, testMessage(), WithTLSConfig(cert.client))
	if err == nil {
		t.Fatal("sent with a wrong password")
	}
	if strings.Contains(err.Error(), "wrong-secret") {
		t.Errorf("error leaks the password: %v", err)
	}
	if b.authCalls.Load() == 0 {
		t.Errorf("AUTH never attempted: %v", err)
	}
	b.none(t)
}

// Credentials must never go over a plain connection, even to a server that
// offers AUTH PLAIN there.
func TestSMTPCredentialsNeverInClear(t *testing.T) {
	b := newBackend()
	b.user, b.pass = "mailer", "secret"
	addr := startServer(t, b, serverMode{insecureAuth: true})

	for _, q := range []string{"", "?starttls=required", "?starttls=opportunistic"} {
		t.Run(q, func(t *testing.T) {
			err := send(t, "smtp://mailer:secret@"+addr+q, testMessage())
			if err == nil {
				t.Fatal("sent over a plain connection with credentials")
			}
			t.Log(err)
		})
	}
	if n := b.authCalls.Load(); n != 0 {
		t.Errorf("AUTH attempted %d times on a plain connection", n)
	}
	b.none(t)
}

func TestSMTPStartTLSRequiredButNotOffered(t *testing.T) {
	b := newBackend()
	addr := startServer(t, b, serverMode{})
	if err := send(t, "smtp://"+addr+"?starttls=required", testMessage()); err == nil {
		t.Fatal("sent without STARTTLS although required")
	}
	b.none(t)
}

func TestSMTPStartTLSNone(t *testing.T) {
	cert := newTestCert(t)
	b := newBackend()
	addr := startServer(t, b, serverMode{startTLS: cert.server})
	// The certificate is not trusted: only a connection that skips STARTTLS
	// can succeed.
	if err := send(t, "smtp://"+addr+"?starttls=none", testMessage()); err != nil {
		t.Fatal(err)
	}
	if r := b.next(t); r.TLS {
		t.Error("STARTTLS used although starttls=none")
	}
}

func TestSMTPUntrustedCertificate(t *testing.T) {
	cert := newTestCert(t)
	for name, mode := range map[string]serverMode{
		"starttls": {startTLS: cert.server},
		"smtps":    {implicitTLS: cert.server},
	} {
		t.Run(name, func(t *testing.T) {
			b := newBackend()
			addr := startServer(t, b, mode)
			scheme := "smtp"
			if mode.implicitTLS != nil {
				scheme = "smtps"
			}
			err := send(t, scheme+"://"+addr, testMessage())
			if err == nil {
				t.Fatal("sent to a server with an untrusted certificate")
			}
			t.Log(err)
			b.none(t)
		})
	}
}

func TestSMTPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()

	err = send(t, "smtp://"+addr, testMessage())
	if err == nil {
		t.Fatal("sent to a closed port")
	}
	if errors.Is(err, ErrPermanent) || errors.Is(err, ErrInvalidMessage) {
		t.Errorf("connection failure classified as permanent: %v", err)
	}
}

func TestSMTPCancelledContext(t *testing.T) {
	b := newBackend()
	addr := startServer(t, b, serverMode{})
	s, err := NewSMTP("smtp://"+addr, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := s.Send(ctx, testMessage()); err == nil {
		t.Fatal("sent with a cancelled context")
	}
}

func TestSMTPPermanentRejection(t *testing.T) {
	b := newBackend()
	b.rejectTo = "ada@example.test"
	addr := startServer(t, b, serverMode{})
	err := send(t, "smtp://"+addr, testMessage())
	if !errors.Is(err, ErrPermanent) {
		t.Fatalf("err = %v, want ErrPermanent", err)
	}

	b = newBackend()
	b.failFirst, b.failWith = 1, &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}
	addr = startServer(t, b, serverMode{})
	if err := send(t, "smtp://"+addr, testMessage()); !errors.Is(err, ErrPermanent) {
		t.Fatalf("554 after DATA: err = %v, want ErrPermanent", err)
	}

	b = newBackend()
	b.failFirst = 1
	addr = startServer(t, b, serverMode{})
	err = send(t, "smtp://"+addr, testMessage())
	if err == nil || errors.Is(err, ErrPermanent) {
		t.Fatalf("451 reply: err = %v, want a temporary error", err)
	}
}

func TestSMTPInvalidMessage(t *testing.T) {
	// Nothing listens here: an invalid message must fail before dialling.
	s, err := NewSMTP("smtp://127.0.0.1:9", testFrom)
	if err != nil {
		t.Fatal(err)
	}
	ok := testMessage()
	for name, m := range map[string]Message{
		"no recipient":   {Subject: ok.Subject, Text: ok.Text},
		"bad recipient":  {To: "not an address", Subject: ok.Subject, Text: ok.Text},
		"two recipients": {To: "a@example.test, b@example.test", Subject: ok.Subject, Text: ok.Text},
		"header inject":  {To: ok.To, Subject: "hi\r\nBcc: eve@example.test", Text: ok.Text},
		"empty body":     {To: ok.To, Subject: ok.Subject},
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Send(context.Background(), m); !errors.Is(err, ErrInvalidMessage) {
				t.Errorf("err = %v, want ErrInvalidMessage", err)
			}
		})
	}
}

func TestSMTPIPv6(t *testing.T) {
	if ln, err := net.Listen("tcp6", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	} else {
		ln.Close()
	}
	cert := newTestCert(t)
	b := newBackend()
	addr := startServer(t, b, serverMode{network: "tcp6", addr: "[::1]:0", startTLS: cert.server})
	if err := send(t, "smtp://"+addr+"?starttls=required", testMessage(), WithTLSConfig(cert.client)); err != nil {
		t.Fatal(err)
	}
	if r := b.next(t); !r.TLS {
		t.Error("no STARTTLS")
	}
}

func TestParseSMTPURL(t *testing.T) {
	type want struct {
		host        string
		port        int
		implicitTLS bool
		policy      gomail.TLSPolicy
		user, pass  string
	}
	tests := []struct {
		raw     string
		want    want
		wantErr string // substring; "" means success
	}{
		{raw: "smtp://mail.example.com", want: want{host: "mail.example.com", port: 587, policy: gomail.TLSOpportunistic}},
		{raw: "smtp://mail.example.com/", want: want{host: "mail.example.com", port: 587, policy: gomail.TLSOpportunistic}},
		{raw: "SMTP://Mail.Example.com:25", want: want{host: "Mail.Example.com", port: 25, policy: gomail.TLSOpportunistic}},
		{raw: "smtp://mail.example.com:2525?starttls=none", want: want{host: "mail.example.com", port: 2525, policy: gomail.NoTLS}},
		{raw: "smtp://mail.example.com?starttls=required", want: want{host: "mail.example.com", port: 587, policy: gomail.TLSMandatory}},
		{raw: "smtp://u:p@mail.example.com", want: want{host: "mail.example.com", port: 587, policy: gomail.TLSMandatory, user: "u", pass: "p"}},
		{raw: "smtp://u:p@mail.example.com?starttls=opportunistic", want: want{host: "mail.example.com", port: 587, policy: gomail.TLSOpportunistic, user: "u", pass: "p"}},
		{raw: "smtps://mail.example.com", want: want{host: "mail.example.com", port: 465, implicitTLS: true, policy: gomail.TLSOpportunistic}},
		{raw: "smtps://u:p@mail.example.com:2465", want: want{host: "mail.example.com", port: 2465, implicitTLS: true, policy: gomail.TLSMandatory, user: "u", pass: "p"}},
		{raw: "smtp://apikey:SG.a%2Fb%3Ac%40d%23e%3Ff%25@smtp.example.com:587", want: want{host: "smtp.example.com", port: 587, policy: gomail.TLSMandatory, user: "apikey", pass: "SG.a/b:c@d#e?f%"}},
		{raw: "smtp://me%40example.com:pw@smtp.example.com", want: want{host: "smtp.example.com", port: 587, policy: gomail.TLSMandatory, user: "me@example.com", pass: "pw"}},
		{raw: "smtp://[::1]:2525", want: want{host: "::1", port: 2525, policy: gomail.TLSOpportunistic}},
		{raw: "smtp://192.0.2.1", want: want{host: "192.0.2.1", port: 587, policy: gomail.TLSOpportunistic}},

		{raw: "", wantErr: "empty"},
		{raw: "   ", wantErr: "empty"},
		{raw: "mail.example.com:587", wantErr: "scheme"},
		{raw: "mail.example.com", wantErr: "scheme"},
		{raw: "http://mail.example.com", wantErr: `unsupported scheme "http"`},
		{raw: "smtp+tls://mail.example.com", wantErr: "unsupported scheme"},
		{raw: "smtp:mail.example.com", wantErr: "missing host"},
		{raw: "smtp://", wantErr: "missing host"},
		{raw: "smtp://:587", wantErr: "missing host"},
		{raw: "smtp://u:p@", wantErr: "missing host"},
		{raw: "smtp://mail.example.com:0", wantErr: "invalid port"},
		{raw: "smtp://mail.example.com:65536", wantErr: "invalid port"},
		{raw: "smtp://mail.example.com:abc", wantErr: "not a valid URL"},
		{raw: "smtp://mail.example.com/inbox", wantErr: "unexpected path"},
		{raw: "smtp://mail.example.com#x", wantErr: "fragment"},
		{raw: "smtp://u:s3cr%zzet@mail.example.com", wantErr: "not a valid URL"},
		{raw: "smtp://u:s3cr#et@mail.example.com", wantErr: "not a valid URL"},
		{raw: "smtp://u@mail.example.com", wantErr: "without password"},
		{raw: "smtp://u:@mail.example.com", wantErr: "without password"},
		{raw: "smtp://:p@mail.example.com", wantErr: "password without user"},
		{raw: "smtp://mail.example.com?starttls=maybe", wantErr: "starttls"},
		{raw: "smtp://mail.example.com?starttls=none&starttls=required", wantErr: "more than once"},
		{raw: "smtp://mail.example.com?tls=1", wantErr: "unknown parameter"},
		{raw: "smtps://mail.example.com?starttls=required", wantErr: "does not apply"},
		{raw: "smtp://u:p@mail.example.com?starttls=none", wantErr: "unencrypted"},
		{raw: "smtp://mail.example.com?a=%zz", wantErr: "invalid query"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			cfg, err := parseSMTPURL(tt.raw)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "s3cr") {
					t.Errorf("error %q quotes the password", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := want{cfg.host, cfg.port, cfg.implicitTLS, cfg.policy, cfg.user, cfg.pass}
			if tt.want.implicitTLS {
				got.policy = tt.want.policy // policy does not apply to smtps
			}
			if got != tt.want {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestNewSMTPFrom(t *testing.T) {
	for _, from := range []string{"no-reply@fleetgate.test", "Fleetgate <no-reply@fleetgate.test>", `"Fleet, Gate" <x@y.test>`} {
		if _, err := NewSMTP("smtp://localhost", from); err != nil {
			t.Errorf("from %q: %v", from, err)
		}
	}
	for _, from := range []string{"", " ", "fleetgate", "no-reply@", "@fleetgate.test", "a@b.test, c@d.test", "x@y.test\r\nBcc: eve@z.test"} {
		if _, err := NewSMTP("smtp://localhost", from); err == nil || !strings.Contains(err.Error(), "MAIL_FROM") {
			t.Errorf("from %q: err = %v, want a MAIL_FROM error", from, err)
		}
	}
}

func TestSMTPString(t *testing.T) {
	for raw, want := range map[string]string{
		"smtp://u%40x:s3cret@mail.example.com":       "smtp://u%40x@mail.example.com:587?starttls=required",
		"smtps://u:s3cret@mail.example.com":          "smtps://u@mail.example.com:465",
		"smtp://[::1]:25?starttls=none":              "smtp://[::1]:25?starttls=none",
		"smtp://mail.example.com?starttls=mandatory": "smtp://mail.example.com:587?starttls=required",
	} {
		s, err := NewSMTP(raw, testFrom)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.String(); got != want {
			t.Errorf("%s: String() = %q, want %q", raw, got, want)
		}
		if strings.Contains(fmt.Sprint(s), "s3cret") {
			t.Errorf("String() leaks the password")
		}
	}
}

func TestNew(t *testing.T) {
	s, err := New("", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*Log); !ok {
		t.Errorf("New without SMTP_URL = %T, want *Log", s)
	}
	s, err = New("smtps://u:p@mail.example.com", testFrom, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*SMTP); !ok {
		t.Errorf("New with SMTP_URL = %T, want *SMTP", s)
	}
	if _, err := New("smtp://mail.example.com", "", nil); err == nil {
		t.Error("SMTP_URL without MAIL_FROM accepted")
	}
}

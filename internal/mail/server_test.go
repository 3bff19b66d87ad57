package mail

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"log"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// patience bounds every wait for something asynchronous; it is a guard
// against hanging tests, never a way to let time pass.
const patience = 10 * time.Second

// received is one message accepted by the test server.
type received struct {
	From string   // envelope sender
	To   []string // envelope recipients
	Data []byte
	User string // authenticated user, "" without AUTH
	TLS  bool   // connection was encrypted when DATA arrived
}

// backend is a go-smtp backend that records what it accepts.
type backend struct {
	user, pass string // when set, AUTH PLAIN is offered and required

	failFirst int             // fail this many DATA commands ...
	failWith  *smtp.SMTPError // ... with this reply (default 451)
	rejectTo  string          // RCPT TO this address gets 550

	mu        sync.Mutex
	dataCalls int

	authCalls atomic.Int32
	got       chan received
}

func newBackend() *backend { return &backend{got: make(chan received, 100)} }

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{b: b, conn: c}, nil
}

// next waits for the next accepted message.
func (b *backend) next(t *testing.T) received {
	t.Helper()
	select {
	case r := <-b.got:
		return r
	case <-time.After(patience):
		t.Fatal("no message arrived at the test server")
		return received{}
	}
}

// none asserts that nothing has been accepted.
func (b *backend) none(t *testing.T) {
	t.Helper()
	select {
	case r := <-b.got:
		t.Fatalf("unexpected message accepted: %+v", r)
	default:
	}
}

type session struct {
	b    *backend
	conn *smtp.Conn
	user string
	cur  received
}

func (s *session) AuthMechanisms() []string {
	if s.b.user == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	s.b.authCalls.Add(1)
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.b.user || password != s.b.pass {
			return smtp.ErrAuthFailed
		}
		s.user = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.user != "" && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = received{From: from}
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.rejectTo != "" && strings.EqualFold(to, s.b.rejectTo) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	s.cur.To = append(s.cur.To, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.b.mu.Lock()
	s.b.dataCalls++
	fail := s.b.dataCalls <= s.b.failFirst
	s.b.mu.Unlock()
	if fail {
		if s.b.failWith != nil {
			return s.b.failWith
		}
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	_, isTLS := s.conn.TLSConnectionState()
	s.cur.Data, s.cur.User, s.cur.TLS = data, s.user, isTLS
	s.b.got <- s.cur
	return nil
}

func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

// serverMode says how the test server speaks.
type serverMode struct {
	startTLS     *tls.Config // offer STARTTLS with this certificate
	implicitTLS  *tls.Config // TLS from the first byte
	insecureAuth bool        // offer AUTH on a plain connection
	network      string      // "tcp4" unless set
	addr         string      // "127.0.0.1:0" unless set
}

// startServer runs a go-smtp server for b and returns its host:port.
func startServer(t *testing.T, b *backend, mode serverMode) string {
	t.Helper()
	network, addr := mode.network, mode.addr
	if network == "" {
		network, addr = "tcp4", "127.0.0.1:0"
	}
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	if mode.implicitTLS != nil {
		ln = tls.NewListener(ln, mode.implicitTLS)
	}
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	srv.ReadTimeout = patience
	srv.WriteTimeout = patience
	srv.TLSConfig = mode.startTLS
	srv.AllowInsecureAuth = mode.insecureAuth
	srv.ErrorLog = log.New(io.Discard, "", 0)
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	t.Cleanup(func() {
		_ = srv.Close()
		_ = ln.Close() // in case Serve had not registered it yet
		<-done
	})
	return ln.Addr().String()
}

// testCert is a self-signed certificate for 127.0.0.1, ::1 and localhost.
type testCert struct {
	server *tls.Config // for the test server
	client *tls.Config // trusts the certificate
}

var (
	certOnce sync.Once
	certVal  testCert
	certErr  error
)

func newTestCert(t *testing.T) testCert {
	t.Helper()
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certErr = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "fleetgate mail test"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			DNSNames:              []string{"localhost"},
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			certErr = err
			return
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			certErr = err
			return
		}
		pool := x509.NewCertPool()
		pool.AddCert(leaf)
		certVal = testCert{
			server: &tls.Config{
				Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
				MinVersion:   tls.VersionTLS12,
			},
			client: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		}
	})
	if certErr != nil {
		t.Fatal(certErr)
	}
	return certVal
}

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header netmail.Header
	From   *netmail.Address
	To     *netmail.Address
	Subj   string
	Text   string
	HTML   string
}

func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("received mail does not parse: %v\n%s", err, data)
	}
	var p parsedMail
	p.Header = msg.Header
	if p.From, err = netmail.ParseAddress(msg.Header.Get("From")); err != nil {
		t.Fatalf("From: %v", err)
	}
	if p.To, err = netmail.ParseAddress(msg.Header.Get("To")); err != nil {
		t.Fatalf("To: %v", err)
	}
	if p.Subj, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("Subject: %v", err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("Content-Type: %v", err)
	}
	if !strings.HasPrefix(mediaType, "multipart/") {
		body := decodeBody(t, msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
		p.setPart(t, mediaType, body)
		return p
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}
		pt, _, err := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if err != nil {
			t.Fatalf("part Content-Type: %v", err)
		}
		// multipart.Reader already undoes quoted-printable.
		body := decodeBody(t, part.Header.Get("Content-Transfer-Encoding"), part)
		p.setPart(t, pt, body)
	}
	return p
}

func (p *parsedMail) setPart(t *testing.T, mediaType, body string) {
	t.Helper()
	switch mediaType {
	case "text/plain":
		p.Text = body
	case "text/html":
		p.HTML = body
	default:
		t.Fatalf("unexpected part %s", mediaType)
	}
}

func decodeBody(t *testing.T, cte string, r io.Reader) string {
	t.Helper()
	switch strings.ToLower(cte) {
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("body (%s): %v", cte, err)
	}
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// recorder is a slog.Handler that hands every record to the test.
type recorder struct {
	ch chan slog.Record
}

func newRecorder() (*recorder, *slog.Logger) {
	r := &recorder{ch: make(chan slog.Record, 10000)}
	return r, slog.New(r)
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.ch <- rec.Clone()
	return nil
}
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

// waitFor returns the next record with the given message, skipping others.
func (r *recorder) waitFor(t *testing.T, msg string) slog.Record {
	t.Helper()
	deadline := time.After(patience)
	for {
		select {
		case rec := <-r.ch:
			if rec.Message == msg {
				return rec
			}
		case <-deadline:
			t.Fatalf("no log record %q", msg)
			return slog.Record{}
		}
	}
}

func attr(rec slog.Record, key string) slog.Value {
	var v slog.Value
	rec.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value
			return false
		}
		return true
	})
	return v
}

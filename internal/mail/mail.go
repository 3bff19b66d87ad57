package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	netmail "net/mail"
	"strings"
)

// Message is one outgoing mail to a single recipient.
type Message struct {
	// To is the recipient, a single RFC 5322 address such as
	// "ada@example.com" or "Ada <ada@example.com>".
	To string
	// Subject must not contain line breaks.
	Subject string
	// Text is the plain-text body.
	Text string
	// HTML is an optional HTML alternative to Text. When set, the mail is
	// sent as multipart/alternative.
	HTML string
}

// Sender delivers a single message. Implementations are safe for concurrent
// use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrInvalidMessage is wrapped by the error a Sender returns for a message
// that can never be sent (bad recipient address, line break in the subject,
// empty body).
var ErrInvalidMessage = errors.New("mail: invalid message")

// ErrPermanent is wrapped by the error a Sender returns when the server
// rejected the message permanently (an SMTP 5xx reply to MAIL, RCPT or
// DATA). The [Outbox] does not retry such messages.
var ErrPermanent = errors.New("mail: permanently rejected")

// validate checks what every Sender checks before sending, so that the
// development Log sender refuses the same messages as SMTP does.
func (m Message) validate() error {
	if strings.TrimSpace(m.To) == "" {
		return fmt.Errorf("%w: no recipient", ErrInvalidMessage)
	}
	if _, err := netmail.ParseAddress(m.To); err != nil {
		return fmt.Errorf("%w: recipient: %v", ErrInvalidMessage, err)
	}
	if strings.ContainsAny(m.Subject, "\r\n") {
		return fmt.Errorf("%w: line break in subject", ErrInvalidMessage)
	}
	if m.Text == "" && m.HTML == "" {
		return fmt.Errorf("%w: empty body", ErrInvalidMessage)
	}
	return nil
}

// New returns the Sender fleetgate's configuration asks for: [SMTP] when
// smtpURL is set, otherwise [Log] (the development default). from is
// MAIL_FROM; it is required with SMTP.
func New(smtpURL, from string, log *slog.Logger, opts ...SMTPOption) (Sender, error) {
	if strings.TrimSpace(smtpURL) == "" {
		return NewLog(log), nil
	}
	return NewSMTP(smtpURL, from, opts...)
}

// Log is the development Sender: it writes each message as one structured
// log line (level INFO, message "mail not sent, logged") with the attributes
// to, subject, text and, when present, html. It sends nothing.
type Log struct {
	log *slog.Logger
}

// NewLog returns a Log sender writing to log (slog.Default() when nil).
func NewLog(log *slog.Logger) *Log {
	if log == nil {
		log = slog.Default()
	}
	return &Log{log: log}
}

// Send logs m. It fails only for a message SMTP would refuse too.
func (l *Log) Send(ctx context.Context, m Message) error {
	if err := m.validate(); err != nil {
		return err
	}
	attrs := []slog.Attr{
		slog.String("to", m.To),
		slog.String("subject", m.Subject),
		slog.String("text", m.Text),
	}
	if m.HTML != "" {
		attrs = append(attrs, slog.String("html", m.HTML))
	}
	l.log.LogAttrs(ctx, slog.LevelInfo, "mail not sent, logged", attrs...)
	return nil
}

// Package mail sends fleetgate's outgoing mail: password-reset links and
// security notices.
//
// # Senders
//
// A [Sender] delivers one [Message]. There are two:
//
//   - [SMTP] talks to a mail server given by SMTP_URL, with MAIL_FROM as the
//     From address (see [NewSMTP]).
//   - [Log] writes each message as one structured log line instead of sending
//     it. It is the development default when SMTP_URL is unset, so that reset
//     links can be read from the log. Because the line contains the body
//     (including reset tokens), it must not be used in production.
//
// [New] picks between them the way the server's configuration does.
//
// # SMTP_URL
//
//	smtp://host                       port 587, STARTTLS if offered, no AUTH
//	smtp://user:pass@host:587         STARTTLS required, then AUTH
//	smtps://user:pass@host            port 465, implicit TLS, then AUTH
//	smtp://host:25?starttls=none      never STARTTLS (local relay only)
//
// The scheme is smtp (plain connection upgraded with STARTTLS) or smtps
// (implicit TLS from the first byte). Default ports: 587 for smtp, 465 for
// smtps. For smtp://, the query parameter starttls chooses the policy:
// "required" (refuse a server that does not offer STARTTLS), "opportunistic"
// (upgrade when offered) or "none". The default is "required" when
// credentials are given and "opportunistic" otherwise; credentials together
// with starttls=none are refused, and credentials are never sent with PLAIN
// or LOGIN over an unencrypted connection.
//
// User and password come from the URL's userinfo and must be
// percent-encoded where they contain reserved characters (for example
// "p@ss/word" is written "p%40ss%2Fword"). When they are present the
// mechanism is discovered from the server's EHLO answer (SCRAM, NTLM,
// CRAM-MD5, PLAIN, LOGIN, strongest first; only the challenge-response ones
// on an unencrypted connection); when they are absent no AUTH is attempted.
// Server certificates are verified against the system roots.
//
// # The outbox: durable, off the request path, with retries
//
// Handlers never send mail themselves: they write it into the transaction
// of the change it tells of with [Outbox.Enqueue], so a reset link is never
// committed without its mail, nor mailed without its commit. Sending over
// SMTP can take seconds and can fail; doing it inline would make response
// times depend on a mail server and, worse, let them reveal whether an
// account exists (requestPasswordReset must look the same for known and
// unknown addresses). [Outbox.Run] sends what is due: woken by a commit in
// the same process, polling otherwise. Each instance claims a few mails at
// a time under a lease (FOR UPDATE SKIP LOCKED on PostgreSQL; SQLite has a
// single writer), so N instances on one database send each mail once; a
// mail claimed by an instance that dies goes out after the lease. Failures
// are never returned to API callers: a mail is retried with exponential
// backoff (eight attempts over about an hour), and one the server rejects
// permanently (5xx), that is malformed or out of attempts is marked failed,
// logged and counted. Sent and failed mails are deleted after the
// retention (MAIL_RETENTION).
package mail

package graph

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"fleetgate/ent"
	"fleetgate/graph/model"
	"fleetgate/internal/apikey"
	"fleetgate/internal/fault"
	"fleetgate/internal/token"
	"fleetgate/internal/viewer"
)

var (
	errBadCredential  = fault.New(fault.Unauthenticated, "invalid credential: sign in again")
	errExpiredSession = fault.New(fault.Unauthenticated, "session token expired: sign in again")
	errEndedSession   = fault.New(fault.Unauthenticated, "session ended (password changed or signed out everywhere): sign in again")
)

// authenticate turns an Authorization header into the caller.
func (d Deps) authenticate(ctx context.Context, header string) (*viewer.Viewer, error) {
	if header == "" {
		return nil, viewer.ErrSignIn
	}
	scheme, credential, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || credential == "" {
		return nil, fault.New(fault.Unauthenticated, "the Authorization header must be: Bearer <session token or API key>")
	}
	credential = strings.TrimSpace(credential)
	if apikey.LooksLikeKey(credential) {
		return d.authenticateAPIKey(ctx, credential)
	}
	return d.authenticateSession(ctx, credential)
}

func (d Deps) authenticateSession(ctx context.Context, raw string) (*viewer.Viewer, error) {
	sess, err := d.Tokens.ParseSession(raw, d.Now())
	switch {
	case errors.Is(err, token.ErrExpired):
		return nil, errExpiredSession
	case err != nil:
		return nil, errBadCredential
	}
	id, err := strconv.Atoi(sess.UserID)
	if err != nil {
		return nil, errBadCredential
	}
	u, err := d.DB.User.Get(ctx, id)
	switch {
	case ent.IsNotFound(err):
		return nil, errBadCredential // the account was deleted
	case err != nil:
		return nil, err
	case sess.IssuedAt.Before(u.SessionsValidAfter.Truncate(time.Millisecond)):
		return nil, errEndedSession
	}
	kind := viewer.Session
	if sess.Pending {
		kind = viewer.PendingSession
	}
	return &viewer.Viewer{UserID: u.ID, Credential: kind, AuthTime: sess.AuthTime}, nil
}

// issueSession signs a session token for u. authTime is when u last proved
// who they are.
//
// Token iat and the comparison with sessionsValidAfter are at millisecond
// precision. Ending sessions sets sessionsValidAfter one millisecond past
// the moment (sessionsEndAt), and a token's iat is never earlier than it, so
// tokens from before are refused while one issued in the same millisecond,
// after, is not.
func (d Deps) issueSession(u *ent.User, authTime time.Time, pending bool) (*model.AuthPayload, error) {
	issued := d.Now()
	if issued.Before(u.SessionsValidAfter) {
		issued = u.SessionsValidAfter
	}
	sess := token.Session{UserID: strconv.Itoa(u.ID), IssuedAt: issued, AuthTime: authTime, Pending: pending}
	signed, err := d.Tokens.IssueSession(sess)
	if err != nil {
		return nil, err
	}
	return &model.AuthPayload{
		Token:             signed,
		ExpiresAt:         issued.Add(token.SessionLifetime).Truncate(time.Second),
		TwoFactorRequired: pending,
		User:              u,
	}, nil
}

// sessionsEndAt is the sessionsValidAfter value that ends every session
// issued up to now (token iat has millisecond precision).
func (d Deps) sessionsEndAt() time.Time {
	return d.Now().Truncate(time.Millisecond).Add(time.Millisecond)
}

// me loads the caller's own account.
func (d Deps) me(ctx context.Context) (*ent.User, *viewer.Viewer, error) {
	v, err := viewer.Require(ctx)
	if err != nil {
		return nil, nil, err
	}
	u, err := d.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, nil, err
	}
	return u, v, nil
}

// ownAccount refuses fields of a User that only that user may see. The
// user of an AuthPayload is the person who just proved who they are, even
// though the request itself carried no credential.
func ownAccount(ctx context.Context, u *ent.User) error {
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Parent != nil && fc.Parent.Object == "AuthPayload" {
		return nil
	}
	v, err := viewer.FromContext(ctx)
	if err != nil {
		return err
	}
	if v.UserID != u.ID {
		return fault.New(fault.Forbidden, "only %s can see this", u.Username)
	}
	return nil
}

package auth

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"

	"fleetgate/ent"
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

// Authenticate turns an Authorization header into the caller and, for a
// user, the user's row as it read it (nil for a provisioning key).
func (s *Service) Authenticate(ctx context.Context, header string) (*viewer.Viewer, *ent.User, error) {
	if header == "" {
		return nil, nil, viewer.ErrSignIn
	}
	scheme, credential, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || credential == "" {
		return nil, nil, fault.New(fault.Unauthenticated, "the Authorization header must be: Bearer <session token or API key>")
	}
	credential = strings.TrimSpace(credential)
	if apikey.LooksLikeKey(credential) {
		return s.authenticateAPIKey(ctx, credential)
	}
	if apikey.Provisioning.Matches(credential) {
		v, err := s.authenticateProvisioningKey(ctx, credential)
		return v, nil, err
	}
	return s.authenticateSession(ctx, credential)
}

// lastAuthentication holds what the request's latest authentication read: the caller's row,
// so that me answers without reading it again.
type lastAuthentication struct{ last atomic.Pointer[authenticated] }

type authenticated struct {
	viewer *viewer.Viewer
	user   *ent.User
}

type lastAuthenticationKey struct{}

// WithAuthenticator returns ctx with an authenticator that runs
// Authenticate and keeps the user it read (CallerRow).
func (s *Service) WithAuthenticator(ctx context.Context, header string) context.Context {
	held := &lastAuthentication{}
	ctx = context.WithValue(ctx, lastAuthenticationKey{}, held)
	return viewer.WithAuthenticator(ctx, func() (*viewer.Viewer, error) {
		v, u, err := s.Authenticate(ctx, header)
		if err == nil && u != nil {
			held.last.Store(&authenticated{v, u})
		}
		return v, err
	})
}

// CallerRow is v's row if the authentication that returned v read it.
// A mutation's later root fields authenticate afresh (viewer.Fresh), and
// get the row that authentication read.
func CallerRow(ctx context.Context, v *viewer.Viewer) *ent.User {
	held, _ := ctx.Value(lastAuthenticationKey{}).(*lastAuthentication)
	if held == nil {
		return nil
	}
	if a := held.last.Load(); a != nil && a.viewer == v {
		return a.user
	}
	return nil
}

func (s *Service) authenticateSession(ctx context.Context, raw string) (*viewer.Viewer, *ent.User, error) {
	sess, err := s.Tokens.ParseSession(raw, s.Now())
	switch {
	case errors.Is(err, token.ErrExpired):
		return nil, nil, errExpiredSession
	case err != nil:
		return nil, nil, errBadCredential
	}
	id, err := strconv.Atoi(sess.UserID)
	if err != nil {
		return nil, nil, errBadCredential
	}
	u, err := s.DB.User.Get(ctx, id)
	switch {
	case ent.IsNotFound(err):
		return nil, nil, errBadCredential // the account was deleted
	case err != nil:
		return nil, nil, err
	case sessionEnded(u, sess.IssuedAt):
		return nil, nil, errEndedSession
	}
	kind := viewer.Session
	if sess.Pending {
		kind = viewer.PendingSession
	}
	return &viewer.Viewer{UserID: u.ID, Credential: kind, AuthTime: sess.AuthTime, IssuedAt: sess.IssuedAt}, u, nil
}

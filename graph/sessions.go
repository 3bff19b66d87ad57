package graph

import (
	"context"

	"entgo.io/contrib/entgql"

	"fleetgate/ent"
	"fleetgate/internal/viewer"
)

// sessions is me.sessions: the user's live sessions, newest first (README
// "Sessions").
func (d Deps) sessions(ctx context.Context, u *ent.User, after *ent.Cursor, first *int, before *ent.Cursor, last *int) (*ent.SessionConnection, error) {
	ctx, err := asAccountOwner(ctx, u)
	if err != nil {
		return nil, err
	}
	return d.auth.LiveSessions(u).Paginate(ctx, after, first, before, last, ent.WithSessionOrder(&ent.SessionOrder{
		Direction: entgql.OrderDirectionDesc, Field: ent.SessionOrderFieldCreatedAt,
	}))
}

// currentSession is Session.current: whether s is the session of the
// request's own token.
func currentSession(ctx context.Context, s *ent.Session) bool {
	v, err := viewer.FromContext(ctx)
	return err == nil && v.SessionID == s.ID
}

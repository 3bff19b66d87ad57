package graph

import (
	"context"

	"github.com/99designs/gqlgen/graphql"

	"fleetgate/ent"
	"fleetgate/graph/model"
	"fleetgate/internal/auth"
	"fleetgate/internal/fault"
	"fleetgate/internal/policy"
	"fleetgate/internal/viewer"
)

// authPayload is a session of internal/auth as GraphQL answers it.
func authPayload(s *auth.Session) *model.AuthPayload {
	return &model.AuthPayload{
		Token: s.Token, ExpiresAt: s.ExpiresAt, TwoFactorRequired: s.TwoFactorRequired,
		DeviceToken: s.DeviceToken, User: s.User,
	}
}

// session maps what a sign-in returns, error and all.
func session(s *auth.Session, err error) (*model.AuthPayload, error) {
	if err != nil {
		return nil, err
	}
	return authPayload(s), nil
}

// me loads the caller's own account. A session still owing the second
// factor gets it too, but only id, username and twoFactorEnabled show
// (self): enough for a login page to ask for the code.
func (d Deps) me(ctx context.Context) (*ent.User, error) {
	v, err := viewer.RequireFirstFactor(ctx)
	if err != nil {
		return nil, err
	}
	if u := auth.CallerRow(ctx, v); u != nil {
		return u, nil
	}
	return d.DB.User.Get(ctx, v.UserID)
}

// ownAccount refuses fields of a User that only that user may see, and,
// while the second factor is owed, all of them (TWO_FACTOR_REQUIRED). The
// user of an AuthPayload is the person who just proved who they are, even
// though the request itself carried no credential.
func ownAccount(ctx context.Context, u *ent.User) error {
	return self(ctx, u, false)
}

// asAccountOwner is ctx for reading the rows of u's own account (sessions,
// events, identities, organizations), once ownAccount allows it: as u,
// whom the privacy rules then filter for, rows eager-loaded below them
// included (fields with resolvers of their own below them, such as
// myRole, still see the request's caller: gqlgen hands them the request's
// context). In an AuthPayload the request itself carries no credential, or
// another's; its user is the person who just proved who they are (README
// "Accounts and sessions": a sign-in's answer is the signed-in user's).
func asAccountOwner(ctx context.Context, u *ent.User) (context.Context, error) {
	if err := ownAccount(ctx, u); err != nil {
		return nil, err
	}
	// Not a scoped key of u's, which reads no account rows: a sign-in's
	// answer is the account's whatever the request carried.
	if v, err := viewer.RequireAccount(ctx); err == nil && v.UserID == u.ID {
		return ctx, nil
	}
	return viewer.WithViewer(ctx, &viewer.Viewer{UserID: u.ID, Credential: viewer.Session}), nil
}

// self decides whether the caller is u; pending accepts a session still
// owing the second factor (the limited me of README "Two-factor authentication").
// A scoped API key is never u's account (viewer.ErrScopedKey).
func self(ctx context.Context, u *ent.User, pending bool) error {
	if fc := graphql.GetFieldContext(ctx); fc != nil && fc.Parent != nil && fc.Parent.Parent != nil && fc.Parent.Object == "AuthPayload" {
		if p, ok := fc.Parent.Parent.Result.(*model.AuthPayload); (!ok || p.TwoFactorRequired) && !pending {
			return viewer.ErrTwoFactorRequired
		}
		return nil
	}
	require := viewer.Require
	if pending {
		require = viewer.RequireFirstFactor
	}
	v, err := require(ctx)
	if err != nil {
		return err
	}
	if v.UserID != u.ID {
		return fault.New(fault.Forbidden, "only %s can see this", u.Username)
	}
	if v.Scope != nil {
		return viewer.ErrScopedKey
	}
	return nil
}

// email is u's address if the viewer may see it (policy.SeesEmailOf), else
// null: the field is nullable to hide it, from other users and from a
// login that still owes its second factor alike. A scoped API key asking
// for its owner's is refused (viewer.ErrScopedKey).
func email(ctx context.Context, u *ent.User) (*string, error) {
	switch err := ownAccount(ctx, u); err {
	case nil:
		return &u.Email, nil
	case viewer.ErrScopedKey:
		return nil, err
	}
	ok, err := policy.SeesEmailOf(ctx, u.ID)
	if _, refused := fault.As(err); refused || !ok {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &u.Email, nil
}

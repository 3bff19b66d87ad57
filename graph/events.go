package graph

import (
	"context"

	"entgo.io/contrib/entgql"

	"fleetgate/ent"
	"fleetgate/ent/securityevent"
)

// recordEvent adds a security event to a user's account; pass a
// transaction's client to make it part of the change it records.
func recordEvent(ctx context.Context, db *ent.Client, userID int, kind securityevent.Kind, detail string) error {
	return db.SecurityEvent.Create().SetUserID(userID).SetKind(kind).SetDetail(detail).Exec(ctx)
}

func (d Deps) securityEvents(ctx context.Context, u *ent.User, after *ent.Cursor, first *int, before *ent.Cursor, last *int) (*ent.SecurityEventConnection, error) {
	if err := ownAccount(ctx, u); err != nil {
		return nil, err
	}
	return d.DB.SecurityEvent.Query().Where(securityevent.UserID(u.ID)).
		Paginate(ctx, after, first, before, last, ent.WithSecurityEventOrder(&ent.SecurityEventOrder{
			Direction: entgql.OrderDirectionDesc, Field: ent.SecurityEventOrderFieldCreatedAt,
		}))
}

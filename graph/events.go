package graph

import (
	"context"

	"entgo.io/contrib/entgql"

	"fleetgate/ent"
	"fleetgate/ent/securityevent"
)

func (d Deps) securityEvents(ctx context.Context, u *ent.User, after *ent.Cursor, first *int, before *ent.Cursor, last *int) (*ent.SecurityEventConnection, error) {
	ctx, err := asAccountOwner(ctx, u)
	if err != nil {
		return nil, err
	}
	return d.DB.SecurityEvent.Query().Where(securityevent.UserID(u.ID)).
		Paginate(ctx, after, first, before, last, ent.WithSecurityEventOrder(&ent.SecurityEventOrder{
			Direction: entgql.OrderDirectionDesc, Field: ent.SecurityEventOrderFieldCreatedAt,
		}))
}

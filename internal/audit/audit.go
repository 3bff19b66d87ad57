// Package audit records security events on an account (me.securityEvents,
// README "Accounts and sessions").
package audit

import (
	"context"

	"fleetgate/ent"
	"fleetgate/ent/securityevent"
)

// Record adds a security event to a user's account; pass a transaction's
// client to make it part of the change it records.
func Record(ctx context.Context, db *ent.Client, userID int, kind securityevent.Kind, detail string) error {
	return db.SecurityEvent.Create().SetUserID(userID).SetKind(kind).SetDetail(detail).Exec(ctx)
}

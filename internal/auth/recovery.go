package auth

import (
	"cmp"
	"context"

	"fleetgate/ent"
	"fleetgate/ent/recoverycode"
	"fleetgate/ent/securityevent"
	"fleetgate/internal/audit"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/totp"
)

// recoveryCodeFactor is one of the account's single-use recovery codes.
type recoveryCodeFactor struct{ s *Service }

func (recoveryCodeFactor) Method() Method { return MethodRecoveryCode }

// Verify marks one unused recovery code of u as used, under the same
// throttle as TOTP codes. Of two requests with one code exactly one wins.
func (f recoveryCodeFactor) Verify(ctx context.Context, u *ent.User, code string) error {
	s := f.s
	key := twoFactorKey(u.ID)
	if err := s.Limits.Attempt(ctx, key, s.TwoFactor); err != nil {
		return err
	}
	wrong := fault.Input("recoveryCode", "that recovery code is not right (or was already used)")
	normalized, ok := totp.NormalizeRecoveryCode(code)
	if !ok {
		return wrong
	}
	// The code is spent and the event recorded together, or neither.
	err := database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		n, err := tx.RecoveryCode.Update().Where(recoverycode.UserID(u.ID),
			recoverycode.Hash(totp.HashRecoveryCode(s.pepper, normalized)), recoverycode.UsedAtIsNil()).
			SetUsedAt(s.Now()).Save(ctx)
		if err != nil || n != 1 {
			return cmp.Or(err, wrong)
		}
		return audit.Record(ctx, tx.Client(), u.ID, securityevent.KindRECOVERY_CODE_USED, "")
	})
	if err != nil {
		return err
	}
	return s.Limits.Reset(ctx, key)
}

// RegenerateRecoveryCodes replaces the caller's recovery codes, given the
// password.
func (s *Service) RegenerateRecoveryCodes(ctx context.Context, password string) ([]string, error) {
	u, err := s.confirmPassword(ctx, "regenerateRecoveryCodes", "password", password)
	if err != nil {
		return nil, err
	}
	if u.TotpSecret == nil {
		return nil, errTwoFactorIsOff
	}
	codes, err := totp.RecoveryCodes(totp.RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		if err := s.replaceRecoveryCodes(ctx, tx, u.ID, codes); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx.Client(), u.ID, securityevent.KindRECOVERY_CODES_REGENERATED, ""); err != nil {
			return err
		}
		return s.mail(ctx, tx, u, "New fleetgate recovery codes", "New recovery codes were made for the fleetgate account "+u.Username+
			", and the old ones no longer work.\n\nIf it was not you, reset your password at once ("+s.PublicURL+"/password-reset).\n")
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

func (s *Service) replaceRecoveryCodes(ctx context.Context, tx *ent.Tx, userID int, codes []string) error {
	if _, err := tx.RecoveryCode.Delete().Where(recoverycode.UserID(userID)).Exec(ctx); err != nil {
		return err
	}
	rows := make([]*ent.RecoveryCodeCreate, len(codes))
	for i, c := range codes {
		normalized, _ := totp.NormalizeRecoveryCode(c)
		rows[i] = tx.RecoveryCode.Create().SetUserID(userID).SetHash(totp.HashRecoveryCode(s.pepper, normalized))
	}
	return tx.RecoveryCode.CreateBulk(rows...).Exec(ctx)
}

// RecoveryCodesRemaining counts u's unused recovery codes.
func (s *Service) RecoveryCodesRemaining(ctx context.Context, u *ent.User) (int, error) {
	return s.DB.RecoveryCode.Query().Where(recoverycode.UserID(u.ID), recoverycode.UsedAtIsNil()).Count(ctx)
}

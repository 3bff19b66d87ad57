package auth

import (
	"context"
	"strconv"

	"fleetgate/ent"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/internal/audit"
	"fleetgate/internal/database"
	"fleetgate/internal/totp"
	"fleetgate/internal/viewer"
)

// totpFactor is a code of the authenticator app paired with the account.
type totpFactor struct{ s *Service }

func (totpFactor) Method() Method { return MethodTOTP }

func (f totpFactor) Verify(ctx context.Context, u *ent.User, code string) error {
	secret, err := f.s.secrets.Open(u.TotpSecret, secretAD(u.ID))
	if err != nil {
		return err
	}
	_, err = f.s.checkCode(ctx, u, string(secret), code)
	return err
}

// secretAD binds a sealed TOTP secret to its user: moved to another row, it
// no longer opens.
func secretAD(userID int) []byte { return []byte("totp:user:" + strconv.Itoa(userID)) }

// TwoFactorSetup is a new TOTP secret, for pairing an authenticator app.
type TwoFactorSetup struct {
	Secret     string
	OtpauthURL string
	QRCodePng  string
}

// BeginTwoFactorSetup makes a new TOTP secret, pending until
// ConfirmTwoFactorSetup.
func (s *Service) BeginTwoFactorSetup(ctx context.Context) (*TwoFactorSetup, error) {
	v, err := viewer.RequireRecentSession(ctx, "beginTwoFactorSetup", s.Now())
	if err != nil {
		return nil, err
	}
	u, err := s.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	if u.TotpSecret != nil {
		return nil, errTwoFactorIsOn
	}
	key, err := totp.Generate(u.Username)
	if err != nil {
		return nil, err
	}
	qr, err := totp.QRCodePNG(key.URL)
	if err != nil {
		return nil, err
	}
	sealed, err := s.secrets.Seal([]byte(key.Secret), secretAD(u.ID))
	if err != nil {
		return nil, err
	}
	if err := s.DB.User.UpdateOne(u).SetTotpPendingSecret(sealed).Exec(ctx); err != nil {
		return nil, err
	}
	return &TwoFactorSetup{Secret: key.Secret, OtpauthURL: key.URL, QRCodePng: qr}, nil
}

// ConfirmTwoFactorSetup turns two-factor authentication on with a code of
// the pending secret. Every other session ends; it returns the recovery
// codes and the caller's new session.
func (s *Service) ConfirmTwoFactorSetup(ctx context.Context, code string) ([]string, *Session, error) {
	v, err := viewer.RequireRecentSession(ctx, "confirmTwoFactorSetup", s.Now())
	if err != nil {
		return nil, nil, err
	}
	issued := s.Now() // before reading the account: see issueSession
	u, err := s.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case u.TotpSecret != nil:
		return nil, nil, errTwoFactorIsOn
	case u.TotpPendingSecret == nil:
		return nil, nil, errNoPendingSetup
	}
	secret, err := s.secrets.Open(u.TotpPendingSecret, secretAD(u.ID))
	if err != nil {
		return nil, nil, err
	}
	step, err := s.checkCode(ctx, u, string(secret), code)
	if err != nil {
		return nil, nil, err
	}
	codes, err := totp.RecoveryCodes(totp.RecoveryCodeCount)
	if err != nil {
		return nil, nil, err
	}
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		// Conditional on the pending secret still being the one checked:
		// two confirmations at once turn it on once.
		n, err := tx.User.Update().Where(user.ID(u.ID), user.TotpPendingSecret(u.TotpPendingSecret), user.TotpSecretIsNil()).
			SetTotpSecret(u.TotpPendingSecret).ClearTotpPendingSecret().SetTotpLastStep(step).Save(ctx)
		if err != nil {
			return err
		}
		if n != 1 {
			return errWrongCode
		}
		if err := s.replaceRecoveryCodes(ctx, tx, u.ID, codes); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx.Client(), u.ID, securityevent.KindTWO_FACTOR_ENABLED, ""); err != nil {
			return err
		}
		u, _, err = s.advanceSessions(ctx, tx, u.ID, v.SessionID)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	session, err := s.continueSession(ctx, v, u, issued, s.Now(), MethodTOTP)
	if err != nil {
		return nil, nil, err
	}
	return codes, session, nil
}

// checkCode verifies a TOTP code for u under the throttle and records the
// accepted step, so the code (and every earlier one) is refused from now
// on. The record is conditional, so of two requests with one code exactly
// one wins.
func (s *Service) checkCode(ctx context.Context, u *ent.User, secret, code string) (int64, error) {
	// Counted before it is checked: a burst of guesses cannot pass the
	// throttle together.
	key := twoFactorKey(u.ID)
	if err := s.Limits.Attempt(ctx, key, s.TwoFactor); err != nil {
		return 0, err
	}
	step, ok := totp.Verify(secret, code, s.Now(), u.TotpLastStep)
	if ok {
		n, err := s.DB.User.Update().Where(user.ID(u.ID), user.TotpLastStepLT(step)).SetTotpLastStep(step).Save(ctx)
		if err != nil {
			return 0, err
		}
		ok = n == 1
	}
	if !ok {
		return 0, errWrongCode
	}
	return step, s.Limits.Reset(ctx, key)
}

package graph

import (
	"context"
	"strconv"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/recoverycode"
	"fleetgate/ent/securityevent"
	"fleetgate/ent/user"
	"fleetgate/graph/model"
	"fleetgate/internal/fault"
	"fleetgate/internal/ratelimit"
	"fleetgate/internal/totp"
	"fleetgate/internal/viewer"
)

// twoFactorThrottle: the 5th wrong code in a row blocks further attempts
// for 30 seconds, each further one for twice as long, up to an hour; a
// right code resets it (README "Two-factor authentication").
var twoFactorThrottle = ratelimit.Throttle{Free: 4, Base: 30 * time.Second, Max: time.Hour}

var (
	errWrongCode           = fault.Input("code", "that code is not right (or was already used)")
	errTwoFactorIsOn       = fault.New(fault.BadUserInput, "two-factor authentication is already on: disable it first to pair another app")
	errTwoFactorIsOff      = fault.New(fault.BadUserInput, "two-factor authentication is not on")
	errNoPendingSetup      = fault.Input("code", "start with beginTwoFactorSetup")
	errNotPending          = fault.New(fault.BadUserInput, "this session needs no second factor")
	errOneOfCodeOrRecovery = fault.Input("input", "give exactly one of code and recoveryCode")
)

func twoFactorKey(userID int) string { return "2fa:user:" + strconv.Itoa(userID) }

// secretAD binds a sealed TOTP secret to its user: moved to another row, it
// no longer opens.
func secretAD(userID int) []byte { return []byte("totp:user:" + strconv.Itoa(userID)) }

func (d Deps) beginTwoFactorSetup(ctx context.Context) (*model.TwoFactorSetup, error) {
	v, err := viewer.RequireRecentSession(ctx, "beginTwoFactorSetup", d.Now())
	if err != nil {
		return nil, err
	}
	u, err := d.DB.User.Get(ctx, v.UserID)
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
	sealed, err := d.secrets.Seal([]byte(key.Secret), secretAD(u.ID))
	if err != nil {
		return nil, err
	}
	if err := d.DB.User.UpdateOne(u).SetTotpPendingSecret(sealed).Exec(ctx); err != nil {
		return nil, err
	}
	return &model.TwoFactorSetup{Secret: key.Secret, OtpauthURL: key.URL, QRCodePng: qr}, nil
}

func (d Deps) confirmTwoFactorSetup(ctx context.Context, code string) (*model.RecoveryCodes, error) {
	v, err := viewer.RequireRecentSession(ctx, "confirmTwoFactorSetup", d.Now())
	if err != nil {
		return nil, err
	}
	issued := d.Now() // before reading the account: see issueSession
	u, err := d.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	switch {
	case u.TotpSecret != nil:
		return nil, errTwoFactorIsOn
	case u.TotpPendingSecret == nil:
		return nil, errNoPendingSetup
	}
	secret, err := d.secrets.Open(u.TotpPendingSecret, secretAD(u.ID))
	if err != nil {
		return nil, err
	}
	step, err := d.checkCode(ctx, u, string(secret), code)
	if err != nil {
		return nil, err
	}
	codes, err := totp.RecoveryCodes(totp.RecoveryCodeCount)
	if err != nil {
		return nil, err
	}
	err = withTx(ctx, d.DB, func(tx *ent.Tx) error {
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
		if err := d.replaceRecoveryCodes(ctx, tx, u.ID, codes); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx.Client(), u.ID, securityevent.KindTWO_FACTOR_ENABLED, ""); err != nil {
			return err
		}
		u, err = d.advanceSessions(ctx, tx, u.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	session, err := d.issueSession(u, issued, d.Now(), false)
	if err != nil {
		return nil, err
	}
	return &model.RecoveryCodes{RecoveryCodes: codes, Session: session}, nil
}

// checkCode verifies a TOTP code for u under the throttle and records the
// accepted step, so the code (and every earlier one) is refused from now
// on. The record is conditional, so of two requests with one code exactly
// one wins.
func (d Deps) checkCode(ctx context.Context, u *ent.User, secret, code string) (int64, error) {
	// Counted before it is checked: a burst of guesses cannot pass the
	// throttle together.
	key := twoFactorKey(u.ID)
	if err := d.limits.Attempt(ctx, key, twoFactorThrottle); err != nil {
		return 0, err
	}
	step, ok := totp.Verify(secret, code, d.Now(), u.TotpLastStep)
	if ok {
		n, err := d.DB.User.Update().Where(user.ID(u.ID), user.TotpLastStepLT(step)).SetTotpLastStep(step).Save(ctx)
		if err != nil {
			return 0, err
		}
		ok = n == 1
	}
	if !ok {
		return 0, errWrongCode
	}
	return step, d.limits.Reset(ctx, key)
}

func (d Deps) verifyTwoFactor(ctx context.Context, in model.VerifyTwoFactorInput) (*model.AuthPayload, error) {
	v, err := viewer.RequireFirstFactor(ctx)
	if err != nil {
		return nil, err
	}
	if v.Credential != viewer.PendingSession {
		return nil, errNotPending
	}
	if (in.Code == nil) == (in.RecoveryCode == nil) {
		return nil, errOneOfCodeOrRecovery
	}
	issued := d.Now() // before reading the account: see issueSession
	u, err := d.sessionUser(ctx, v)
	if err != nil {
		return nil, err
	}
	if u.TotpSecret == nil {
		return nil, errTwoFactorIsOff
	}
	if in.Code != nil {
		secret, err := d.secrets.Open(u.TotpSecret, secretAD(u.ID))
		if err != nil {
			return nil, err
		}
		if _, err := d.checkCode(ctx, u, string(secret), *in.Code); err != nil {
			return nil, err
		}
	} else if err := d.redeemRecoveryCode(ctx, u, *in.RecoveryCode); err != nil {
		return nil, err
	}
	if err := recordEvent(ctx, d.DB, u.ID, securityevent.KindSIGN_IN, "with two-factor authentication"); err != nil {
		return nil, err
	}
	return d.signedIn(u, issued, d.Now())
}

// redeemRecoveryCode marks one unused recovery code of u as used, under the
// same throttle as codes. Of two requests with one code exactly one wins.
func (d Deps) redeemRecoveryCode(ctx context.Context, u *ent.User, code string) error {
	key := twoFactorKey(u.ID)
	if err := d.limits.Attempt(ctx, key, twoFactorThrottle); err != nil {
		return err
	}
	wrong := fault.Input("recoveryCode", "that recovery code is not right (or was already used)")
	normalized, ok := totp.NormalizeRecoveryCode(code)
	if !ok {
		return wrong
	}
	// The code is spent and the event recorded together, or neither.
	err := withTx(ctx, d.DB, func(tx *ent.Tx) error {
		n, err := tx.RecoveryCode.Update().Where(recoverycode.UserID(u.ID),
			recoverycode.Hash(totp.HashRecoveryCode(d.pepper, normalized)), recoverycode.UsedAtIsNil()).
			SetUsedAt(d.Now()).Save(ctx)
		if err != nil || n != 1 {
			return notFoundOr(err, wrong)
		}
		return recordEvent(ctx, tx.Client(), u.ID, securityevent.KindRECOVERY_CODE_USED, "")
	})
	if err != nil {
		return err
	}
	return d.limits.Reset(ctx, key)
}

func (d Deps) disableTwoFactor(ctx context.Context, password string) (*ent.User, error) {
	u, err := d.confirmPassword(ctx, "disableTwoFactor", "password", password)
	if err != nil {
		return nil, err
	}
	if u.TotpSecret == nil {
		return nil, errTwoFactorIsOff
	}
	err = withTx(ctx, d.DB, func(tx *ent.Tx) error {
		err := tx.User.UpdateOne(u).ClearTotpSecret().ClearTotpPendingSecret().SetTotpLastStep(0).Exec(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.RecoveryCode.Delete().Where(recoverycode.UserID(u.ID)).Exec(ctx); err != nil {
			return err
		}
		if err := recordEvent(ctx, tx.Client(), u.ID, securityevent.KindTWO_FACTOR_DISABLED, ""); err != nil {
			return err
		}
		u, err = d.advanceSessions(ctx, tx, u.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	d.mail(u, "Two-factor authentication was turned off", "Two-factor authentication of the fleetgate account "+u.Username+
		" was turned off, and every session signed out.\n\nIf it was not you, reset your password and turn it on again.\n")
	return u.Unwrap(), nil
}

func (d Deps) regenerateRecoveryCodes(ctx context.Context, password string) (*model.RecoveryCodes, error) {
	u, err := d.confirmPassword(ctx, "regenerateRecoveryCodes", "password", password)
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
	err = withTx(ctx, d.DB, func(tx *ent.Tx) error {
		if err := d.replaceRecoveryCodes(ctx, tx, u.ID, codes); err != nil {
			return err
		}
		return recordEvent(ctx, tx.Client(), u.ID, securityevent.KindRECOVERY_CODES_REGENERATED, "")
	})
	if err != nil {
		return nil, err
	}
	d.mail(u, "New fleetgate recovery codes", "New recovery codes were made for the fleetgate account "+u.Username+
		", and the old ones no longer work.\n\nIf it was not you, reset your password at once ("+d.PublicURL+"/password-reset).\n")
	return &model.RecoveryCodes{RecoveryCodes: codes}, nil
}

func (d Deps) replaceRecoveryCodes(ctx context.Context, tx *ent.Tx, userID int, codes []string) error {
	if _, err := tx.RecoveryCode.Delete().Where(recoverycode.UserID(userID)).Exec(ctx); err != nil {
		return err
	}
	rows := make([]*ent.RecoveryCodeCreate, len(codes))
	for i, c := range codes {
		normalized, _ := totp.NormalizeRecoveryCode(c)
		rows[i] = tx.RecoveryCode.Create().SetUserID(userID).SetHash(totp.HashRecoveryCode(d.pepper, normalized))
	}
	return tx.RecoveryCode.CreateBulk(rows...).Exec(ctx)
}

// passwordThrottle guards operations that take the account's password
// again, as twoFactorThrottle does codes.
var passwordThrottle = twoFactorThrottle

// confirmPassword is the caller's account, once they have given its
// password again (in the input field named field); operation needs a
// session token.
func (d Deps) confirmPassword(ctx context.Context, operation, field, password string) (*ent.User, error) {
	v, err := viewer.RequireSession(ctx, operation)
	if err != nil {
		return nil, err
	}
	u, err := d.DB.User.Get(ctx, v.UserID)
	if err != nil {
		return nil, err
	}
	if u.PasswordHash == "" {
		return nil, fault.New(fault.PasswordRequired, "the account has no password: set one first (setPassword)")
	}
	key := "password:user:" + strconv.Itoa(u.ID)
	if err := d.limits.Attempt(ctx, key, passwordThrottle); err != nil {
		return nil, err
	}
	ok, err := d.Passwords.Verify(ctx, password, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fault.Input(field, "incorrect password")
	}
	return u, d.limits.Reset(ctx, key)
}

func (d Deps) recoveryCodesRemaining(ctx context.Context, u *ent.User) (int, error) {
	if err := ownAccount(ctx, u); err != nil {
		return 0, err
	}
	return d.DB.RecoveryCode.Query().Where(recoverycode.UserID(u.ID), recoverycode.UsedAtIsNil()).Count(ctx)
}

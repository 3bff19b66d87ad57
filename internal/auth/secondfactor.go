package auth

import (
	"context"
	"strconv"

	"fleetgate/ent"
	"fleetgate/ent/recoverycode"
	"fleetgate/ent/securityevent"
	"fleetgate/internal/audit"
	"fleetgate/internal/database"
	"fleetgate/internal/fault"
	"fleetgate/internal/viewer"
)

// A SecondFactor completes a login that a first factor began, for an
// account with two-factor authentication on (a TOTP code, a recovery code;
// later WebAuthn). A new one is a new file and an entry of
// Service.secondFactors.
type SecondFactor interface {
	Method() Method
	// Verify accepts code for u, at most once, under AbuseLimits.TwoFactor.
	Verify(ctx context.Context, u *ent.User, code string) error
}

var (
	errWrongCode           = fault.Input("code", "that code is not right (or was already used)")
	errTwoFactorIsOn       = fault.New(fault.BadUserInput, "two-factor authentication is already on: disable it first to pair another app")
	errTwoFactorIsOff      = fault.New(fault.BadUserInput, "two-factor authentication is not on")
	errNoPendingSetup      = fault.Input("code", "start with beginTwoFactorSetup")
	errNotPending          = fault.New(fault.BadUserInput, "this session needs no second factor")
	errOneOfCodeOrRecovery = fault.Input("input", "give exactly one of code and recoveryCode")
)

func twoFactorKey(userID int) string { return "2fa:user:" + strconv.Itoa(userID) }

// VerifyTwoFactor completes a pending login with exactly one of a TOTP code
// and a recovery code.
func (s *Service) VerifyTwoFactor(ctx context.Context, code, recoveryCode *string) (*Session, error) {
	v, err := viewer.RequireFirstFactor(ctx)
	if err != nil {
		return nil, err
	}
	if v.Credential != viewer.PendingSession {
		return nil, errNotPending
	}
	if (code == nil) == (recoveryCode == nil) {
		return nil, errOneOfCodeOrRecovery
	}
	method, proof := MethodTOTP, code
	if recoveryCode != nil {
		method, proof = MethodRecoveryCode, recoveryCode
	}
	issued := s.Now() // before reading the account: see issueSession
	u, err := s.sessionUser(ctx, v)
	if err != nil {
		return nil, err
	}
	if u.TotpSecret == nil {
		return nil, errTwoFactorIsOff
	}
	if err := s.secondFactors[method].Verify(ctx, u, *proof); err != nil {
		return nil, err
	}
	if err := audit.Record(ctx, s.DB, u.ID, securityevent.KindSIGN_IN, signInDetail(Method(v.FirstFactor), true)); err != nil {
		return nil, err
	}
	return s.signedIn(ctx, u, issued, s.Now(), method)
}

// DisableTwoFactor turns two-factor authentication off, given the password;
// every other session ends.
func (s *Service) DisableTwoFactor(ctx context.Context, password string) (*ent.User, error) {
	u, err := s.confirmPassword(ctx, "disableTwoFactor", "password", password)
	if err != nil {
		return nil, err
	}
	if u.TotpSecret == nil {
		return nil, errTwoFactorIsOff
	}
	v, err := viewer.FromContext(ctx) // a session: confirmPassword saw to it
	if err != nil {
		return nil, err
	}
	err = database.WithTx(ctx, s.DB, func(tx *ent.Tx) error {
		u, err = tx.User.UpdateOne(u).ClearTotpSecret().ClearTotpPendingSecret().SetTotpLastStep(0).Save(ctx)
		if err != nil {
			return err
		}
		if _, err := tx.RecoveryCode.Delete().Where(recoverycode.UserID(u.ID)).Exec(ctx); err != nil {
			return err
		}
		if err := audit.Record(ctx, tx.Client(), u.ID, securityevent.KindTWO_FACTOR_DISABLED, ""); err != nil {
			return err
		}
		err = s.mail(ctx, tx, u, "Two-factor authentication was turned off", "Two-factor authentication of the fleetgate account "+u.Username+
			" was turned off, and every other session signed out.\n\nIf it was not you, reset your password and turn it on again.\n")
		if err != nil {
			return err
		}
		// Every other session ends; the caller's goes on (it proved the
		// password just now). A pending login's token needs no ending: with
		// no second factor left to give, it opens nothing.
		_, err = deleteSessions(ctx, tx, u.ID, v.SessionID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return u.Unwrap(), nil
}

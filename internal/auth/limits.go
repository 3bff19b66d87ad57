package auth

import (
	"time"

	"fleetgate/internal/ratelimit"
)

// AbuseLimits are the limits of README "Abuse limits", each one an
// operator may set (README "Configuration"). A zero field is its default.
type AbuseLimits struct {
	// Logins (see loginLimits for why each exists).
	LoginPerNameAndIP ratelimit.Throttle
	LoginPerName      ratelimit.Throttle
	LoginPerIP        ratelimit.Throttle
	LoginPerDevice    ratelimit.Throttle
	// TwoFactor: wrong codes (and recovery codes) per account.
	TwoFactor ratelimit.Throttle
	// PasswordConfirmation: wrong passwords given again for an operation
	// (confirmPassword), per account.
	PasswordConfirmation ratelimit.Throttle
	SignUpsPerIP         ratelimit.Rate
	// Reset mails: per address (what a victim's inbox receives) and per
	// client address (what one sender can trigger).
	ResetMailsPerAddress ratelimit.Rate
	ResetMailsPerIP      ratelimit.Rate
	// Verification mails: per account (resendVerificationEmail and
	// changeEmail together) and per new address (what an inbox receives
	// from changeEmail).
	VerificationMailsPerAccount ratelimit.Rate
	VerificationMailsPerAddress ratelimit.Rate
	// MemberLookups: per caller, the lookups of accounts to add as members,
	// found or not, so that member forms are no account oracle.
	MemberLookups ratelimit.Rate
}

// doubling is the wait of every throttle by default: 30 seconds after the
// first failure over the free ones, doubling up to an hour.
func doubling(free int) ratelimit.Throttle {
	return ratelimit.Throttle{Free: free, Base: 30 * time.Second, Max: time.Hour}
}

// DefaultAbuseLimits are the limits README "Abuse limits" states. The
// two-factor throttle lets 4 wrong codes go free: the 5th blocks.
func DefaultAbuseLimits() AbuseLimits {
	return AbuseLimits{
		LoginPerNameAndIP:           doubling(5),
		LoginPerName:                doubling(50),
		LoginPerIP:                  doubling(50),
		LoginPerDevice:              doubling(5),
		TwoFactor:                   doubling(4),
		PasswordConfirmation:        doubling(4),
		SignUpsPerIP:                ratelimit.Rate{Limit: 10, Window: time.Hour},
		ResetMailsPerAddress:        ratelimit.Rate{Limit: 3, Window: time.Hour},
		ResetMailsPerIP:             ratelimit.Rate{Limit: 20, Window: time.Hour},
		VerificationMailsPerAccount: ratelimit.Rate{Limit: 5, Window: time.Hour},
		VerificationMailsPerAddress: ratelimit.Rate{Limit: 3, Window: time.Hour},
		MemberLookups:               ratelimit.Rate{Limit: 30, Window: time.Hour},
	}
}

// Named are l's limits by name: the label of the refusals' metric (README
// "Operating"), and, upper-cased after LIMIT_, the environment variable
// that sets it (README "Configuration"). Each is a *ratelimit.Throttle or a
// *ratelimit.Rate into l.
func (l *AbuseLimits) Named() []NamedLimit {
	return []NamedLimit{
		{"login_per_name_and_ip", &l.LoginPerNameAndIP},
		{"login_per_name", &l.LoginPerName},
		{"login_per_ip", &l.LoginPerIP},
		{"login_per_device", &l.LoginPerDevice},
		{"two_factor", &l.TwoFactor},
		{"password_confirmation", &l.PasswordConfirmation},
		{"signups_per_ip", &l.SignUpsPerIP},
		{"reset_mails_per_address", &l.ResetMailsPerAddress},
		{"reset_mails_per_ip", &l.ResetMailsPerIP},
		{"verification_mails_per_account", &l.VerificationMailsPerAccount},
		{"verification_mails_per_address", &l.VerificationMailsPerAddress},
		{"member_lookups", &l.MemberLookups},
	}
}

// NamedLimit is one of AbuseLimits.Named.
type NamedLimit struct {
	Name  string
	Limit any // *ratelimit.Throttle or *ratelimit.Rate
}

// withDefaults is l with every zero field set to its default, and every
// limit named for the refusals' metric (README "Operating").
func (l AbuseLimits) withDefaults() AbuseLimits {
	d := DefaultAbuseLimits()
	defaults := d.Named()
	for i, n := range l.Named() {
		switch limit := n.Limit.(type) {
		case *ratelimit.Throttle:
			if limit.Base == 0 { // no valid throttle has a zero wait
				*limit = *defaults[i].Limit.(*ratelimit.Throttle)
			}
			limit.Name = n.Name
		case *ratelimit.Rate:
			if limit.Window == 0 { // no valid rate has a zero window
				*limit = *defaults[i].Limit.(*ratelimit.Rate)
			}
			limit.Name = n.Name
		}
	}
	return l
}

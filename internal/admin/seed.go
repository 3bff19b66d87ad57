package admin

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"fleetgate/ent"
	"fleetgate/ent/application"
	"fleetgate/ent/organization"
	"fleetgate/internal/access"
	"fleetgate/internal/account"
	"fleetgate/internal/apikey"
	"fleetgate/internal/auth"
	"fleetgate/internal/clock"
	"fleetgate/internal/password"
	"fleetgate/internal/policy"
)

// DemoPassword is the password of every seeded account: fixed, so the demo
// data is the same on every run and documented (README "Operating").
const DemoPassword = "fleetgate-demo-password"

// shape is how much seed creates (README "Operating" lists the default, the
// benchmark's shape).
type shape struct {
	users, organizations, appsPerOrg, membersPerApp, devicesPerApp, keysPerUser int
}

// seedEvery is the rule of user #1's memberships: every seedEvery-th
// application, the first included.
const seedEvery = 10

// chunk is the number of rows per INSERT: few statements, and well under
// the bound parameters per statement of SQLite (32 766) and PostgreSQL
// (65 535) for the widest row written here.
const chunk = 1000

// seed fills an empty database with deterministic demo data and prints, as
// shell assignments, how to sign in as user #1.
func seed(ctx context.Context, db *ent.Client, args []string, out io.Writer) error {
	var sh shape
	fs := flag.NewFlagSet("fleetgate seed", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.IntVar(&sh.users, "users", 1000, "users (user1 … userN)")
	fs.IntVar(&sh.organizations, "organizations", 100, "organizations, on the PAID plan")
	fs.IntVar(&sh.appsPerOrg, "applications-per-org", 20, "applications per organization")
	fs.IntVar(&sh.membersPerApp, "members-per-app", 10, "members per application")
	fs.IntVar(&sh.devicesPerApp, "devices-per-app", 20, "devices per application")
	fs.IntVar(&sh.keysPerUser, "keys-per-user", 2, "API keys per user")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil // -h: the flags are printed
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("seed takes flags only, not %q", fs.Arg(0))
	}
	if err := sh.check(); err != nil {
		return err
	}
	// The one slow step, done once: every account shares the hash.
	hash, err := password.NewHasher(password.Production(), 1).Hash(ctx, DemoPassword)
	if err != nil {
		return err
	}
	start := time.Now()
	tx, err := db.Tx(ctx)
	if err != nil {
		return err
	}
	// The operator acts outside of any account: past the privacy rules.
	key, counts, err := sh.write(policy.System(ctx), tx, hash)
	if err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	// Comments and assignments only, so that eval "$(fleetgate seed)" works.
	// The values are letters, digits, '_' and '-': no quoting needed.
	_, err = fmt.Fprintf(out, "# seeded in %s: %s\n"+
		"FLEETGATE_SEED_USERNAME=%s\nFLEETGATE_SEED_PASSWORD=%s\nFLEETGATE_SEED_API_KEY=%s\n",
		time.Since(start).Round(time.Millisecond), counts, username(1), DemoPassword, key)
	return err
}

func (sh shape) check() error {
	apps := sh.organizations * sh.appsPerOrg
	switch {
	case sh.users < 1:
		return errors.New("--users must be at least 1")
	case sh.organizations < 0 || sh.appsPerOrg < 0 || sh.devicesPerApp < 0:
		return errors.New("--organizations, --applications-per-org and --devices-per-app must not be negative")
	case sh.keysPerUser < 1 || sh.keysPerUser > auth.MaxAPIKeys:
		return fmt.Errorf("--keys-per-user must be 1 to %d (user1's first key is printed)", auth.MaxAPIKeys)
	case sh.organizations > 0 && sh.users < 2:
		return errors.New("--users must be at least 2 with organizations: each has an administrator other than user1")
	case apps > 0 && (sh.membersPerApp < 1 || sh.membersPerApp > sh.users-2):
		// Of the users, the organization's administrator is no member (he
		// administers the application), and user1 only of every tenth.
		return fmt.Errorf("--members-per-app must be 1 to --users minus 2 (%d)", max(sh.users-2, 0))
	}
	return nil
}

// write creates everything in tx and returns user #1's first API key and a
// summary of the counts. The database must hold no user.
func (sh shape) write(ctx context.Context, tx *ent.Tx, hash string) (key string, counts string, err error) {
	taken, err := tx.User.Query().Exist(ctx)
	if err != nil {
		return "", "", err
	}
	if taken {
		return "", "", errors.New("the database already holds users: seed fills only an empty database, and wrote nothing")
	}
	// Millisecond-aligned like at sign-up, so that a token issued at once
	// is not older than the account's sessionsValidAfter.
	now := clock.Now().Truncate(time.Millisecond)

	users := make([]*ent.UserCreate, sh.users)
	for i := range users {
		name, err := account.NormalizeUsername("username", username(i+1))
		if err != nil {
			return "", "", err
		}
		email, err := account.NormalizeEmail("email", name+"@example.com")
		if err != nil {
			return "", "", err
		}
		if err := password.Validate("password", DemoPassword, name, email); err != nil {
			return "", "", err
		}
		users[i] = tx.User.Create().SetUsername(name).SetEmail(email).SetPasswordHash(hash).SetSessionsValidAfter(now)
	}
	userIDs, err := insert(users, func(b []*ent.UserCreate) ([]*ent.User, error) { return tx.User.CreateBulk(b...).Save(ctx) },
		func(u *ent.User) int { return u.ID })
	if err != nil {
		return "", "", err
	}

	// No personal organizations: user #1 administers none. Organization k's
	// administrator is one of users 2…N, in turn.
	orgs := make([]*ent.OrganizationCreate, sh.organizations)
	admins := make([]*ent.OrganizationMembershipCreate, sh.organizations)
	for k := range orgs {
		handle, err := account.NormalizeUsername("handle", "org"+strconv.Itoa(k+1))
		if err != nil {
			return "", "", err
		}
		orgs[k] = tx.Organization.Create().SetName("Organization " + strconv.Itoa(k+1)).SetHandle(handle).
			SetPlan(organization.PlanPAID)
	}
	orgIDs, err := insert(orgs, func(b []*ent.OrganizationCreate) ([]*ent.Organization, error) {
		return tx.Organization.CreateBulk(b...).Save(ctx)
	}, func(o *ent.Organization) int { return o.ID })
	if err != nil {
		return "", "", err
	}
	for k := range admins {
		admins[k] = tx.OrganizationMembership.Create().SetOrganizationID(orgIDs[k]).
			SetUserID(userIDs[sh.admin(k)]).SetRole(access.OrgAdministrator)
	}
	if err := exec(admins, func(b []*ent.OrganizationMembershipCreate) error {
		return tx.OrganizationMembership.CreateBulk(b...).Exec(ctx)
	}); err != nil {
		return "", "", err
	}

	// Applications are numbered 1…A across organizations, in order.
	// STARTER allows only DEVELOPER members (README "Organizations,
	// applications and members"), so the types are the other two.
	types := []application.Type{application.TypeESSENTIALS, application.TypeMICROSERVICES}
	apps := make([]*ent.ApplicationCreate, 0, sh.organizations*sh.appsPerOrg)
	for k, orgID := range orgIDs {
		for range sh.appsPerOrg {
			name := "app-" + strconv.Itoa(len(apps)+1)
			apps = append(apps, tx.Application.Create().SetName(name).SetSlug("org"+strconv.Itoa(k+1)+"/"+name).
				SetType(types[len(apps)%len(types)]).SetOrganizationID(orgID))
		}
	}
	appIDs, err := insert(apps, func(b []*ent.ApplicationCreate) ([]*ent.Application, error) {
		return tx.Application.CreateBulk(b...).Save(ctx)
	}, func(a *ent.Application) int { return a.ID })
	if err != nil {
		return "", "", err
	}

	var members []*ent.ApplicationMembershipCreate
	var devices []*ent.DeviceCreate
	roles := []access.Role{access.Developer, access.Operator, access.Observer}
	for a, appID := range appIDs {
		for j, u := range sh.members(a) {
			// Rotating by application and place: user #1, always first,
			// gets DEVELOPER, OPERATOR, OBSERVER on his 1st, 2nd, 3rd … (a is
			// a multiple of 10, which is 1 modulo 3).
			role := roles[(a+j)%len(roles)]
			if err := access.Assignable(role, true, types[a%len(types)] == application.TypeSTARTER); err != nil {
				return "", "", err
			}
			members = append(members, tx.ApplicationMembership.Create().SetApplicationID(appID).
				SetUserID(userIDs[u]).SetRole(role))
		}
		for range sh.devicesPerApp {
			n := len(devices) + 1
			devices = append(devices, tx.Device.Create().SetApplicationID(appID).
				SetName("device-"+strconv.Itoa(n)).SetUUID(deviceUUID(n)))
		}
	}
	if err := exec(members, func(b []*ent.ApplicationMembershipCreate) error {
		return tx.ApplicationMembership.CreateBulk(b...).Exec(ctx)
	}); err != nil {
		return "", "", err
	}
	if err := exec(devices, func(b []*ent.DeviceCreate) error { return tx.Device.CreateBulk(b...).Exec(ctx) }); err != nil {
		return "", "", err
	}

	// Keys come from the real generator (random, like every key): they
	// authenticate like keys made through createApiKey.
	keys := make([]*ent.ApiKeyCreate, 0, len(userIDs)*sh.keysPerUser)
	for _, id := range userIDs {
		for i := range sh.keysPerUser {
			k, err := apikey.Generate()
			if err != nil {
				return "", "", err
			}
			if key == "" {
				key = k // user #1's first
			}
			keys = append(keys, tx.ApiKey.Create().SetUserID(id).SetName("seed key "+strconv.Itoa(i+1)).
				SetPrefix(apikey.DisplayPrefix(k)).SetHash(apikey.Hash(k)))
		}
	}
	if err := exec(keys, func(b []*ent.ApiKeyCreate) error { return tx.ApiKey.CreateBulk(b...).Exec(ctx) }); err != nil {
		return "", "", err
	}
	counts = fmt.Sprintf("%d users, %d organizations, %d applications, %d application members "+
		"(%s in %d of them), %d devices, %d API keys",
		len(users), len(orgs), len(apps), len(members), username(1), sh.ofUser1(), len(devices), len(keys))
	return key, counts, nil
}

// username is the name of user #n (from 1).
func username(n int) string { return "user" + strconv.Itoa(n) }

// admin is the index (from 0) of the user who administers organization k
// (from 0): one of users 2…N, in turn.
func (sh shape) admin(k int) int { return 1 + k%(sh.users-1) }

// ofUser1 is how many applications user #1 is a member of.
func (sh shape) ofUser1() int { return (sh.organizations*sh.appsPerOrg + seedEvery - 1) / seedEvery }

// members lists the indexes (from 0) of the members of application a (from
// 0): user #1 first on every tenth, then users 2…N in turn, passing over
// the administrator of its organization (who administers it already).
func (sh shape) members(a int) []int {
	m := make([]int, 0, sh.membersPerApp)
	if a%seedEvery == 0 {
		m = append(m, 0)
	}
	admin := sh.admin(a / sh.appsPerOrg)
	others := sh.users - 1
	for i := a * sh.membersPerApp; len(m) < sh.membersPerApp; i++ {
		if u := 1 + i%others; u != admin {
			m = append(m, u)
		}
	}
	return m
}

// deviceUUID is device #n's uuid: 32 lowercase hex characters, as
// registerDevice requires, the same on every run.
func deviceUUID(n int) string {
	sum := sha256.Sum256([]byte("fleetgate seed device " + strconv.Itoa(n)))
	return hex.EncodeToString(sum[:16])
}

// exec runs save on the builders, chunk by chunk.
func exec[B any](builders []B, save func([]B) error) error {
	for len(builders) > 0 {
		n := min(chunk, len(builders))
		if err := save(builders[:n]); err != nil {
			return err
		}
		builders = builders[n:]
	}
	return nil
}

// insert is exec for rows whose ids are needed: it returns them, in order.
func insert[B, E any](builders []B, save func([]B) ([]E, error), id func(E) int) ([]int, error) {
	ids := make([]int, 0, len(builders))
	err := exec(builders, func(b []B) error {
		rows, err := save(b)
		for _, r := range rows {
			ids = append(ids, id(r))
		}
		return err
	})
	return ids, err
}

// Package admin holds fleetgate's operator commands, run as
// `fleetgate <command> ...` against the configured database. They do what no
// API caller may, such as changing an organization's plan or seeding an
// empty database with demo data.
package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"fleetgate/ent"
	"fleetgate/ent/organization"
	"fleetgate/internal/policy"
)

// Usage lists the commands.
const Usage = `usage:
  fleetgate                           serve the API (configured by environment variables)
  fleetgate org set-plan HANDLE PLAN  set an organization's plan (FREE or PAID)
  fleetgate seed [FLAGS]              fill an empty database with demo data (seed -h lists the flags)
  fleetgate version                   print the version
  fleetgate help                      print this`

// RunWithoutDatabase executes the command in args (without the program
// name) if it is one that needs no database, help or version, and reports
// whether it was.
func RunWithoutDatabase(args []string, out io.Writer) (bool, error) {
	if len(args) != 1 {
		return false, nil
	}
	switch args[0] {
	case "help", "-h", "--help", "-help":
		_, err := fmt.Fprintln(out, Usage)
		return true, err
	case "version":
		_, err := fmt.Fprintln(out, "fleetgate", Version())
		return true, err
	}
	return false, nil
}

// Version is the module's version as the go command stamped it, or
// "devel" (go run, go test).
func Version() string {
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "devel"
}

// Run executes the command in args (without the program name).
func Run(ctx context.Context, db *ent.Client, args []string, out io.Writer) error {
	if done, err := RunWithoutDatabase(args, out); done {
		return err
	}
	switch {
	case len(args) == 4 && args[0] == "org" && args[1] == "set-plan":
		return setPlan(ctx, db, args[2], args[3], out)
	case len(args) >= 1 && args[0] == "seed":
		return seed(ctx, db, args[1:], out)
	default:
		return fmt.Errorf("unknown command %q\n%s", strings.Join(args, " "), Usage)
	}
}

func setPlan(ctx context.Context, db *ent.Client, handle, plan string, out io.Writer) error {
	p := organization.Plan(strings.ToUpper(plan))
	if err := organization.PlanValidator(p); err != nil {
		return fmt.Errorf("plan must be FREE or PAID, not %q", plan)
	}
	// The operator acts outside of any account: past the privacy rules.
	n, err := db.Organization.Update().Where(organization.Handle(strings.ToLower(handle))).SetPlan(p).Save(policy.System(ctx))
	if err != nil {
		return err
	}
	if n == 0 {
		return errors.New("no organization with handle " + handle)
	}
	fmt.Fprintf(out, "organization %s is now on the %s plan\n", strings.ToLower(handle), p)
	return nil
}

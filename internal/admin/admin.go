// Package admin holds fleetgate's operator commands, run as
// `fleetgate <command> ...` against the configured database. They do what no
// API caller may, such as changing an organization's plan.
package admin

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"fleetgate/ent"
	"fleetgate/ent/organization"
	"fleetgate/internal/policy"
)

// Usage lists the commands.
const Usage = `usage:
  fleetgate                           serve the API (configured by environment variables)
  fleetgate org set-plan HANDLE PLAN  set an organization's plan (FREE or PAID)`

// Run executes the command in args (without the program name).
func Run(ctx context.Context, db *ent.Client, args []string, out io.Writer) error {
	switch {
	case len(args) == 4 && args[0] == "org" && args[1] == "set-plan":
		return setPlan(ctx, db, args[2], args[3], out)
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

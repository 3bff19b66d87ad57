package main

import (
	"context"
	"strings"
	"testing"

	"fleetgate/internal/apitest"
)

// TestExampleAgainstTheAPI runs the example on a real server: it signs in,
// and pages through two applications one at a time.
func TestExampleAgainstTheAPI(t *testing.T) {
	s := apitest.Start(t, apitest.Backends()[0])
	fleet := s.NewFleet(t, "ex")
	admin := s.Client(fleet.Users["ADMINISTRATOR"].Token)
	apitest.Must(apitest.CreateApplication(context.Background(), admin, apitest.CreateApplicationInput{
		OrganizationId: fleet.OrgID, Name: "Second", Type: apitest.ApplicationTypeStarter,
	}))(t)

	var out strings.Builder
	if err := run(context.Background(), s.URL+"/graphql", "ex_administrator", apitest.Password, 1, &out); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ex_administrator (id ") ||
		lines[1] != "ex_org/fleet\tADMINISTRATOR" || lines[2] != "ex_org/second\tADMINISTRATOR" {
		t.Fatalf("output:\n%s", out.String())
	}
}

package graph_test

import (
	"testing"

	"fleetgate/internal/access"
	. "fleetgate/internal/apitest"
)

func TestFleetReadsForEveryRole(t *testing.T) {
	Run(t, func(t *testing.T, s *Server) {
		f := s.NewFleet(t, "f")
		for role, u := range f.Users {
			app := Must(Application(ctx, s.Client(u.Token), f.Slug))(t).Application
			if app.MyRole != ApplicationRole(role) || app.IsShared != (role != access.Administrator) {
				t.Errorf("%s sees myRole %s isShared %v", role, app.MyRole, app.IsShared)
			}
			if app.Members.TotalCount != 3 {
				t.Errorf("%s sees %d members", role, app.Members.TotalCount)
			}
		}
	})
}

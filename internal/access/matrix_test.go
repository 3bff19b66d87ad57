package access

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

// seedTable is the "Member types" table of the product documentation the
// role matrix comes from, copied verbatim.
const seedTable = `
| Member Type   | [Add members][administrator]   | Delete App  | Add/Remove device  | [Device actions][device-actions]  | [Tags][tags] | [Variables][variables] | [SSH access][ssh] | [Push][deploy] | [Configuration][configuration] | Fleet actions |
| ------------- |:-------------:| ----:| ----:| ----:| ----:| ----:| ----:| ----:| ----:| ----:|
| Administrator | Yes      | Yes  | Yes  | Yes  | Yes  | Yes | Yes | Yes | Yes | Yes |
| Developer     | No       | No   | Yes  | Yes  | Yes  | Yes | Yes | Yes | Yes | Yes |
| Operator      | No       | No   | Yes  | Yes  | Yes  | Yes | Yes | No  | No  | No  |
| Observer      | No       | No   | No   | No   | No   | No  | No  | No  | No  | No  |
`

// TestMatrixMatchesSeed pins the table to the seed cell by cell: columns in
// the seed's order are the permissions in Permissions() order.
func TestMatrixMatchesSeed(t *testing.T) {
	rows := 0
	for _, line := range strings.Split(strings.TrimSpace(seedTable), "\n")[2:] {
		cells := strings.Split(strings.Trim(line, "| "), "|")
		role := Role(strings.ToUpper(strings.TrimSpace(cells[0])))
		if len(cells)-1 != len(Permissions()) {
			t.Fatalf("%s: %d cells, %d permissions", role, len(cells)-1, len(Permissions()))
		}
		for i, p := range Permissions() {
			want := strings.TrimSpace(cells[i+1]) == "Yes"
			if got := role.Allows(p); got != want {
				t.Errorf("%s × %s: matrix says %v, seed says %v", role, p, got, want)
			}
		}
		rows++
	}
	if rows != len(Role("").Values()) {
		t.Fatalf("seed has %d roles, we have %d", rows, len(Role("").Values()))
	}
}

func TestPermissionsFollowAllows(t *testing.T) {
	for _, name := range Role("").Values() {
		r := Role(name)
		var want []Permission
		for _, p := range Permissions() {
			if r.Allows(p) {
				want = append(want, p)
			}
		}
		if got := r.Permissions(); !slices.Equal(got, want) {
			t.Errorf("%s: Permissions() = %v, want %v", r, got, want)
		}
	}
	if Role("").Allows(AddMembers) || len(Role("").Permissions()) != 0 {
		t.Error("no role must grant nothing")
	}
}

func TestEffective(t *testing.T) {
	cases := []struct {
		org    OrgRole
		member Role
		want   Role
	}{
		{OrgAdministrator, "", Administrator},
		{OrgAdministrator, Observer, Administrator},
		{OrgMember, Operator, Operator},
		{OrgMember, "", ""},
		{"", Developer, Developer},
		{"", "", ""},
	}
	for _, c := range cases {
		if got := Effective(c.org, c.member); got != c.want {
			t.Errorf("Effective(%q, %q) = %q, want %q", c.org, c.member, got, c.want)
		}
	}
}

func TestAssignable(t *testing.T) {
	cases := []struct {
		role          Role
		paid, starter bool
		want          error
	}{
		{Developer, false, false, nil},
		{Developer, false, true, nil},
		{Developer, true, true, nil},
		{Operator, true, false, nil},
		{Observer, true, false, nil},
		{Operator, false, false, ErrPaidPlanRole},
		{Observer, false, false, ErrPaidPlanRole},
		{Observer, true, true, ErrStarterDeveloperOnly},
		{Operator, false, true, ErrStarterDeveloperOnly},
		{Administrator, true, false, ErrAdministratorByOrganization},
	}
	for _, c := range cases {
		if got := Assignable(c.role, c.paid, c.starter); !errors.Is(got, c.want) {
			t.Errorf("Assignable(%s, paid=%v, starter=%v) = %v, want %v", c.role, c.paid, c.starter, got, c.want)
		}
	}
}

func TestPermissionGQL(t *testing.T) {
	for _, p := range Permissions() {
		var got Permission
		if err := got.UnmarshalGQL(string(p)); err != nil || got != p {
			t.Errorf("UnmarshalGQL(%s) = %s, %v", p, got, err)
		}
	}
	var p Permission
	for _, bad := range []any{"READ", "", 3, nil} {
		if p.UnmarshalGQL(bad) == nil {
			t.Errorf("UnmarshalGQL(%v) accepted", bad)
		}
	}
}

// TestREADMEMatrix pins the table README.md renders to the matrix.
func TestREADMEMatrix(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, table, ok := strings.Cut(string(readme), "<!-- matrix:begin -->\n")
	table, _, ok2 := strings.Cut(table, "<!-- matrix:end -->")
	if !ok || !ok2 {
		t.Fatal("README.md has no matrix markers")
	}
	var want strings.Builder
	want.WriteString("| role |")
	for _, p := range Permissions() {
		want.WriteString(" " + string(p) + " |")
	}
	want.WriteString("\n|---|" + strings.Repeat("---|", len(Permissions())) + "\n")
	for _, name := range Role("").Values() {
		want.WriteString("| " + name + " |")
		for _, p := range Permissions() {
			cell := "no"
			if Role(name).Allows(p) {
				cell = "yes"
			}
			want.WriteString(" " + cell + " |")
		}
		want.WriteString("\n")
	}
	if table != want.String() {
		t.Fatalf("README.md's matrix differs from the table; it should read:\n%s", want.String())
	}
}

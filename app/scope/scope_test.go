package scope_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/keyward/keyward/app/scope"
)

func mustParse(t *testing.T, s string) scope.Set {
	t.Helper()
	set, err := scope.ParseString(s)
	if err != nil {
		t.Fatalf("ParseString(%q): %v", s, err)
	}
	return set
}

func TestAreaFor(t *testing.T) {
	tests := []struct {
		path string
		want scope.Area
	}{
		// One row per documented prefix.
		{"/4/worklogs", scope.AreaWorklogs},
		{"/4/work-attributes", scope.AreaWorklogs},
		{"/4/teams", scope.AreaTeams},
		{"/4/team-memberships", scope.AreaTeams},
		{"/4/team-links", scope.AreaTeams},
		{"/4/roles", scope.AreaTeams},
		{"/4/workload-schemes", scope.AreaSchemes},
		{"/4/holiday-schemes", scope.AreaSchemes},
		{"/4/user-schedule", scope.AreaSchemes},
		{"/4/plans", scope.AreaPlans},
		{"/4/programs", scope.AreaPlans},
		{"/4/periods", scope.AreaPeriods},
		{"/4/timesheet-approvals", scope.AreaApprovals},
		{"/4/accounts", scope.AreaAccounts},
		{"/4/account-categories", scope.AreaAccounts},
		{"/4/account-category-types", scope.AreaAccounts},
		{"/4/account-links", scope.AreaAccounts},
		{"/4/customers", scope.AreaAccounts},
		{"/4/projects", scope.AreaFinancials},
		{"/4/rates", scope.AreaFinancials},
		{"/4/financial", scope.AreaFinancials},

		// Deeper paths and trailing slashes stay in the area.
		{"/4/worklogs/123", scope.AreaWorklogs},
		{"/4/worklogs/", scope.AreaWorklogs},
		{"/4/worklogs/search", scope.AreaWorklogs},
		{"/4/teams/12/links", scope.AreaTeams},
		{"/4/teams/12/generic-resources/3", scope.AreaTeams},
		{"/4/timesheet-approvals/user/557058:abc/approve", scope.AreaApprovals},
		{"/4/worklogs/issue/10001/", scope.AreaWorklogs},
		{"/4/accounts/%41BC", scope.AreaAccounts}, // harmless escape
		{"/4/worklogs/./1", scope.AreaWorklogs},   // single dot is not traversal

		// Segment boundaries.
		{"/4/teamsfoo", scope.AreaUnknown},
		{"/4/team", scope.AreaUnknown},
		{"/4/worklog", scope.AreaUnknown},
		{"/4/worklogsx/1", scope.AreaUnknown},
		{"/4/teams-x", scope.AreaUnknown},
		{"/4/account", scope.AreaUnknown},
		{"/4/financials", scope.AreaUnknown},
		{"/4/financial-manager", scope.AreaUnknown},
		{"/4/teams;x=1", scope.AreaUnknown},

		// Query strings are ignored.
		{"/4/worklogs?from=2024-01-01&to=2024-01-31", scope.AreaWorklogs},
		{"/4/worklogs/?x=/../teams", scope.AreaWorklogs},
		{"/4/teamsfoo?x=/4/teams", scope.AreaUnknown},
		{"/4/worklogs?", scope.AreaWorklogs},
		{"?/4/worklogs", scope.AreaUnknown},

		// Version, case and shape.
		{"", scope.AreaUnknown},
		{"/", scope.AreaUnknown},
		{"/4", scope.AreaUnknown},
		{"/4/", scope.AreaUnknown},
		{"4/worklogs", scope.AreaUnknown},
		{"/3/worklogs", scope.AreaUnknown},
		{"/core/3/worklogs", scope.AreaUnknown},
		{"/40/worklogs", scope.AreaUnknown},
		{"/4worklogs", scope.AreaUnknown},
		{"/4/Worklogs", scope.AreaUnknown},
		{"/4/WORKLOGS", scope.AreaUnknown},
		{"/cost-tracker/1/projects", scope.AreaUnknown},
		{"/4/skills", scope.AreaUnknown},
		{"/4/generic-resources", scope.AreaUnknown},
		{"/4/permission-roles", scope.AreaUnknown},
		{"https://api.tempo.io/4/worklogs", scope.AreaUnknown},

		// Traversal and normalisation tricks.
		{"/4/worklogs/../teams", scope.AreaUnknown},
		{"/4/worklogs/..", scope.AreaUnknown},
		{"/4/../4/teams", scope.AreaUnknown},
		{"/4/worklogs/..;/teams", scope.AreaUnknown},
		{"/4/worklogs/a..b", scope.AreaUnknown},
		{"//4/worklogs", scope.AreaUnknown},
		{"/4//worklogs", scope.AreaUnknown},
		{"/4/worklogs//1", scope.AreaUnknown},
		{"/4/worklogs%2f..%2fteams", scope.AreaUnknown},
		{"/4/worklogs%2F1", scope.AreaUnknown},
		{"/4/worklogs/%2e%2e/teams", scope.AreaUnknown},
		{"/4/worklogs/%2E%2E/teams", scope.AreaUnknown},
		{"/4/worklogs/.%2e/teams", scope.AreaUnknown},
		{"/4/worklogs/%252e%252e/teams", scope.AreaUnknown},
		{"/4/worklogs/%5c..%5cteams", scope.AreaUnknown},
		{"/4/worklogs\\..\\teams", scope.AreaUnknown},
		{"/4/worklogs%", scope.AreaUnknown},
		{"/4/worklogs%2", scope.AreaUnknown},
		{"/4/worklogs%zz", scope.AreaUnknown},
		{"/4/worklogs#frag", scope.AreaUnknown},
		{"/4/worklogs/1\x00", scope.AreaUnknown},
		{"/4/worklogs/ 1", scope.AreaUnknown},
		{"/4/worklogs/1\t", scope.AreaUnknown},
		{"/4/worklogs/1\x7f", scope.AreaUnknown},
	}
	for _, tt := range tests {
		if got := scope.AreaFor(tt.path); got != tt.want {
			t.Errorf("AreaFor(%q) = %v, want %v", tt.path, got, tt.want)
		}
	}
}

func TestAllows(t *testing.T) {
	var (
		none        = scope.Set{}
		full        = scope.Set{Full: true}
		worklogView = mustParse(t, "worklogs:view")
		worklogMgmt = mustParse(t, "worklogs:manage")
		mixed       = mustParse(t, "teams:manage accounts:view financials:view")
		every       = mustParse(t, "worklogs:manage teams:manage schemes:manage plans:manage periods:manage approvals:manage accounts:manage financials:manage")
	)
	tests := []struct {
		name   string
		set    scope.Set
		method string
		path   string
		want   bool
	}{
		{"view GET", worklogView, "GET", "/4/worklogs", true},
		{"view HEAD", worklogView, "HEAD", "/4/worklogs/1", true},
		{"view OPTIONS", worklogView, "OPTIONS", "/4/work-attributes", true},
		{"view POST", worklogView, "POST", "/4/worklogs", false},
		{"view POST search (read-only)", worklogView, "POST", "/4/worklogs/search", true},
		{"view POST search with query", worklogView, "POST", "/4/worklogs/search?limit=5", true},
		{"view POST not-search suffix", worklogView, "POST", "/4/worklogs/researchers", false},
		{"view PUT search", worklogView, "PUT", "/4/worklogs/search", false},
		{"view PUT", worklogView, "PUT", "/4/worklogs/1", false},
		{"view PATCH", worklogView, "PATCH", "/4/worklogs/1", false},
		{"view DELETE", worklogView, "DELETE", "/4/worklogs/1", false},
		{"view lower-case get", worklogView, "get", "/4/worklogs", false},
		{"view empty method", worklogView, "", "/4/worklogs", false},
		{"view other area", worklogView, "GET", "/4/teams", false},
		{"view traversal to other area", worklogView, "GET", "/4/worklogs/../teams", false},

		{"manage GET", worklogMgmt, "GET", "/4/worklogs", true},
		{"manage POST", worklogMgmt, "POST", "/4/worklogs", true},
		{"manage DELETE", worklogMgmt, "DELETE", "/4/worklogs/9", true},
		{"manage unknown method", worklogMgmt, "PROPFIND", "/4/worklogs/9", true},
		{"manage other area", worklogMgmt, "GET", "/4/plans", false},

		{"mixed teams PUT", mixed, "PUT", "/4/team-memberships/3", true},
		{"mixed roles DELETE", mixed, "DELETE", "/4/roles/3", true},
		{"mixed accounts GET", mixed, "GET", "/4/customers/7", true},
		{"mixed accounts POST", mixed, "POST", "/4/accounts/1", false},
		{"mixed accounts POST search", mixed, "POST", "/4/accounts/search", true},
		{"mixed financials GET", mixed, "GET", "/4/rates", true},
		{"mixed worklogs GET", mixed, "GET", "/4/worklogs", false},

		{"every area: unknown path", every, "GET", "/4/skills", false},
		{"every area: other version", every, "GET", "/3/worklogs", false},
		{"every area: known path", every, "DELETE", "/4/periods", true},

		{"full unknown path", full, "DELETE", "/4/skills/1", true},
		{"full traversal", full, "GET", "/4/worklogs/../teams", true},
		{"full empty path", full, "GET", "", true},
		{"full known path", full, "POST", "/4/worklogs", true},

		{"none GET", none, "GET", "/4/worklogs", false},
		{"none unknown", none, "GET", "/4/skills", false},
		{"none empty path", none, "GET", "", false},
	}
	for _, tt := range tests {
		if got := tt.set.Allows(tt.method, tt.path); got != tt.want {
			t.Errorf("%s: %v.Allows(%q, %q) = %v, want %v", tt.name, tt.set, tt.method, tt.path, got, tt.want)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want string // canonical String(), when no error
	}{
		{"nil", nil, ""},
		{"empty", []string{}, ""},
		{"single view", []string{"worklogs:view"}, "worklogs:view"},
		{"canonical order", []string{"worklogs:manage", "accounts:view", "teams:view"}, "accounts:view teams:view worklogs:manage"},
		{"duplicate", []string{"plans:view", "plans:view"}, "plans:view"},
		{"manage wins", []string{"plans:view", "plans:manage", "plans:view"}, "plans:manage"},
		{"full alone", []string{"full"}, "full"},
		{"full with others", []string{"worklogs:view", "full", "teams:manage"}, "full"},
		{"full twice", []string{"full", "full"}, "full"},
		{"every area", []string{"financials:view", "approvals:manage", "periods:view", "schemes:view", "plans:manage"},
			"approvals:manage financials:view periods:view plans:manage schemes:view"},
	}
	for _, tt := range tests {
		set, err := scope.Parse(tt.in)
		if err != nil {
			t.Errorf("%s: Parse(%q): %v", tt.name, tt.in, err)
			continue
		}
		if got := set.String(); got != tt.want {
			t.Errorf("%s: Parse(%q) = %q, want %q", tt.name, tt.in, got, tt.want)
		}
		again, err := scope.ParseString(set.String())
		if err != nil || again != set {
			t.Errorf("%s: ParseString(String()) = %v, %v; want %v", tt.name, again, err, set)
		}
	}
	if a, b := mustParse(t, "full worklogs:view"), (scope.Set{Full: true}); a != b {
		t.Errorf("full with others = %#v, want %#v (canonical)", a, b)
	}
}

func TestParseErrors(t *testing.T) {
	in := []string{"worklogs:view", "foo:view", "Worklogs:view", "worklogs", "worklogs:edit", "",
		"full:view", " teams:view", "teams:view:x", "unknown:view", "teams:none", "teams:view"}
	set, err := scope.Parse(in)
	if set != (scope.Set{}) {
		t.Errorf("Parse with errors returned %v, want zero Set", set)
	}
	var pe *scope.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("Parse error = %v (%T), want *ParseError", err, err)
	}
	wantIdx := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	var gotIdx []int
	for _, p := range pe.Problems {
		gotIdx = append(gotIdx, p.Index)
		if p.Scope != in[p.Index] {
			t.Errorf("problem %d Scope = %q, want %q", p.Index, p.Scope, in[p.Index])
		}
	}
	if !slices.Equal(gotIdx, wantIdx) {
		t.Errorf("problem indexes = %v, want %v", gotIdx, wantIdx)
	}
	if got, want := pe.Problems[0].Message, `unknown scope "foo:view"`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	if got, want := pe.Problems[4].Message, `unknown scope ""`; got != want {
		t.Errorf("message = %q, want %q", got, want)
	}
	const wantErr = `scope: unknown scope "foo:view"; unknown scope "Worklogs:view"; unknown scope "worklogs"; ` +
		`unknown scope "worklogs:edit"; unknown scope ""; unknown scope "full:view"; unknown scope " teams:view"; ` +
		`unknown scope "teams:view:x"; unknown scope "unknown:view"; unknown scope "teams:none"`
	if err.Error() != wantErr {
		t.Errorf("Error() =\n%s\nwant\n%s", err.Error(), wantErr)
	}

	long := string(make([]byte, 1000))
	_, err = scope.Parse([]string{long})
	if !errors.As(err, &pe) || len(pe.Problems[0].Message) > 400 {
		t.Errorf("long entry message not capped: %d bytes", len(err.Error()))
	}
}

func TestParseString(t *testing.T) {
	set := mustParse(t, "  worklogs:view\tteams:manage  worklogs:manage ")
	if got, want := set.String(), "teams:manage worklogs:manage"; got != want {
		t.Errorf("ParseString = %q, want %q", got, want)
	}
	if set := mustParse(t, ""); set != (scope.Set{}) {
		t.Errorf(`ParseString("") = %v, want zero`, set)
	}
	_, err := scope.ParseString("worklogs:view bogus")
	var pe *scope.ParseError
	if !errors.As(err, &pe) || len(pe.Problems) != 1 || pe.Problems[0].Index != 1 {
		t.Errorf("ParseString error = %v, want one problem at index 1", err)
	}
}

func TestStrings(t *testing.T) {
	if got := (scope.Set{}).Strings(); got == nil || len(got) != 0 {
		t.Errorf("zero Set Strings() = %#v, want empty non-nil", got)
	}
	if got := (scope.Set{}).String(); got != "" {
		t.Errorf("zero Set String() = %q", got)
	}
	if got := (scope.Set{Full: true}).Strings(); !slices.Equal(got, []string{"full"}) {
		t.Errorf("full Strings() = %q", got)
	}
	set := scope.Set{}.With(scope.AreaWorklogs, scope.LevelView).With(scope.AreaAccounts, scope.LevelManage)
	if got, want := set.Strings(), []string{"accounts:manage", "worklogs:view"}; !slices.Equal(got, want) {
		t.Errorf("Strings() = %q, want %q", got, want)
	}
}

func TestLevelAndWith(t *testing.T) {
	set := mustParse(t, "teams:view plans:manage")
	tests := []struct {
		area scope.Area
		want scope.Level
	}{
		{scope.AreaTeams, scope.LevelView},
		{scope.AreaPlans, scope.LevelManage},
		{scope.AreaWorklogs, scope.LevelNone},
		{scope.AreaUnknown, scope.LevelNone},
		{scope.Area(200), scope.LevelNone},
	}
	for _, tt := range tests {
		if got := set.Level(tt.area); got != tt.want {
			t.Errorf("Level(%v) = %v, want %v", tt.area, got, tt.want)
		}
	}
	full := scope.Set{Full: true}
	for _, a := range append(scope.All(), scope.AreaUnknown) {
		if got := full.Level(a); got != scope.LevelManage {
			t.Errorf("full.Level(%v) = %v, want manage", a, got)
		}
	}
	if got := set.With(scope.AreaPlans, scope.LevelNone).String(); got != "teams:view" {
		t.Errorf("With(plans, none) = %q", got)
	}
	if got := set.With(scope.AreaUnknown, scope.LevelManage); got != set {
		t.Errorf("With(unknown) changed the set: %v", got)
	}
	if got := set.With(scope.AreaTeams, scope.Level(9)); got != set {
		t.Errorf("With(invalid level) changed the set: %v", got)
	}
	if got := full.With(scope.AreaTeams, scope.LevelNone); got != full {
		t.Errorf("With on full = %v, want full unchanged", got)
	}
}

func TestWithinAndIntersect(t *testing.T) {
	var (
		none   = scope.Set{}
		full   = scope.Set{Full: true}
		wlView = mustParse(t, "worklogs:view")
		wlMgmt = mustParse(t, "worklogs:manage")
		teams  = mustParse(t, "teams:manage worklogs:view")
		every  = mustParse(t, "worklogs:manage teams:manage schemes:manage plans:manage periods:manage approvals:manage accounts:manage financials:manage")
	)
	within := []struct {
		name      string
		s, ceil   scope.Set
		want      bool
		intersect scope.Set
	}{
		{"none in none", none, none, true, none},
		{"none in full", none, full, true, none},
		{"view in manage", wlView, wlMgmt, true, wlView},
		{"manage in view", wlMgmt, wlView, false, wlView},
		{"view in teams ceiling", wlView, teams, true, wlView},
		{"manage in teams ceiling", wlMgmt, teams, false, wlView},
		{"teams in view", teams, wlView, false, wlView},
		{"anything in full", teams, full, true, teams},
		{"full in full", full, full, true, full},
		{"full in every area", full, every, false, every},
		{"every area in full", every, full, true, every},
		{"full in none", full, none, false, none},
		{"view in none", wlView, none, false, none},
	}
	for _, tt := range within {
		if got := tt.s.Within(tt.ceil); got != tt.want {
			t.Errorf("%s: %v.Within(%v) = %v, want %v", tt.name, tt.s, tt.ceil, got, tt.want)
		}
		if got := tt.s.Intersect(tt.ceil); got != tt.intersect {
			t.Errorf("%s: %v.Intersect(%v) = %v, want %v", tt.name, tt.s, tt.ceil, got, tt.intersect)
		}
		if got := tt.ceil.Intersect(tt.s); got != tt.intersect {
			t.Errorf("%s: Intersect not symmetric: %v", tt.name, got)
		}
		if got := tt.s.Intersect(tt.ceil); !got.Within(tt.s) || !got.Within(tt.ceil) {
			t.Errorf("%s: intersection %v not within both", tt.name, got)
		}
	}
}

func TestNames(t *testing.T) {
	want := []string{"worklogs", "teams", "schemes", "plans", "periods", "approvals", "accounts", "financials"}
	var got []string
	for _, a := range scope.All() {
		got = append(got, a.String())
	}
	if !slices.Equal(got, want) {
		t.Errorf("All() names = %q, want %q", got, want)
	}
	if scope.AreaUnknown.String() != "unknown" || scope.Area(99).String() != "area(99)" {
		t.Error("unexpected names for unknown areas")
	}
	for l, name := range map[scope.Level]string{scope.LevelNone: "none", scope.LevelView: "view", scope.LevelManage: "manage", 7: "level(7)"} {
		if l.String() != name {
			t.Errorf("Level(%d).String() = %q, want %q", l, l.String(), name)
		}
	}
}

package scope_test

import (
	"strings"
	"testing"

	"github.com/keyward/keyward/app/scope"
)

// FuzzAllows checks that Allows and AreaFor never panic and keep their
// invariants: Full allows everything, the zero Set nothing, unknown areas
// need Full, view-only grants never allow a non-view method, and traversal
// markers always make a path unknown.
func FuzzAllows(f *testing.F) {
	for _, seed := range []struct{ method, path string }{
		{"GET", "/4/worklogs"},
		{"POST", "/4/teams/12/links?x=1"},
		{"DELETE", "/4/worklogs/../teams"},
		{"GET", "/4/worklogs/%2e%2e/teams"},
		{"get", "/4//worklogs"},
		{"", ""},
		{"OPTIONS", "/4/teamsfoo"},
		{"PUT", "/4/accounts%2Fx"},
	} {
		f.Add(seed.method, seed.path)
	}
	viewAll := scope.Set{}
	manageAll := scope.Set{}
	for _, a := range scope.All() {
		viewAll = viewAll.With(a, scope.LevelView)
		manageAll = manageAll.With(a, scope.LevelManage)
	}
	f.Fuzz(func(t *testing.T, method, path string) {
		area := scope.AreaFor(path)
		if !(scope.Set{Full: true}).Allows(method, path) {
			t.Fatal("full denied")
		}
		if (scope.Set{}).Allows(method, path) {
			t.Fatal("zero Set allowed")
		}
		p, _, _ := strings.Cut(path, "?")
		isView := method == "GET" || method == "HEAD" || method == "OPTIONS" || (method == "POST" && strings.HasSuffix(p, "/search"))
		if got, want := viewAll.Allows(method, path), area != scope.AreaUnknown && isView; got != want {
			t.Fatalf("view-all Allows(%q, %q) = %v, want %v (area %v)", method, path, got, want, area)
		}
		if got, want := manageAll.Allows(method, path), area != scope.AreaUnknown; got != want {
			t.Fatalf("manage-all Allows(%q, %q) = %v, want %v", method, path, got, want)
		}
		if area == scope.AreaUnknown {
			return
		}
		only := scope.Set{}.With(area, scope.LevelManage)
		if !only.Allows(method, path) {
			t.Fatalf("Set granting %v denied %q %q", area, method, path)
		}
		if !strings.HasPrefix(p, "/4/") || strings.Contains(p, "..") || strings.Contains(p, "//") ||
			strings.Contains(strings.ToLower(p), "%2f") || strings.Contains(strings.ToLower(p), "%2e") {
			t.Fatalf("AreaFor(%q) = %v, want unknown", path, area)
		}
	})
}

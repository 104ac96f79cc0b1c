package scope_test

import (
	"testing"

	"github.com/keyward/keyward/app/scope"
)

func TestAllowsAndAreaForDoNotAllocate(t *testing.T) {
	set := mustParse(t, "worklogs:view teams:manage")
	paths := []string{
		"/4/worklogs/123?from=2024-01-01&to=2024-01-31",
		"/4/teams/12/links",
		"/4/skills",
		"/4/worklogs/%2e%2e/teams",
		"",
	}
	for _, p := range paths {
		if n := testing.AllocsPerRun(1000, func() { _ = scope.AreaFor(p) }); n != 0 {
			t.Errorf("AreaFor(%q): %v allocations, want 0", p, n)
		}
		if n := testing.AllocsPerRun(1000, func() { _ = set.Allows("POST", p) }); n != 0 {
			t.Errorf("Allows(POST, %q): %v allocations, want 0", p, n)
		}
	}
}

// BenchmarkAllows target: under 100 ns/op and 0 allocs/op; it runs on
// every proxied Tempo request.
func BenchmarkAllows(b *testing.B) {
	set, err := scope.ParseString("worklogs:view teams:manage accounts:view")
	if err != nil {
		b.Fatal(err)
	}
	const path = "/4/worklogs/issue/10001?from=2024-01-01&to=2024-01-31&limit=5000"
	b.ReportAllocs()
	for b.Loop() {
		if !set.Allows("GET", path) {
			b.Fatal("denied")
		}
	}
}

// BenchmarkAreaFor target: under 100 ns/op and 0 allocs/op.
func BenchmarkAreaFor(b *testing.B) {
	const path = "/4/timesheet-approvals/user/557058:0a1b2c3d/reviewers"
	b.ReportAllocs()
	for b.Loop() {
		if scope.AreaFor(path) != scope.AreaApprovals {
			b.Fatal("wrong area")
		}
	}
}

package scope

import (
	"slices"
	"strings"
	"testing"
)

func TestRoutesSorted(t *testing.T) {
	if !slices.IsSortedFunc(routes[:], func(a, b route) int { return strings.Compare(a.segment, b.segment) }) {
		t.Fatal("routes must be sorted by segment for binary search")
	}
	for i := 1; i < len(routes); i++ {
		if routes[i].segment == routes[i-1].segment {
			t.Fatalf("duplicate route segment %q", routes[i].segment)
		}
	}
	for _, r := range routes {
		if !r.area.valid() || r.segment == "" || strings.ContainsAny(r.segment, "/?%.") {
			t.Errorf("bad route %+v", r)
		}
		if got := AreaFor("/4/" + r.segment); got != r.area {
			t.Errorf("AreaFor(/4/%s) = %v, want %v", r.segment, got, r.area)
		}
	}
}

func TestEveryAreaHasARoute(t *testing.T) {
	for _, a := range All() {
		if !slices.ContainsFunc(routes[:], func(r route) bool { return r.area == a }) {
			t.Errorf("area %v has no route", a)
		}
	}
}

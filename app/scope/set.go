package scope

import (
	"slices"
	"strings"
)

// Set is what a credential may do: either Full access, or a Level per area.
// It is a comparable value; the zero Set grants nothing. Sets built by
// [Parse] are canonical (a Full set has no per-area levels), so == compares
// meaning.
type Set struct {
	// Full grants every method on every path, including paths that map to
	// AreaUnknown.
	Full   bool
	levels [numAreas]Level
}

// Level returns the level s grants on a: LevelManage everywhere when s is
// Full, otherwise the granted level (LevelNone for AreaUnknown).
func (s Set) Level(a Area) Level {
	if s.Full {
		return LevelManage
	}
	if !a.valid() {
		return LevelNone
	}
	return s.levels[a-1]
}

// With returns a copy of s that grants exactly l on a. It returns s
// unchanged when s is Full (which already grants everything) or a is not a
// grantable area.
func (s Set) With(a Area, l Level) Set {
	if s.Full || !a.valid() || l > LevelManage {
		return s
	}
	s.levels[a-1] = l
	return s
}

// Allows reports whether s permits an HTTP request with this method to this
// Tempo API path (see [AreaFor] for how paths map to areas). GET, HEAD and
// OPTIONS need view; any other method, including an unrecognised or
// lower-case one, needs manage; paths outside every area need Full. It does
// not allocate.
func (s Set) Allows(method, path string) bool {
	if s.Full {
		return true
	}
	a := AreaFor(path)
	if a == AreaUnknown {
		return false
	}
	return s.levels[a-1] >= required(method, path)
}

// required returns the level a request needs. Methods are case-sensitive
// (RFC 9110), so "get" needs manage. Tempo's read-only search endpoints
// (POST …/search, e.g. /4/worklogs/search) take their query in a POST body
// and need only view.
func required(method, path string) Level {
	switch method {
	case "GET", "HEAD", "OPTIONS":
		return LevelView
	case "POST":
		if isSearch(path) {
			return LevelView
		}
	}
	return LevelManage
}

// isSearch reports whether the path's last segment (before any query) is
// "search".
func isSearch(path string) bool {
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	return strings.HasSuffix(path, "/search")
}

// Within reports whether s grants nothing beyond ceiling: every area at no
// more than ceiling's level, and Full only if ceiling is Full. Use it to
// check a request against a policy ceiling or an OAuth client's allowed
// scopes.
func (s Set) Within(ceiling Set) bool {
	if ceiling.Full {
		return true
	}
	if s.Full {
		return false
	}
	for i, l := range s.levels {
		if l > ceiling.levels[i] {
			return false
		}
	}
	return true
}

// Intersect returns what both s and o grant: the lower level per area, and
// Full only if both are Full.
func (s Set) Intersect(o Set) Set {
	switch {
	case s.Full:
		return o
	case o.Full:
		return s
	}
	for i := range s.levels {
		s.levels[i] = min(s.levels[i], o.levels[i])
	}
	return s
}

// Strings returns the canonical textual form of s: ["full"] when Full,
// otherwise one "<area>:<level>" entry per granted area (the highest level
// only), sorted. It returns an empty, non-nil slice for the zero Set.
func (s Set) Strings() []string {
	if s.Full {
		return []string{"full"}
	}
	out := []string{}
	for i, l := range s.levels {
		if l != LevelNone {
			out = append(out, Area(i+1).String()+":"+l.String())
		}
	}
	slices.Sort(out)
	return out
}

// String returns Strings joined with single spaces, the form of an OAuth
// scope parameter; "" for the zero Set.
func (s Set) String() string {
	return strings.Join(s.Strings(), " ")
}

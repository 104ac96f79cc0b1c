// Package scope models which Tempo REST API areas a keyward credential may
// use, after Tempo's own custom token scopes: each area is granted at view
// level (GET, HEAD and OPTIONS only) or manage level (every method), or the
// credential has full access to everything, including paths no area covers.
//
// The textual form of a grant is "<area>:view" or "<area>:manage", e.g.
// "worklogs:view"; full access is the single word "full". A set of grants is
// written space-separated, as in an OAuth scope parameter.
package scope

import "strconv"

// Area is a group of Tempo REST API resources granted together.
type Area uint8

// The areas, in the order Tempo's token screen lists them. AreaUnknown is
// what [AreaFor] returns for a path outside every area; only full access
// reaches it.
const (
	AreaUnknown    Area = iota
	AreaWorklogs        // worklogs, work attributes
	AreaTeams           // teams, memberships, team links, roles
	AreaSchemes         // workload schemes, holiday schemes, user schedule
	AreaPlans           // plans, programs
	AreaPeriods         // periods
	AreaApprovals       // timesheet approvals
	AreaAccounts        // accounts, categories, category types, links, customers
	AreaFinancials      // Financial Manager: projects, rates

	numAreas = int(AreaFinancials)
)

// All returns every grantable area (not AreaUnknown), in declaration order.
func All() []Area {
	areas := make([]Area, numAreas)
	for i := range areas {
		areas[i] = Area(i + 1)
	}
	return areas
}

// String returns the area's name as used in scope strings, e.g. "worklogs".
func (a Area) String() string {
	switch a {
	case AreaUnknown:
		return "unknown"
	case AreaWorklogs:
		return "worklogs"
	case AreaTeams:
		return "teams"
	case AreaSchemes:
		return "schemes"
	case AreaPlans:
		return "plans"
	case AreaPeriods:
		return "periods"
	case AreaApprovals:
		return "approvals"
	case AreaAccounts:
		return "accounts"
	case AreaFinancials:
		return "financials"
	}
	return "area(" + strconv.Itoa(int(a)) + ")"
}

// valid reports whether a is a grantable area.
func (a Area) valid() bool {
	return a > AreaUnknown && int(a) <= numAreas
}

// areaNamed returns the grantable area called name, or AreaUnknown.
func areaNamed(name string) Area {
	for a := AreaWorklogs; int(a) <= numAreas; a++ {
		if a.String() == name {
			return a
		}
	}
	return AreaUnknown
}

// Level is how much of an area is granted. Levels are ordered: manage
// includes view.
type Level uint8

// The levels, from nothing to everything.
const (
	LevelNone   Level = iota // nothing
	LevelView                // GET, HEAD and OPTIONS requests
	LevelManage              // requests with any method
)

// String returns "none", "view" or "manage".
func (l Level) String() string {
	switch l {
	case LevelNone:
		return "none"
	case LevelView:
		return "view"
	case LevelManage:
		return "manage"
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// levelNamed returns the level called name; only "view" and "manage" can
// be granted.
func levelNamed(name string) (Level, bool) {
	switch name {
	case "view":
		return LevelView, true
	case "manage":
		return LevelManage, true
	}
	return LevelNone, false
}

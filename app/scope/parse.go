package scope

import (
	"strconv"
	"strings"
)

// fullScope is the scope string that grants everything.
const fullScope = "full"

// maxQuoted caps how much of a bad entry an error message repeats.
const maxQuoted = 64

// Problem is one entry that Parse could not accept.
type Problem struct {
	Index   int    // position of the entry in the input
	Scope   string // the entry as given
	Message string // e.g. `unknown scope "foo:view"`, ready to show on a form field
}

// ParseError lists every entry that Parse could not accept, in input order.
type ParseError struct {
	Problems []Problem
}

// Error joins the problems' messages.
func (e *ParseError) Error() string {
	msgs := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		msgs[i] = p.Message
	}
	return "scope: " + strings.Join(msgs, "; ")
}

// Parse builds a Set from scope strings such as "worklogs:view",
// "teams:manage" or "full". Matching is exact and case-sensitive. Duplicates
// collapse and the higher level wins ("worklogs:view worklogs:manage" is
// worklogs:manage); "full" anywhere makes the whole Set Full. An empty list
// gives the zero Set. If any entry is not a known scope, Parse returns the
// zero Set and a *ParseError naming every such entry.
func Parse(scopes []string) (Set, error) {
	var s Set
	var problems []Problem
	for i, entry := range scopes {
		if entry == fullScope {
			s.Full = true
			continue
		}
		name, levelName, _ := strings.Cut(entry, ":")
		a := areaNamed(name)
		l, ok := levelNamed(levelName)
		if a == AreaUnknown || !ok {
			problems = append(problems, Problem{
				Index:   i,
				Scope:   entry,
				Message: "unknown scope " + quote(entry),
			})
			continue
		}
		s.levels[a-1] = max(s.levels[a-1], l)
	}
	if problems != nil {
		return Set{}, &ParseError{Problems: problems}
	}
	if s.Full {
		return Set{Full: true}, nil
	}
	return s, nil
}

// ParseString is Parse for a space-separated list, as in an OAuth scope
// parameter. Runs of whitespace count as one separator; Problem.Index is the
// position among the non-empty entries.
func ParseString(s string) (Set, error) {
	return Parse(strings.Fields(s))
}

// quote returns s Go-quoted, cut to maxQuoted bytes so a hostile value
// cannot bloat logs and error responses.
func quote(s string) string {
	if len(s) > maxQuoted {
		return strconv.Quote(s[:maxQuoted]) + "…"
	}
	return strconv.Quote(s)
}

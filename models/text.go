package models

import "unicode"

// UnsafeInName reports whether r may not appear in a name people read in
// the console or an export: control characters (C0, DEL, C1), line and
// paragraph separators, and the bidirectional formatting characters that
// can make a name display as something else.
func UnsafeInName(r rune) bool {
	switch {
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case r == '\u061c', r == '\u200e', r == '\u200f',
		r >= '\u202a' && r <= '\u202e', r >= '\u2066' && r <= '\u2069':
		return true
	}
	return false
}

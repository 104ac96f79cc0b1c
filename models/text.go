package models

import "unicode"

// UnsafeInName reports whether r may not appear in a name people read in
// the console or an export: control characters (C0, DEL, C1), line and
// paragraph separators, and the invisible format characters (Unicode
// category Cf: the bidirectional controls that can make a name display as
// something else, zero-width space U+200B, word joiner U+2060, BOM U+FEFF,
// soft hyphen U+00AD, the tag characters of U+E0000–U+E007F and the like),
// with which two names that look the same can differ or a name can carry
// hidden text. Zero-width non-joiner and joiner (U+200C, U+200D) are
// allowed: emoji sequences and several scripts need them.
func UnsafeInName(r rune) bool {
	switch {
	case r == '\u200c', r == '\u200d':
		return false
	case unicode.IsControl(r), r == '\u2028', r == '\u2029':
		return true
	case unicode.Is(unicode.Cf, r), r >= 0xE0000 && r <= 0xE007F:
		return true
	}
	return false
}

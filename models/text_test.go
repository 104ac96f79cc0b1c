package models

import "testing"

func TestUnsafeInName(t *testing.T) {
	for _, r := range []rune{0, '\t', '\n', 0x1f, 0x7f, 0x85, 0x9b, 0x9f, 0x2028, 0x2029, 0x202e, 0x202a, 0x2066, 0x2069, 0x200e, 0x200f, 0x061c} {
		if !UnsafeInName(r) {
			t.Errorf("U+%04X allowed, want refused", r)
		}
	}
	for _, r := range []rune{' ', 'a', 'é', 'ß', '日', '🙂', 0x200d, 0xa0, '-', '_', '…'} {
		if UnsafeInName(r) {
			t.Errorf("U+%04X refused, want allowed", r)
		}
	}
}

package models

import (
	"strings"
	"testing"
	"unicode"
)

func TestUnsafeInName(t *testing.T) {
	for _, tc := range []struct {
		what string
		r    rune
	}{
		{"NUL", 0}, {"tab", '\t'}, {"line feed", '\n'}, {"unit separator", 0x1f}, {"DEL", 0x7f},
		{"NEL", 0x85}, {"CSI", 0x9b}, {"APC", 0x9f},
		{"line separator", 0x2028}, {"paragraph separator", 0x2029},
		{"RLO", 0x202e}, {"LRE", 0x202a}, {"LRI", 0x2066}, {"PDI", 0x2069},
		{"LRM", 0x200e}, {"RLM", 0x200f}, {"ALM", 0x061c},
		{"zero-width space", 0x200b}, {"word joiner", 0x2060}, {"invisible times", 0x2062},
		{"BOM / ZWNBSP", 0xfeff}, {"soft hyphen", 0x00ad},
		{"Mongolian vowel separator", 0x180e}, {"Arabic number sign", 0x0600},
		{"interlinear annotation anchor", 0xfff9},
		{"language tag", 0xe0001}, {"tag space", 0xe0020}, {"tag i", 0xe0069},
		{"cancel tag", 0xe007f}, {"unassigned in the tag block", 0xe0000},
	} {
		if !UnsafeInName(tc.r) {
			t.Errorf("%s U+%04X allowed, want refused", tc.what, tc.r)
		}
	}
	for _, tc := range []struct {
		what string
		r    rune
	}{
		{"space", ' '}, {"a", 'a'}, {"é", 'é'}, {"ß", 'ß'}, {"日", '日'}, {"emoji", '🙂'},
		{"ZWNJ", 0x200c}, {"ZWJ", 0x200d}, {"no-break space", 0xa0}, {"hyphen-minus", '-'},
		{"underscore", '_'}, {"ellipsis", '…'}, {"variation selector 16", 0xfe0f},
		{"combining acute", 0x0301}, {"Devanagari virama", 0x094d},
	} {
		if UnsafeInName(tc.r) {
			t.Errorf("%s U+%04X refused, want allowed", tc.what, tc.r)
		}
	}
}

// TestUnsafeInNameEveryFormatCharacter: every character of Unicode
// category Cf is refused, but ZWNJ and ZWJ.
func TestUnsafeInNameEveryFormatCharacter(t *testing.T) {
	for _, rng := range unicode.Cf.R16 {
		for r := rune(rng.Lo); r <= rune(rng.Hi); r += rune(rng.Stride) {
			if want := r != 0x200c && r != 0x200d; UnsafeInName(r) != want {
				t.Errorf("U+%04X: refused %v, want %v", r, !want, want)
			}
		}
	}
	for _, rng := range unicode.Cf.R32 {
		for r := rune(rng.Lo); r <= rune(rng.Hi); r += rune(rng.Stride) {
			if !UnsafeInName(r) {
				t.Errorf("U+%04X allowed, want refused", r)
			}
		}
	}
}

// TestAttackRegression_InvisibleCharactersInNames: invisible format
// characters other than the bidi controls passed: zero-width space, word
// joiner, BOM, soft hyphen and Unicode tag characters ("ASCII smuggling").
// Two names that display the same ("deploy-bot") could differ, and a name
// could carry hidden text. Emoji sequences with ZWJ still pass.
func TestAttackRegression_InvisibleCharactersInNames(t *testing.T) {
	hidden := "deploy-bot" + string([]rune{0xE0069, 0xE0067, 0xE006E, 0xE006F, 0xE0072, 0xE0065}) // tags "ignore"
	for _, name := range []string{"deploy\u200b-bot", "deploy\u2060-bot", "\ufeffdeploy-bot", "de\u00adploy-bot", hidden} {
		if !strings.ContainsFunc(name, UnsafeInName) {
			t.Errorf("%q accepted as a name", name)
		}
	}
	for _, name := range []string{"deploy-bot", "👩\u200d💻 laptop", "می\u200cخواهم", "Zoë's key 🔑", "क्ष"} {
		if strings.ContainsFunc(name, UnsafeInName) {
			t.Errorf("%q refused as a name", name)
		}
	}
}

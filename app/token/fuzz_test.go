package token_test

import (
	"strings"
	"testing"

	"github.com/keyward/keyward/app/token"
)

// FuzzParse checks that Parse never panics and that whatever it accepts has
// a known prefix, the documented length and a checksum that an independent
// implementation (math/big) agrees with. Seeds live in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	for _, s := range []string{vecAPIKey, vecAccess, vecRefresh, vecClient, vecCode, "", "kwk_"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, err := token.Parse(s)
		_ = token.Hash(s)
		hint := token.Hint(s)
		if err != nil {
			if err != token.ErrMalformed && err != token.ErrChecksum {
				t.Fatalf("Parse(%q) returned non-sentinel error %v", s, err)
			}
			if kind != 0 {
				t.Fatalf("Parse(%q) returned kind %v with error", s, kind)
			}
			return
		}
		prefix := kind.Prefix()
		if prefix == "" || !strings.HasPrefix(s, prefix+"_") || len(s) != len(prefix)+50 {
			t.Fatalf("Parse(%q) accepted with kind %v", s, kind)
		}
		n := len(s) - 6
		if got := refChecksum(s[:n]); got != s[n:] {
			t.Fatalf("Parse(%q) accepted but reference checksum is %s", s, got)
		}
		if want := prefix + "_…" + s[len(s)-4:]; hint != want {
			t.Fatalf("Hint(%q) = %q, want %q", s, hint, want)
		}
	})
}

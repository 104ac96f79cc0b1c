package auth

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"testing"
)

func TestQSHVectors(t *testing.T) {
	for _, v := range loadVectors(t).Vectors {
		t.Run(v.Name, func(t *testing.T) {
			if got := CanonicalRequest(v.Method, v.Path, v.RawQuery); got != v.Canonical {
				t.Errorf("CanonicalRequest = %q, want %q", got, v.Canonical)
			}
			if got := QSH(v.Method, v.Path, v.RawQuery); got != v.QSH {
				t.Errorf("QSH = %q, want %q", got, v.QSH)
			}
		})
	}
}

// TestTestdataMatchesShared keeps the package's copies of the shared
// fixtures equal to shared/testdata when that tree sits beside the
// repository (locally and in CI). The package tests always run against the
// copies, so a missing shared/ tree only skips this comparison.
func TestTestdataMatchesShared(t *testing.T) {
	for _, name := range []string{"qsh_vectors.json", "forge_invocation_token_claims.json"} {
		t.Run(name, func(t *testing.T) {
			shared, err := os.ReadFile("../../../shared/testdata/" + name)
			if errors.Is(err, fs.ErrNotExist) {
				t.Skip("shared/testdata not beside the repository; the package copy is tested on its own")
			}
			if err != nil {
				t.Fatal(err)
			}
			local, err := os.ReadFile("testdata/" + name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(shared, local) {
				t.Fatalf("testdata/%s differs from shared/testdata/%s: copy it again", name, name)
			}
		})
	}
}

func TestCanonicalRequest(t *testing.T) {
	tests := []struct {
		name, method, path, query, want string
	}{
		{"empty path", "get", "", "", "GET&/&"},
		{"trailing slash", "GET", "/a/b/", "", "GET&/a/b&"},
		{"only one trailing slash removed", "GET", "/a//", "", "GET&/a/&"},
		{"ampersand in path", "GET", "/a&b/c", "", "GET&/a%26b/c&"},
		{"path kept as sent", "GET", "/a%20b/%7Ec", "", "GET&/a%20b/%7Ec&"},
		{"relative path gets slash", "GET", "foo", "", "GET&/foo&"},
		{"method upper-cased", "post", "/x", "", "POST&/x&"},
		{"jwt dropped", "GET", "/x", "jwt=a.b.c", "GET&/x&"},
		{"only jwt exact name", "GET", "/x", "jwt=1&JWT=2&jwtx=3", "GET&/x&JWT=2&jwtx=3"},
		{"valueless", "GET", "/x", "a&b=", "GET&/x&a=&b="},
		{"empty pairs skipped", "GET", "/x", "&&a=1&&", "GET&/x&a=1"},
		{"value with equals", "GET", "/x", "a=b=c", "GET&/x&a=b%3Dc"},
		{"plus and %20", "GET", "/x", "a=b+c&d=e%20f", "GET&/x&a=b%20c&d=e%20f"},
		{"encoded plus", "GET", "/x", "a=%2B", "GET&/x&a=%2B"},
		{"reserved chars", "GET", "/x", "a=!'()*", "GET&/x&a=%21%27%28%29%2A"},
		{"tilde literal", "GET", "/x", "a=~&b=%7e", "GET&/x&a=~&b=~"},
		{"lower hex normalised", "GET", "/x", "a=%c3%a9", "GET&/x&a=%C3%A9"},
		{"invalid escape kept", "GET", "/x", "a=%zz&b=%4", "GET&/x&a=%25zz&b=%254"},
		{"semicolon not a separator", "GET", "/x", "a=1;b=2", "GET&/x&a=1%3Bb%3D2"},
		{"encoded name", "GET", "/x", "a%20b=1", "GET&/x&a%20b=1"},
		{"repeated sorted by decoded value", "GET", "/x", "a=b&a=A&a=%20", "GET&/x&a=%20,A,b"},
		{"repeated with empty", "GET", "/x", "a=&a=1", "GET&/x&a=,1"},
		{"sorted by encoded name", "GET", "/x", "A=1&%5B=2", "GET&/x&%5B=2&A=1"},
		{"empty name", "GET", "/x", "=v", "GET&/x&=v"},
		{"invalid utf-8 byte", "GET", "/x", "a=%FF%FE", "GET&/x&a=%EF%BF%BD%EF%BF%BD"},
		{"truncated sequence is one replacement", "GET", "/x", "a=%E5%AEz", "GET&/x&a=%EF%BF%BDz"},
		{"surrogate bytes", "GET", "/x", "a=%ED%A0%80", "GET&/x&a=%EF%BF%BD%EF%BF%BD%EF%BF%BD"},
		{"raw invalid byte in name", "GET", "/x", "\xff=1", "GET&/x&%EF%BF%BD=1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := CanonicalRequest(tc.method, tc.path, tc.query); got != tc.want {
				t.Errorf("CanonicalRequest(%q, %q, %q) = %q, want %q", tc.method, tc.path, tc.query, got, tc.want)
			}
		})
	}
}

func BenchmarkQSH(b *testing.B) {
	q := "lic=none&tz=Australia%2FSydney&cp=%2Fjira&user_key=&loc=en-US&user_id=&jwt=ABC.DEF.GHI&xdm_e=http%3A%2F%2Fstorm%3A2990"
	for b.Loop() {
		QSH("GET", "/hello-world", q)
	}
}

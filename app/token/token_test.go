package token_test

import (
	"crypto/sha256"
	"errors"
	"hash/crc32"
	"math/big"
	"strings"
	"testing"

	"github.com/keyward/keyward/app/token"
)

// Known-answer vectors: the fixed body below with the checksum computed
// independently (Python zlib.crc32 and base62 by hand).
const (
	testBody   = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg"
	vecAPIKey  = "kwk_" + testBody + "2HyWtF"
	vecAccess  = "kwa_" + testBody + "4e2X0x"
	vecRefresh = "kwr_" + testBody + "4bnkpQ"
	vecClient  = "kwcs_" + testBody + "2vLJIp"
	vecCode    = "kwac_" + testBody + "1e5GA7"
)

var allKinds = []token.Kind{
	token.KindAPIKey, token.KindAccessToken, token.KindRefreshToken,
	token.KindClientSecret, token.KindAuthCode,
}

// refChecksum recomputes the checksum of s (everything but its last six
// characters) with math/big instead of the package's own encoder.
func refChecksum(s string) string {
	v := new(big.Int).SetUint64(uint64(crc32.ChecksumIEEE([]byte(s))))
	// big.Int uses 0-9a-zA-Z; the format uses ASCII order 0-9A-Za-z.
	digits := swapCase(v.Text(62))
	return strings.Repeat("0", 6-len(digits)) + digits
}

func swapCase(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z':
			return r - 'a' + 'A'
		case 'A' <= r && r <= 'Z':
			return r - 'A' + 'a'
		}
		return r
	}, s)
}

func replaceAt(s string, i int, c byte) string {
	b := []byte(s)
	b[i] = c
	return string(b)
}

func swapAt(s string, i int) string {
	b := []byte(s)
	b[i], b[i+1] = b[i+1], b[i]
	return string(b)
}

func TestParse(t *testing.T) {
	apiKey, err := token.New(token.KindAPIKey)
	if err != nil {
		t.Fatal(err)
	}
	last := len(vecAPIKey) - 1
	tests := []struct {
		name    string
		in      string
		want    token.Kind
		wantErr error
	}{
		{"api key vector", vecAPIKey, token.KindAPIKey, nil},
		{"access token vector", vecAccess, token.KindAccessToken, nil},
		{"refresh token vector", vecRefresh, token.KindRefreshToken, nil},
		{"client secret vector", vecClient, token.KindClientSecret, nil},
		{"auth code vector", vecCode, token.KindAuthCode, nil},
		{"fresh api key", apiKey, token.KindAPIKey, nil},

		{"wrong prefix of same length", "kwa" + vecAPIKey[3:], 0, token.ErrChecksum},
		{"longer prefix on api key body", "kwcs" + vecAPIKey[3:], 0, token.ErrChecksum},
		{"shorter prefix on client secret body", "kwk" + vecClient[4:], 0, token.ErrChecksum},
		{"prefix upper case", "KWK" + vecAPIKey[3:], 0, token.ErrMalformed},
		{"unknown prefix", "kwx" + vecAPIKey[3:], 0, token.ErrMalformed},
		{"foreign prefix", "ghp" + vecAPIKey[3:], 0, token.ErrMalformed},
		{"no prefix", vecAPIKey[4:], 0, token.ErrMalformed},
		{"hyphen separator", "kwk-" + vecAPIKey[4:], 0, token.ErrMalformed},
		{"double underscore", "kwk__" + vecAPIKey[5:], 0, token.ErrMalformed},

		{"truncated by one", vecAPIKey[:last], 0, token.ErrMalformed},
		{"truncated checksum", vecAPIKey[:len(vecAPIKey)-6], 0, token.ErrMalformed},
		{"extra char", vecAPIKey + "A", 0, token.ErrMalformed},
		{"leading space", " " + vecAPIKey, 0, token.ErrMalformed},
		{"trailing newline", vecAPIKey + "\n", 0, token.ErrMalformed},
		{"whitespace replaces char", " " + vecAPIKey[1:], 0, token.ErrMalformed},

		{"body char changed", replaceAt(vecAPIKey, 10, 'Z'), 0, token.ErrChecksum},
		{"first body char changed", replaceAt(vecAPIKey, 4, '1'), 0, token.ErrChecksum},
		{"checksum char changed", replaceAt(vecAPIKey, last, 'x'), 0, token.ErrChecksum},
		{"case flipped", replaceAt(vecAPIKey, 20, 'k'), 0, token.ErrChecksum},
		{"swapped adjacent body chars", swapAt(vecAPIKey, 7), 0, token.ErrChecksum},
		{"swapped body and checksum", swapAt(vecAPIKey, 4+42), 0, token.ErrChecksum},
		{"swapped adjacent checksum chars", swapAt(vecAPIKey, last-1), 0, token.ErrChecksum},

		{"non-base62 plus", replaceAt(vecAPIKey, 10, '+'), 0, token.ErrMalformed},
		{"non-base62 underscore", replaceAt(vecAPIKey, 10, '_'), 0, token.ErrMalformed},
		{"non-base62 hyphen in checksum", replaceAt(vecAPIKey, last, '-'), 0, token.ErrMalformed},
		{"non-base62 NUL", replaceAt(vecAPIKey, 30, 0), 0, token.ErrMalformed},
		{"non-ASCII byte", replaceAt(vecAPIKey, 30, 0xC3), 0, token.ErrMalformed},
		{"non-ASCII rune", vecAPIKey[:len(vecAPIKey)-2] + "é", 0, token.ErrMalformed},

		{"empty", "", 0, token.ErrMalformed},
		{"prefix only", "kwk", 0, token.ErrMalformed},
		{"prefix and underscore", "kwk_", 0, token.ErrMalformed},
		{"underscore only", "_", 0, token.ErrMalformed},
		{"very long", strings.Repeat("kwk_", 1000), 0, token.ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := token.Parse(tt.in)
			if err != tt.wantErr {
				t.Fatalf("Parse(%q) error = %v, want %v", tt.in, err, tt.wantErr)
			}
			if got != tt.want {
				t.Errorf("Parse(%q) kind = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func TestVectorsMatchReference(t *testing.T) {
	for _, v := range []string{vecAPIKey, vecAccess, vecRefresh, vecClient, vecCode} {
		n := len(v) - 6
		if got := refChecksum(v[:n]); got != v[n:] {
			t.Errorf("%s: reference checksum %s, vector has %s", v, got, v[n:])
		}
	}
}

func TestKind(t *testing.T) {
	tests := []struct {
		kind         token.Kind
		prefix, name string
	}{
		{token.KindAPIKey, "kwk", "api_key"},
		{token.KindAccessToken, "kwa", "access_token"},
		{token.KindRefreshToken, "kwr", "refresh_token"},
		{token.KindClientSecret, "kwcs", "client_secret"},
		{token.KindAuthCode, "kwac", "auth_code"},
		{0, "", "kind(0)"},
		{42, "", "kind(42)"},
	}
	for _, tt := range tests {
		if got := tt.kind.Prefix(); got != tt.prefix {
			t.Errorf("Kind(%d).Prefix() = %q, want %q", tt.kind, got, tt.prefix)
		}
		if got := tt.kind.String(); got != tt.name {
			t.Errorf("Kind(%d).String() = %q, want %q", tt.kind, got, tt.name)
		}
	}
}

func TestNewRejectsUnknownKind(t *testing.T) {
	for _, k := range []token.Kind{0, token.KindAuthCode + 1, 255} {
		if s, err := token.New(k); err == nil {
			t.Errorf("New(%d) = %q, want error", k, s)
		}
	}
}

func TestNewShape(t *testing.T) {
	for _, k := range allKinds {
		s, err := token.New(k)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(k.Prefix()) + 50; len(s) != want {
			t.Errorf("New(%v) length %d, want %d", k, len(s), want)
		}
		if !strings.HasPrefix(s, k.Prefix()+"_") {
			t.Errorf("New(%v) = %q, want prefix %q", k, s, k.Prefix()+"_")
		}
		n := len(s) - 6
		if got := refChecksum(s[:n]); got != s[n:] {
			t.Errorf("New(%v) = %q, reference checksum %s", k, s, got)
		}
	}
}

func TestHash(t *testing.T) {
	for _, s := range []string{"", vecAPIKey, vecClient, strings.Repeat("x", 65), strings.Repeat("y", 4096)} {
		if got, want := token.Hash(s), sha256.Sum256([]byte(s)); got != want {
			t.Errorf("Hash(%.20q...) = %x, want %x", s, got, want)
		}
	}
}

func TestHint(t *testing.T) {
	tests := []struct{ in, want string }{
		{vecAPIKey, "kwk_…yWtF"},
		{vecClient, "kwcs_…LJIp"},
		{vecCode, "kwac_…5GA7"},
		{replaceAt(vecAPIKey, 10, 'Z'), "kwk_…yWtF"}, // bad checksum still hints
		{"", ""},
		{"kwk_", ""},
		{vecAPIKey + "x", ""},
		{"ghp" + vecAPIKey[3:], ""},
	}
	for _, tt := range tests {
		if got := token.Hint(tt.in); got != tt.want {
			t.Errorf("Hint(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestErrorsAreDistinct(t *testing.T) {
	if errors.Is(token.ErrMalformed, token.ErrChecksum) {
		t.Fatal("ErrMalformed and ErrChecksum must differ")
	}
	for _, err := range []error{token.ErrMalformed, token.ErrChecksum} {
		if msg := err.Error(); msg != strings.ToLower(msg) {
			t.Errorf("error %q is not lower case", msg)
		}
	}
}

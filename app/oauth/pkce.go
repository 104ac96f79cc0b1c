package oauth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

// PKCE (RFC 7636): only the S256 method is supported; "plain" is refused.
const pkceS256 = "S256"

// S256Challenge returns BASE64URL(SHA256(ASCII(verifier))), the code
// challenge of a verifier.
func S256Challenge(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// validVerifier reports whether s is a code verifier of RFC 7636 section
// 4.1: 43 to 128 characters of [A-Za-z0-9-._~].
func validVerifier(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'A' && c <= 'Z', c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '.', c == '_', c == '~':
		default:
			return false
		}
	}
	return true
}

// validS256Challenge reports whether s can be an S256 challenge: 43
// characters of unpadded base64url (a SHA-256 digest).
func validS256Challenge(s string) bool {
	if len(s) != 43 {
		return false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	return err == nil && len(b) == sha256.Size
}

// verifyPKCE checks a verifier against an S256 challenge in constant time.
func verifyPKCE(challenge, verifier string) bool {
	if !validVerifier(verifier) {
		return false
	}
	got := S256Challenge(verifier)
	return subtle.ConstantTimeCompare([]byte(got), []byte(challenge)) == 1
}

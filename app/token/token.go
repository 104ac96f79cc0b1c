package token

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
)

// Kind is the kind of credential a secret stands for; it decides the prefix.
type Kind uint8

// The kinds of secret. The zero Kind is invalid.
const (
	KindAPIKey       Kind = iota + 1 // "kwk"
	KindAccessToken                  // "kwa"
	KindRefreshToken                 // "kwr"
	KindClientSecret                 // "kwcs"
	KindAuthCode                     // "kwac"
)

// Sizes of the parts of a secret, in bytes (all ASCII).
const (
	bodyLen     = 43 // 43 base62 chars = 256.03 bits
	checksumLen = 6  // base62 CRC-32, zero-padded
	maxLen      = 4 + 1 + bodyLen + checksumLen
)

var (
	// ErrMalformed reports a string that is not shaped like a keyward
	// secret: unknown prefix, wrong length or a character outside base62.
	ErrMalformed = errors.New("token: malformed secret")
	// ErrChecksum reports a well-shaped secret whose checksum does not match:
	// a typo, a truncated copy or a made-up value.
	ErrChecksum = errors.New("token: checksum mismatch")
)

// Prefix returns the text before the underscore for secrets of kind k, or ""
// if k is not a valid Kind.
func (k Kind) Prefix() string {
	switch k {
	case KindAPIKey:
		return "kwk"
	case KindAccessToken:
		return "kwa"
	case KindRefreshToken:
		return "kwr"
	case KindClientSecret:
		return "kwcs"
	case KindAuthCode:
		return "kwac"
	}
	return ""
}

// String returns a lower-case, snake_case name for k such as "api_key".
func (k Kind) String() string {
	switch k {
	case KindAPIKey:
		return "api_key"
	case KindAccessToken:
		return "access_token"
	case KindRefreshToken:
		return "refresh_token"
	case KindClientSecret:
		return "client_secret"
	case KindAuthCode:
		return "auth_code"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// kindOf returns the Kind whose prefix is p, or 0.
func kindOf(p string) Kind {
	switch p {
	case "kwk":
		return KindAPIKey
	case "kwa":
		return KindAccessToken
	case "kwr":
		return KindRefreshToken
	case "kwcs":
		return KindClientSecret
	case "kwac":
		return KindAuthCode
	}
	return 0
}

// New returns a fresh secret of the given kind, with a random body from
// crypto/rand. The caller shows it once and keeps only [Hash] and [Hint].
func New(kind Kind) (string, error) {
	prefix := kind.Prefix()
	if prefix == "" {
		return "", fmt.Errorf("token: unknown kind %d", uint8(kind))
	}
	var buf [maxLen]byte
	n := copy(buf[:], prefix)
	buf[n] = '_'
	n++
	if err := randomBase62(buf[n : n+bodyLen]); err != nil {
		return "", fmt.Errorf("token: read random: %w", err)
	}
	n += bodyLen
	putChecksum(buf[n:n+checksumLen], checksum(buf[:n]))
	n += checksumLen
	return string(buf[:n]), nil
}

// Parse checks that s is a well-formed secret with a valid checksum and
// returns its kind. It does no I/O and does not allocate. It returns
// ErrMalformed or ErrChecksum (compare with errors.Is or ==) on failure.
// A nil error says nothing about whether the secret was ever issued.
func Parse(s string) (Kind, error) {
	kind, sep := shape(s)
	if kind == 0 {
		return 0, ErrMalformed
	}
	body := sep + 1 + bodyLen
	var want [checksumLen]byte
	putChecksum(want[:], checksum(s[:body]))
	if s[body:] != string(want[:]) {
		return 0, ErrChecksum
	}
	return kind, nil
}

// shape reports the kind of s and the index of its underscore when s has a
// known prefix, the right length and only base62 characters after the
// underscore; otherwise it returns kind 0. The checksum is not verified.
func shape(s string) (kind Kind, sep int) {
	if len(s) > maxLen {
		return 0, 0
	}
	sep = -1
	for i := 0; i < len(s) && i <= 4; i++ {
		if s[i] == '_' {
			sep = i
			break
		}
	}
	if sep < 0 {
		return 0, 0
	}
	kind = kindOf(s[:sep])
	if kind == 0 || len(s) != sep+1+bodyLen+checksumLen {
		return 0, 0
	}
	for i := sep + 1; i < len(s); i++ {
		if !isBase62(s[i]) {
			return 0, 0
		}
	}
	return kind, sep
}

// Hash returns the SHA-256 of the whole secret string, the value keyward
// stores and looks secrets up by. It does not allocate for strings of up to
// 64 bytes, which covers every well-formed secret.
func Hash(s string) [32]byte {
	var buf [64]byte
	if len(s) <= len(buf) {
		n := copy(buf[:], s)
		return sha256.Sum256(buf[:n])
	}
	return sha256.Sum256([]byte(s))
}

// Hint returns a display hint that identifies a secret without revealing
// it: the prefix, "_…" and the last four characters, e.g. "kwk_…a1B2". The
// last four characters are part of the checksum, not of the random body.
// Hint returns "" when s is not shaped like a secret (see [Parse]); the
// checksum is not verified.
func Hint(s string) string {
	kind, _ := shape(s)
	if kind == 0 {
		return ""
	}
	return kind.Prefix() + "_…" + s[len(s)-4:]
}

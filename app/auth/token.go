package auth

import (
	"crypto"
	"crypto/hmac"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash"
	"strings"
)

// maxTokenBytes bounds the size of a token we are willing to parse.
// Connect context tokens are a few KiB at most.
const maxTokenBytes = 16 << 10

// tokenHeader is the JOSE header of a compact JWS.
type tokenHeader struct {
	Alg  string          `json:"alg"`
	Typ  string          `json:"typ,omitempty"`
	Kid  string          `json:"kid,omitempty"`
	Crit json.RawMessage `json:"crit,omitempty"`
}

// compactToken is a compact JWS split and decoded, nothing verified yet.
type compactToken struct {
	header       tokenHeader
	payload      []byte
	signingInput []byte
	signature    []byte
}

// parseCompact splits and decodes a compact JWS without verifying anything.
func parseCompact(token string) (*compactToken, error) {
	if token == "" || len(token) > maxTokenBytes {
		return nil, fmt.Errorf("token length %d: %w", len(token), ErrMalformed)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, fmt.Errorf("token has %d segments, want 3: %w", len(parts), ErrMalformed)
	}
	rawHeader, err := decodeSegment(parts[0])
	if err != nil {
		return nil, fmt.Errorf("decode header: %w", err)
	}
	var h tokenHeader
	if err := json.Unmarshal(rawHeader, &h); err != nil {
		return nil, fmt.Errorf("parse header: %v: %w", err, ErrMalformed)
	}
	if len(h.Crit) > 0 && string(h.Crit) != "null" {
		return nil, fmt.Errorf("critical header extensions are not supported: %w", ErrMalformed)
	}
	payload, err := decodeSegment(parts[1])
	if err != nil {
		return nil, fmt.Errorf("decode payload: %w", err)
	}
	sig, err := decodeSegment(parts[2])
	if err != nil {
		return nil, fmt.Errorf("decode signature: %w", err)
	}
	return &compactToken{
		header:       h,
		payload:      payload,
		signingInput: []byte(token[:len(parts[0])+1+len(parts[1])]),
		signature:    sig,
	}, nil
}

// decodeSegment decodes unpadded base64url, refusing non-canonical input so
// that one signature has exactly one spelling.
func decodeSegment(s string) ([]byte, error) {
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("base64url: %v: %w", err, ErrMalformed)
	}
	return b, nil
}

func encodeSegment(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}

// encodeCompact serialises header and claims and signs them with sign.
func encodeCompact(h tokenHeader, claims any, sign func(signingInput []byte) ([]byte, error)) (string, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("encode header: %w", err)
	}
	cb, err := json.Marshal(claims)
	if err != nil {
		return "", fmt.Errorf("encode claims: %w", err)
	}
	input := encodeSegment(hb) + "." + encodeSegment(cb)
	sig, err := sign([]byte(input))
	if err != nil {
		return "", err
	}
	return input + "." + encodeSegment(sig), nil
}

// hmacHash returns the hash for an HS* algorithm name; ok is false for
// every other name.
func hmacHash(alg string) (h func() hash.Hash, ok bool) {
	switch alg {
	case "HS256":
		return sha256.New, true
	case "HS384":
		return sha512.New384, true
	case "HS512":
		return sha512.New, true
	}
	return nil, false
}

func hmacSign(h func() hash.Hash, key, input []byte) []byte {
	m := hmac.New(h, key)
	m.Write(input)
	return m.Sum(nil)
}

// verifyHMAC checks an HS* signature in constant time.
func verifyHMAC(alg string, key []byte, t *compactToken) error {
	h, ok := hmacHash(alg)
	if !ok {
		return fmt.Errorf("alg %q: %w", alg, ErrAlgorithm)
	}
	if !hmac.Equal(hmacSign(h, key, t.signingInput), t.signature) {
		return ErrSignature
	}
	return nil
}

// verifyRS256 checks an RSASSA-PKCS1-v1_5 SHA-256 signature.
func verifyRS256(pub *rsa.PublicKey, t *compactToken) error {
	if pub == nil {
		return fmt.Errorf("no public key: %w", ErrUnknownKey)
	}
	digest := sha256.Sum256(t.signingInput)
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], t.signature); err != nil {
		return ErrSignature
	}
	return nil
}

package auth

import (
	"context"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// InstallKeySource returns the RSA public key for a signed-install kid.
// *InstallKeyFetcher implements it.
type InstallKeySource interface {
	Key(ctx context.Context, kid string) (*rsa.PublicKey, error)
}

// InstallVerifier verifies the RS256 tokens of Connect signed install
// (installed and uninstalled lifecycle calls).
type InstallVerifier struct {
	Keys InstallKeySource
	// BaseURL is the app's baseUrl from its descriptor; aud[0] must match.
	BaseURL string
	// Leeway is the allowed clock skew; values above 30 s count as 30 s.
	Leeway time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// Verify checks an install token: RS256 with a kid, signature by the
// fetched key, aud[0] equal to BaseURL, iss equal to the body's clientKey,
// exp/iat, and qsh over method and relPath (e.g. "POST", "/installed") with
// an empty query.
func (v *InstallVerifier) Verify(ctx context.Context, token, bodyClientKey, method, relPath string) (*ConnectClaims, error) {
	if v.Keys == nil || v.BaseURL == "" {
		return nil, errors.New("install verifier: keys and base url are required")
	}
	t, err := parseCompact(token)
	if err != nil {
		return nil, err
	}
	if t.header.Alg != "RS256" {
		return nil, fmt.Errorf("install token alg %q: %w", t.header.Alg, ErrAlgorithm)
	}
	if t.header.Kid == "" {
		return nil, fmt.Errorf("install token without kid: %w", ErrMalformed)
	}
	var p connectPayload
	if err := json.Unmarshal(t.payload, &p); err != nil {
		return nil, fmt.Errorf("parse claims: %v: %w", err, ErrMalformed)
	}
	key, err := v.Keys.Key(ctx, t.header.Kid)
	if err != nil {
		return nil, fmt.Errorf("install token key: %w", err)
	}
	if err := verifyRS256(key, t); err != nil {
		return nil, fmt.Errorf("install token: %w", err)
	}
	if len(p.Audience) == 0 || trimOneSlash(p.Audience[0]) != trimOneSlash(v.BaseURL) {
		return nil, fmt.Errorf("install token aud %q, want %q: %w", p.Audience, v.BaseURL, ErrClaims)
	}
	if p.Issuer == "" || subtle.ConstantTimeCompare([]byte(p.Issuer), []byte(bodyClientKey)) != 1 {
		return nil, fmt.Errorf("install token iss %q does not match body clientKey %q: %w", p.Issuer, bodyClientKey, ErrClaims)
	}
	if err := p.validate(nowOr(v.Now), clampLeeway(v.Leeway)); err != nil {
		return nil, fmt.Errorf("install token: %w", err)
	}
	want := QSH(method, relPath, "")
	if subtle.ConstantTimeCompare([]byte(p.QSH), []byte(want)) != 1 {
		return nil, fmt.Errorf("install token qsh does not match %s %s: %w", method, relPath, ErrQSH)
	}
	return p.claims(), nil
}

func trimOneSlash(s string) string { return strings.TrimSuffix(s, "/") }

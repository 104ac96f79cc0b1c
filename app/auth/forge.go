package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Public key locations of the platform. Staging hosts differ; keep them
// configurable in the composition root.
const (
	// ForgeJWKSURL serves the keys of production Forge Invocation Tokens.
	ForgeJWKSURL = "https://forge.cdn.prod.atlassian-dev.net/.well-known/jwks.json"
	// ForgeStagingJWKSURL serves the keys of staging Forge Invocation Tokens.
	ForgeStagingJWKSURL = "https://forge.cdn.stg.atlassian-dev.net/.well-known/jwks.json"
	// ConnectInstallKeysURL serves the PEM keys of Connect signed install.
	ConnectInstallKeysURL = "https://connect-install-keys.atlassian.com"
)

const (
	fitIssuer = "forge/invocation-token"
	// jwksMinRefresh is the floor of the background JWKS refresh.
	jwksMinRefresh = 15 * time.Minute
	// jwksForcedRefreshEvery rate-limits refreshes forced by an unknown kid.
	jwksForcedRefreshEvery = 10 * time.Second
	// jwksFetchTimeout bounds one JWKS fetch.
	jwksFetchTimeout = 10 * time.Second
)

// FITVerifier verifies Forge Invocation Tokens against a cached JWKS.
// Build it with NewFITVerifier; it is safe for concurrent use.
type FITVerifier struct {
	// Now returns the current time used for exp/nbf/iat; nil means
	// time.Now. Set it before the first Verify (tests only).
	Now func() time.Time

	jwksURL string
	appID   string
	leeway  time.Duration
	cache   *jwk.Cache

	mu          sync.Mutex
	lastForced  time.Time
	forcedEvery time.Duration

	seen jtiSet // jti of accepted tokens, until they expire
}

// NewFITVerifier registers jwksURL in a jwk.Cache and returns a verifier for
// tokens whose aud is appID (ari:cloud:ecosystem::app/<uuid>). Nothing is
// fetched here, so an unreachable JWKS host does not stop the server from
// booting: the first Verify fetches. The cache refreshes in the background
// until ctx is done. A nil client gets one with a bounded timeout; leeway
// is capped at 30 s.
func NewFITVerifier(ctx context.Context, jwksURL, appID string, client *http.Client, leeway time.Duration) (*FITVerifier, error) {
	u, err := url.Parse(jwksURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("fit verifier: invalid jwks url %q", jwksURL)
	}
	if appID == "" {
		return nil, errors.New("fit verifier: empty app id")
	}
	if client == nil {
		client = &http.Client{Timeout: jwksFetchTimeout}
	}
	cache := jwk.NewCache(ctx)
	if err := cache.Register(jwksURL, jwk.WithMinRefreshInterval(jwksMinRefresh), jwk.WithHTTPClient(client)); err != nil {
		return nil, fmt.Errorf("fit verifier: register jwks: %w", err)
	}
	return &FITVerifier{
		jwksURL:     jwksURL,
		appID:       appID,
		leeway:      clampLeeway(leeway),
		cache:       cache,
		forcedEvery: jwksForcedRefreshEvery,
	}, nil
}

// Verify checks a FIT: RS256 with a known kid, signature, iss, aud, exp,
// nbf, iat, jti and app.installationId, and returns its claims. Each token
// is accepted once: its jti is remembered until exp + leeway, and a second
// use gives ErrReplay (in this process only).
func (v *FITVerifier) Verify(ctx context.Context, token string) (*FITClaims, error) {
	t, err := parseCompact(token)
	if err != nil {
		return nil, err
	}
	if t.header.Alg != "RS256" {
		return nil, fmt.Errorf("fit alg %q: %w", t.header.Alg, ErrAlgorithm)
	}
	if t.header.Kid == "" {
		return nil, fmt.Errorf("fit without kid: %w", ErrMalformed)
	}
	key, err := v.key(ctx, t.header.Kid)
	if err != nil {
		return nil, err
	}
	if err := verifyRS256(key, t); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	var p fitPayload
	if err := json.Unmarshal(t.payload, &p); err != nil {
		return nil, fmt.Errorf("parse fit claims: %v: %w", err, ErrMalformed)
	}
	now := nowOr(v.Now)
	if err := p.check(v.appID, now, v.leeway); err != nil {
		return nil, fmt.Errorf("fit: %w", err)
	}
	if !v.seen.use(p.JTI, p.expiresAt().Add(v.leeway), now) {
		return nil, fmt.Errorf("fit jti %.64q: %w", p.JTI, ErrReplay)
	}
	return p.claims(), nil
}

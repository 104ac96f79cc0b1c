package auth

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ConnectClaims are the verified claims of a Connect JWT.
type ConnectClaims struct {
	Issuer    string // clientKey: iss, or aud[0] when iss is empty
	Subject   string // acting user's accountId; may be empty
	QSH       string
	IssuedAt  time.Time
	ExpiresAt time.Time
	Context   json.RawMessage // the "context" claim, raw; nil when absent
	Audience  []string
}

// ConnectRequest describes the incoming request a Connect JWT must match.
type ConnectRequest struct {
	Method   string
	Path     string // already relative to the app's base URL, escaped
	RawQuery string
	// AllowContextQSH marks endpoints called by the app's own iframe with a
	// token from AP.context.getToken(): only qsh "context-qsh" is accepted
	// there and a real hash is refused.
	AllowContextQSH bool
}

// SecretLookup returns the shared secret of the installation with the given
// clientKey, or an error wrapping ErrUnknownIssuer when there is none.
type SecretLookup func(ctx context.Context, clientKey string) ([]byte, error)

// ConnectVerifier verifies Connect HS256/384/512 JWTs.
type ConnectVerifier struct {
	Lookup SecretLookup
	// Leeway is the allowed clock skew; values above 30 s count as 30 s.
	Leeway time.Duration
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

// connectPayload is the unverified payload of a Connect JWT.
type connectPayload struct {
	timeClaims
	Issuer   string          `json:"iss"`
	Subject  string          `json:"sub"`
	Audience audience        `json:"aud"`
	QSH      string          `json:"qsh"`
	Context  json.RawMessage `json:"context"`
}

func (p *connectPayload) claims() *ConnectClaims {
	return &ConnectClaims{
		Issuer:    p.Issuer,
		Subject:   p.Subject,
		QSH:       p.QSH,
		IssuedAt:  p.issuedAt(),
		ExpiresAt: p.expiresAt(),
		Context:   p.Context,
		Audience:  p.Audience,
	}
}

// Verify checks token against the installation's shared secret and req:
// algorithm, issuer, signature, exp/iat, then qsh, in that order.
func (v *ConnectVerifier) Verify(ctx context.Context, token string, req ConnectRequest) (*ConnectClaims, error) {
	if v.Lookup == nil {
		return nil, errors.New("connect verifier: no secret lookup configured")
	}
	t, err := parseCompact(token)
	if err != nil {
		return nil, err
	}
	if _, ok := hmacHash(t.header.Alg); !ok {
		return nil, fmt.Errorf("connect token alg %q: %w", t.header.Alg, ErrAlgorithm)
	}
	var p connectPayload
	if err := json.Unmarshal(t.payload, &p); err != nil {
		return nil, fmt.Errorf("parse claims: %v: %w", err, ErrMalformed)
	}
	clientKey := p.Issuer
	if clientKey == "" && len(p.Audience) > 0 {
		clientKey = p.Audience[0]
	}
	if clientKey == "" {
		return nil, fmt.Errorf("missing iss: %w", ErrClaims)
	}
	secret, err := v.Lookup(ctx, clientKey)
	if err != nil {
		return nil, fmt.Errorf("look up secret for %q: %w", clientKey, err)
	}
	if len(secret) == 0 {
		return nil, fmt.Errorf("empty shared secret for %q: %w", clientKey, ErrUnknownIssuer)
	}
	if err := verifyHMAC(t.header.Alg, secret, t); err != nil {
		return nil, fmt.Errorf("connect token: %w", err)
	}
	if err := p.validate(nowOr(v.Now), clampLeeway(v.Leeway)); err != nil {
		return nil, fmt.Errorf("connect token: %w", err)
	}
	if err := checkQSH(p.QSH, req); err != nil {
		return nil, err
	}
	c := p.claims()
	c.Issuer = clientKey
	return c, nil
}

// checkQSH applies the qsh rules of a normal or a context-token endpoint.
func checkQSH(got string, req ConnectRequest) error {
	switch {
	case got == "":
		return fmt.Errorf("missing qsh: %w", ErrQSH)
	case req.AllowContextQSH && got == ContextQSH:
		return nil
	case req.AllowContextQSH:
		return fmt.Errorf("endpoint accepts only context tokens: %w", ErrQSH)
	case got == ContextQSH:
		return fmt.Errorf("context token not accepted here: %w", ErrQSH)
	}
	want := QSH(req.Method, req.Path, req.RawQuery)
	if subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return fmt.Errorf("qsh does not match %s %s: %w", req.Method, req.Path, ErrQSH)
	}
	return nil
}

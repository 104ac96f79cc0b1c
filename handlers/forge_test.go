package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/keyward/keyward/models"
)

const fitInstallation = "ari:cloud:ecosystem::installation/7d8e9f00-5555-4a1b-9c2d-3e4f5a6b7c8d"

// TestFITRefusals sends bad Forge Invocation Tokens to a Forge route and to
// the page API; none may authenticate or create a tenant.
func TestFITRefusals(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		k := rsaKey(t, 0)
		past := time.Now().Add(-time.Minute).Unix()
		cases := []struct {
			name, token string
		}{
			{"no token", ""},
			{"expired", fitToken(t, "fit-1", k, map[string]any{"exp": past, "iat": past - 30, "nbf": past - 30})},
			{"not yet valid", fitToken(t, "fit-1", k, map[string]any{"nbf": time.Now().Add(time.Hour).Unix()})},
			{"wrong aud", fitToken(t, "fit-1", k, map[string]any{"aud": "ari:cloud:ecosystem::app/00000000-0000-0000-0000-000000000000"})},
			{"wrong iss", fitToken(t, "fit-1", k, map[string]any{"iss": "forge/something-else"})},
			{"no jti", fitToken(t, "fit-1", k, map[string]any{"jti": nil})},
			{"no installationId", fitToken(t, "fit-1", k, map[string]any{"app": map[string]any{"id": forgeAppID}})},
			{"unknown kid", fitToken(t, "fit-unknown", k, nil)},
			{"known kid, another key", fitToken(t, "fit-1", rsaKey(t, 2), nil)},
			{"HS256 signed with the public key", signHS256(t, map[string]any{"alg": "HS256", "typ": "JWT", "kid": "fit-1"}, fitClaims(t, nil), publicPEM(t, k))},
			{"alg none", segment(t, map[string]any{"alg": "none", "kid": "fit-1"}) + "." + segment(t, fitClaims(t, nil)) + "."},
		}
		for _, c := range cases {
			var hdr []string
			if c.token != "" {
				hdr = bearerHeader(c.token)
			}
			wantUnauthorized(t, "forge whoami: "+c.name, e.do(http.MethodPost, "/forge/ui/whoami", nil, hdr...))
			if c.token != "" {
				wantUnauthorized(t, "page whoami: "+c.name, e.do(http.MethodGet, "/api/me/v1/whoami", nil, hdr...))
				wantUnauthorized(t, "forge event: "+c.name, e.do(http.MethodPost, "/forge/events", []byte(`{"eventType":"avi:forge:installed:app"}`), hdr...))
			}
		}
		// A Connect JWT is not a FIT.
		p := installPayload(t, "", "")
		e.installOK(p)
		wantUnauthorized(t, "connect JWT on a forge route", e.do(http.MethodPost, "/forge/ui/whoami", nil, jwtHeader(contextToken(t, p["clientKey"].(string), p["sharedSecret"].(string), nil))...))

		if _, err := e.tenants.ByForgeInstallation(context.Background(), fitInstallation); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a refused FIT created a tenant: %v", err)
		}
		if rec := e.do(http.MethodPost, "/forge/ui/whoami", nil, bearerHeader(fitToken(t, "fit-1", k, nil))...); rec.Code != http.StatusOK {
			t.Errorf("valid FIT after the refusals: %d %s", rec.Code, rec.Body)
		}
	})
}

// TestFITKeyRotation publishes a new key after the JWKS was cached: a token
// with the new kid forces one refresh and is accepted.
func TestFITKeyRotation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		if rec := e.do(http.MethodPost, "/forge/ui/whoami", nil, bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), nil))...); rec.Code != http.StatusOK {
			t.Fatalf("first FIT: %d %s", rec.Code, rec.Body)
		}
		e.jwks.add(t, "fit-2", rsaKey(t, 1))
		if rec := e.do(http.MethodPost, "/forge/ui/whoami", nil, bearerHeader(fitToken(t, "fit-2", rsaKey(t, 1), nil))...); rec.Code != http.StatusOK {
			t.Errorf("FIT with a rotated kid: %d %s", rec.Code, rec.Body)
		}
	})
}

// TestForgeEvents checks the event endpoint's answers to valid tokens.
func TestForgeEvents(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		tok := func() []string { return bearerHeader(triggerToken(t, "fit-1", rsaKey(t, 0), nil)) }
		for _, ev := range []string{"avi:forge:installed:app", "avi:forge:upgraded:app"} {
			if rec := e.do(http.MethodPost, "/forge/events", []byte(`{"eventType":"`+ev+`"}`), tok()...); rec.Code != http.StatusNoContent {
				t.Errorf("%s: %d %s", ev, rec.Code, rec.Body)
			}
		}
		tn, err := e.tenants.ByForgeInstallation(context.Background(), fitInstallation)
		if err != nil || tn.State != models.TenantInstalled {
			t.Fatalf("tenant after installed event = %+v, %v", tn, err)
		}
		wantError(t, "unknown event", e.do(http.MethodPost, "/forge/events", []byte(`{"eventType":"avi:jira:created:issue"}`), tok()...), http.StatusUnprocessableEntity, "unsupported_event")
		wantError(t, "no event type", e.do(http.MethodPost, "/forge/events", []byte(`{}`), tok()...), http.StatusBadRequest, "invalid_input")
		wantError(t, "malformed body", e.do(http.MethodPost, "/forge/events", []byte(`{"eventType":`), tok()...), http.StatusBadRequest, "invalid_input")
	})
}

package handlers_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/keyward/keyward/models"
)

// TestSignedInstallRefusals sends installed callbacks that must be refused
// with 401 and create nothing.
func TestSignedInstallRefusals(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		p := installPayload(t, "", "")
		ck := p["clientKey"].(string)
		body := mustJSON(t, p)
		k1, other := rsaKey(t, 0), rsaKey(t, 2)
		hs := connectToken(t, ck, p["sharedSecret"].(string), http.MethodPost, "/lifecycle/installed", nil)
		cases := []struct {
			name  string
			token string
		}{
			{"unsigned", ""},
			{"wrong aud", installToken(t, "kid-1", k1, ck, "/lifecycle/installed", map[string]any{"aud": []string{"https://evil.example.com"}})},
			{"no aud", installToken(t, "kid-1", k1, ck, "/lifecycle/installed", map[string]any{"aud": nil})},
			{"iss differs from body clientKey", installToken(t, "kid-1", k1, "another-client-key", "/lifecycle/installed", nil)},
			{"unknown kid", installToken(t, "kid-unknown", k1, ck, "/lifecycle/installed", nil)},
			{"path-walking kid", installToken(t, "..", k1, ck, "/lifecycle/installed", nil)},
			{"kid signed by another key", installToken(t, "kid-1", other, ck, "/lifecycle/installed", nil)},
			{"expired", installToken(t, "kid-1", k1, ck, "/lifecycle/installed", map[string]any{"exp": time.Now().Add(-time.Minute).Unix(), "iat": time.Now().Add(-5 * time.Minute).Unix()})},
			{"qsh of another path", installToken(t, "kid-1", k1, ck, "/lifecycle/uninstalled", nil)},
			{"no qsh", installToken(t, "kid-1", k1, ck, "/lifecycle/installed", map[string]any{"qsh": nil})},
			{"HS256 with the body's secret", hs},
		}
		for _, c := range cases {
			var hdr []string
			if c.token != "" {
				hdr = jwtHeader(c.token)
			}
			wantUnauthorized(t, c.name, e.do(http.MethodPost, "/lifecycle/installed", body, hdr...))
		}
		if _, err := e.tenants.ByClientKey(context.Background(), ck); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a refused install stored a tenant: %v", err)
		}

		// A key published under a new kid is fetched and accepted.
		e.keys.add(t, "kid-2", rsaKey(t, 1))
		if rec := e.install(p, "kid-2", rsaKey(t, 1)); rec.Code != http.StatusNoContent {
			t.Errorf("install with a rotated kid: %d %s", rec.Code, rec.Body)
		}
	})
}

// TestUnsignedReinstallKeepsTheSecret tries to replace an installed site's
// shared secret without a valid signed install.
func TestUnsignedReinstallKeepsTheSecret(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		p := installPayload(t, "", "")
		ck, oldSecret := p["clientKey"].(string), p["sharedSecret"].(string)
		e.installOK(p)

		const newSecret = "attacker-chosen-shared-secret-0000000000"
		hijack := mustJSON(t, installPayload(t, "", newSecret))
		attempts := map[string][]string{
			"no token":                     nil,
			"HS256 with the old secret":    jwtHeader(connectToken(t, ck, oldSecret, http.MethodPost, "/lifecycle/installed", nil)),
			"HS256 with the new secret":    jwtHeader(connectToken(t, ck, newSecret, http.MethodPost, "/lifecycle/installed", nil)),
			"RS256 by a key not the kid's": jwtHeader(installToken(t, "kid-1", rsaKey(t, 2), ck, "/lifecycle/installed", nil)),
			"bearer instead of JWT":        bearerHeader(installToken(t, "kid-1", rsaKey(t, 0), ck, "/lifecycle/installed", nil)),
		}
		for name, hdr := range attempts {
			wantUnauthorized(t, name, e.do(http.MethodPost, "/lifecycle/installed", hijack, hdr...))
		}
		// An unsigned uninstall is refused as well.
		wantUnauthorized(t, "unsigned uninstall", e.do(http.MethodPost, "/lifecycle/uninstalled", hijack))
		if st := e.state(ck); st != models.TenantInstalled {
			t.Errorf("state after refused calls = %s", st)
		}

		rec := e.do(http.MethodGet, "/api/me/v1/whoami", nil, jwtHeader(contextToken(t, ck, oldSecret, nil))...)
		if rec.Code != http.StatusOK {
			t.Errorf("the old secret stopped working: %d %s", rec.Code, rec.Body)
		}
		wantUnauthorized(t, "token with the new secret", e.do(http.MethodGet, "/api/me/v1/whoami", nil, jwtHeader(contextToken(t, ck, newSecret, nil))...))
	})
}

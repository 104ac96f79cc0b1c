package handlers_test

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestConnectJWTRefusals sends bad Connect JWTs to a context-token route
// (/api/me/v1/whoami) and a real-qsh route (/lifecycle/enabled).
func TestConnectJWTRefusals(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		p := installPayload(t, "", "")
		ck, secret := p["clientKey"].(string), p["sharedSecret"].(string)
		e.installOK(p)
		body := mustJSON(t, p)
		past := map[string]any{"exp": time.Now().Add(-time.Minute).Unix(), "iat": time.Now().Add(-5 * time.Minute).Unix()}

		valid := contextToken(t, ck, secret, nil)
		parts := strings.Split(valid, ".")
		tamperedClaims := contextToken(t, ck, "x", map[string]any{"sub": "someone-else"})
		tampered := parts[0] + "." + strings.Split(tamperedClaims, ".")[1] + "." + parts[2]
		none := segment(t, map[string]any{"alg": "none", "typ": "JWT"}) + "." + parts[1] + "."
		hs256Sig := func(alg string) string {
			return signHS256(t, map[string]any{"alg": alg, "typ": "JWT"}, connectClaims(ck, "GET", "/", ""), []byte(secret))
		}

		context := []struct {
			name, token string
		}{
			{"no token", ""},
			{"expired", contextToken(t, ck, secret, past)},
			{"tampered claims", tampered},
			{"alg none", none},
			{"alg none, no signature segment", segment(t, map[string]any{"alg": "none"}) + "." + parts[1]},
			{"alg RS256 header on an HMAC signature", hs256Sig("RS256")},
			{"wrong secret", contextToken(t, ck, "not-the-shared-secret-of-this-site", nil)},
			{"unknown clientKey", contextToken(t, "unknown-client-key", secret, nil)},
			{"no iss", contextToken(t, ck, secret, map[string]any{"iss": nil})},
			{"no exp", contextToken(t, ck, secret, map[string]any{"exp": nil})},
			{"issued in the future", contextToken(t, ck, secret, map[string]any{"iat": time.Now().Add(time.Hour).Unix()})},
			{"no qsh", contextToken(t, ck, secret, map[string]any{"qsh": nil})},
			{"real qsh on a context route", connectToken(t, ck, secret, http.MethodGet, "/api/me/v1/whoami", nil)},
			{"no sub (app token) on a user route", contextToken(t, ck, secret, map[string]any{"sub": nil})},
			{"garbage", "not.a.jwt"},
			{"base64 padding", valid + "=="},
		}
		for _, c := range context {
			var hdr []string
			if c.token != "" {
				hdr = jwtHeader(c.token)
			}
			wantUnauthorized(t, "whoami: "+c.name, e.do(http.MethodGet, "/api/me/v1/whoami", nil, hdr...))
		}

		enabled := func(changes map[string]any) string {
			return connectToken(t, ck, secret, http.MethodPost, "/lifecycle/enabled", changes)
		}
		real := []struct {
			name, token string
		}{
			{"expired", enabled(past)},
			{"wrong secret", connectToken(t, ck, "not-the-shared-secret-of-this-site", http.MethodPost, "/lifecycle/enabled", nil)},
			{"replayed from another path", connectToken(t, ck, secret, http.MethodPost, "/lifecycle/disabled", nil)},
			{"replayed with another method", connectToken(t, ck, secret, http.MethodGet, "/lifecycle/enabled", nil)},
			{"context qsh on a real-qsh route", contextToken(t, ck, secret, nil)},
			{"alg none", segment(t, map[string]any{"alg": "none"}) + "." + strings.Split(enabled(nil), ".")[1] + "."},
		}
		for _, c := range real {
			wantUnauthorized(t, "enabled: "+c.name, e.do(http.MethodPost, "/lifecycle/enabled", body, jwtHeader(c.token)...))
		}
		// The same route with its own token works, so the refusals above were
		// about the tokens.
		if rec := e.do(http.MethodPost, "/lifecycle/enabled", body, jwtHeader(enabled(nil))...); rec.Code != http.StatusNoContent {
			t.Errorf("enabled with a valid token: %d %s", rec.Code, rec.Body)
		}
		// A qsh covers the query: a token for ?a=1 does not fit ?a=2.
		q := signHS256(t, map[string]any{"alg": "HS256"}, connectClaims(ck, http.MethodPost, "/lifecycle/enabled", "a=1"), []byte(secret))
		if rec := e.do(http.MethodPost, "/lifecycle/enabled?a=1", body, jwtHeader(q)...); rec.Code != http.StatusNoContent {
			t.Errorf("enabled?a=1 with its token: %d %s", rec.Code, rec.Body)
		}
		wantUnauthorized(t, "enabled?a=2 with the token of a=1", e.do(http.MethodPost, "/lifecycle/enabled?a=2", body, jwtHeader(q)...))
		// HS384/HS512 are valid Connect algorithms.
		for _, alg := range []string{"HS384", "HS512"} {
			tok := signHS256(t, map[string]any{"alg": alg, "typ": "JWT"}, contextClaims(ck), []byte(secret))
			if rec := e.do(http.MethodGet, "/api/me/v1/whoami", nil, jwtHeader(tok)...); rec.Code != http.StatusOK {
				t.Errorf("%s context token: %d %s", alg, rec.Code, rec.Body)
			}
		}
	})
}

// TestTenantIsolation checks that one site's credentials never act on
// another site.
func TestTenantIsolation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		a := installPayload(t, "site-a", "shared-secret-of-site-a-0123456789")
		b := installPayload(t, "site-b", "shared-secret-of-site-b-0123456789")
		ta, tb := e.installOK(a), e.installOK(b)
		secretA := a["sharedSecret"].(string)

		// A token claiming to be site B but signed with A's secret.
		wantUnauthorized(t, "B's clientKey with A's secret", e.do(http.MethodGet, "/api/me/v1/whoami", nil, jwtHeader(contextToken(t, "site-b", secretA, nil))...))

		// A's valid token cannot disable B.
		tok := connectToken(t, "site-a", secretA, http.MethodPost, "/lifecycle/disabled", nil)
		wantUnauthorized(t, "A's token on B's lifecycle", e.do(http.MethodPost, "/lifecycle/disabled", mustJSON(t, b), jwtHeader(tok)...))
		// Nor uninstall or re-key B with a signed install naming A.
		unTok := installToken(t, "kid-1", rsaKey(t, 0), "site-a", "/lifecycle/uninstalled", nil)
		wantUnauthorized(t, "install token of A for B's uninstall", e.do(http.MethodPost, "/lifecycle/uninstalled", mustJSON(t, b), jwtHeader(unTok)...))
		reTok := installToken(t, "kid-1", rsaKey(t, 0), "site-a", "/lifecycle/installed", nil)
		wantUnauthorized(t, "install token of A for B's re-install", e.do(http.MethodPost, "/lifecycle/installed", mustJSON(t, installPayload(t, "site-b", "attacker-secret-000000000000")), jwtHeader(reTok)...))
		if e.state("site-a") != "installed" || e.state("site-b") != "installed" {
			t.Errorf("states after cross-site attempts: A %s, B %s", e.state("site-a"), e.state("site-b"))
		}

		// Each site's own token resolves to its own tenant.
		for _, s := range []struct {
			ck, secret, want string
		}{{"site-a", secretA, ta.ID}, {"site-b", b["sharedSecret"].(string), tb.ID}} {
			rec := e.do(http.MethodGet, "/api/me/v1/whoami", nil, jwtHeader(contextToken(t, s.ck, s.secret, nil))...)
			if rec.Code != http.StatusOK || decode(t, rec)["tenant"] != s.want {
				t.Errorf("whoami of %s: %d %s, want tenant %s", s.ck, rec.Code, rec.Body, s.want)
			}
		}
	})
}

func contextClaims(ck string) map[string]any {
	c := connectClaims(ck, "GET", "/", "")
	c["qsh"] = "context-qsh"
	return c
}

package handlers_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/models"
)

// TestAttackGuard_ConnectJWTMisuse: expired, tampered, alg none, RS256 and
// lower-case alg tokens, tokens of one site signed with another's secret,
// a real-qsh token replayed on another path, context tokens on webhook and
// lifecycle routes, and a page token without sub are all refused with the
// one generic 401, and change nothing.
func TestAttackGuard_ConnectJWTMisuse(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		past := time.Now().Add(-time.Hour).Unix()
		ctxClaims := func(changes map[string]any) map[string]any {
			c := connectClaims(atkKeyA, "GET", "/", "")
			c["qsh"], c["sub"] = auth.ContextQSH, atkAdminA
			return edit(c, changes)
		}
		good := signHS256(t, map[string]any{"alg": "HS256", "typ": "JWT"}, ctxClaims(nil), []byte(atkSecretA))
		parts := strings.Split(good, ".")
		tampered := parts[0] + "." + segment(t, ctxClaims(map[string]any{"sub": atkAdminA2})) + "." + parts[2]
		bad := map[string]string{
			"expired":                     signHS256(t, map[string]any{"alg": "HS256"}, ctxClaims(map[string]any{"exp": past, "iat": past - 60}), []byte(atkSecretA)),
			"issued in the future":        signHS256(t, map[string]any{"alg": "HS256"}, ctxClaims(map[string]any{"iat": time.Now().Add(time.Hour).Unix(), "exp": time.Now().Add(2 * time.Hour).Unix()}), []byte(atkSecretA)),
			"no exp":                      signHS256(t, map[string]any{"alg": "HS256"}, ctxClaims(map[string]any{"exp": nil}), []byte(atkSecretA)),
			"tampered payload":            tampered,
			"alg none":                    segment(t, map[string]any{"alg": "none"}) + "." + segment(t, ctxClaims(nil)) + ".",
			"alg None, empty signature":   segment(t, map[string]any{"alg": "None"}) + "." + segment(t, ctxClaims(nil)) + ".",
			"alg hs256 lower-case":        signHS256(t, map[string]any{"alg": "hs256"}, ctxClaims(nil), []byte(atkSecretA)),
			"alg RS256 with HMAC bytes":   segment(t, map[string]any{"alg": "RS256"}) + "." + segment(t, ctxClaims(nil)) + "." + parts[2],
			"site B's secret, iss A":      signHS256(t, map[string]any{"alg": "HS256"}, ctxClaims(nil), []byte(atkSecretB)),
			"empty secret":                signHS256(t, map[string]any{"alg": "HS256"}, ctxClaims(nil), []byte("")),
			"unknown iss":                 signHS256(t, map[string]any{"alg": "HS256"}, ctxClaims(map[string]any{"iss": "nobody"}), []byte(atkSecretA)),
			"real qsh of another request": signHS256(t, map[string]any{"alg": "HS256"}, ctxClaims(map[string]any{"qsh": auth.QSH("GET", "/api/admin/v1/whoami", "")}), []byte(atkSecretA)),
			"no qsh":                      signHS256(t, map[string]any{"alg": "HS256"}, ctxClaims(map[string]any{"qsh": nil}), []byte(atkSecretA)),
			"crit header":                 signHS256(t, map[string]any{"alg": "HS256", "crit": []string{"exp"}}, ctxClaims(nil), []byte(atkSecretA)),
			"no sub":                      signHS256(t, map[string]any{"alg": "HS256"}, ctxClaims(map[string]any{"sub": nil}), []byte(atkSecretA)),
			"sub only in context":         signHS256(t, map[string]any{"alg": "HS256"}, ctxClaims(map[string]any{"sub": nil, "context": map[string]any{"user": map[string]any{"accountId": atkAdminA}}}), []byte(atkSecretA)),
		}
		for name, tok := range bad {
			for _, path := range []string{"/api/me/v1/whoami", "/api/admin/v1/whoami", "/api/admin/v1/credentials"} {
				wantUnauthorized(t, name+" on "+path, e.req("GET", path, "JWT "+tok, nil))
				wantUnauthorized(t, name+" as ?jwt= on "+path, e.req("GET", path+"?jwt="+url.QueryEscape(tok), "", nil))
			}
		}
		if rec := e.req("GET", "/api/admin/v1/whoami", "JWT "+good, nil); rec.Code != http.StatusOK {
			t.Fatalf("the good token is refused: %d %s", rec.Code, rec.Body)
		}
		// HS384 and HS512 with the right secret are accepted (documented).
		for _, alg := range []string{"HS384", "HS512"} {
			if rec := e.req("GET", "/api/me/v1/whoami", "JWT "+signHS256(t, map[string]any{"alg": alg}, ctxClaims(nil), []byte(atkSecretA)), nil); rec.Code != http.StatusOK {
				t.Errorf("%s: %d", alg, rec.Code)
			}
		}

		// Webhooks and lifecycle callbacks refuse context tokens and tokens
		// whose qsh is for another request.
		body := userUpdated(atkUserA, false, time.Now().UnixMilli())
		whBefore := e.count("webhook_events")
		for name, tok := range map[string]string{
			"context token":             contextToken(t, atkKeyA, atkSecretA, map[string]any{"sub": nil}),
			"qsh of GET /webhooks":      connectToken(t, atkKeyA, atkSecretA, "GET", "/webhooks/jira/user", map[string]any{"sub": nil}),
			"qsh of /lifecycle/enabled": connectToken(t, atkKeyA, atkSecretA, "POST", "/lifecycle/enabled", map[string]any{"sub": nil}),
			"qsh with a query":          signHS256(t, map[string]any{"alg": "HS256"}, edit(connectClaims(atkKeyA, "POST", "/webhooks/jira/user", "x=1"), map[string]any{"sub": nil}), []byte(atkSecretA)),
		} {
			wantUnauthorized(t, "webhook with "+name, e.req("POST", "/webhooks/jira/user", "JWT "+tok, body))
		}
		if n := e.count("webhook_events"); n != whBefore {
			t.Errorf("refused webhooks stored %d events", n-whBefore)
		}
		disable := mustJSON(t, map[string]any{"clientKey": atkKeyA, "key": appKey, "eventType": "disabled"})
		for name, tok := range map[string]string{
			"context token":            contextToken(t, atkKeyA, atkSecretA, nil),
			"qsh of the webhook route": connectToken(t, atkKeyA, atkSecretA, "POST", "/webhooks/jira/user", nil),
			"site B's token":           connectToken(t, atkKeyB, atkSecretB, "POST", "/lifecycle/disabled", nil),
		} {
			rec := e.req("POST", "/lifecycle/disabled", "JWT "+tok, disable)
			if rec.Code != http.StatusUnauthorized {
				t.Errorf("/lifecycle/disabled with %s: %d %s, want 401", name, rec.Code, rec.Body)
			}
		}
		tn, err := e.tenantSvc.Get(t.Context(), e.a.ID)
		if err != nil || tn.State != models.TenantInstalled {
			t.Errorf("site A after refused lifecycle calls: %v %v", tn, err)
		}
		// A token of a disabled site opens nothing.
		dis := connectToken(t, atkKeyB, atkSecretB, "POST", "/lifecycle/disabled", map[string]any{"sub": nil})
		if rec := e.req("POST", "/lifecycle/disabled", "JWT "+dis, mustJSON(t, map[string]any{"clientKey": atkKeyB})); rec.Code != http.StatusNoContent {
			t.Fatalf("disable B: %d %s", rec.Code, rec.Body)
		}
		wantError(t, "disabled site's user", e.as("b", atkUserB, "GET", "/api/me/v1/keys", nil), http.StatusForbidden, "site_not_active")
		wantError(t, "disabled site's admin", e.as("b", atkAdminB, "GET", "/api/admin/v1/credentials", nil), http.StatusForbidden, "site_not_active")
	})
}

// TestAttackGuard_AdminChecksDoNotFailOpen: a non-admin gets 403 on every
// admin route; when Jira cannot answer the permission check the answer is
// 503, never a pass.
func TestAttackGuard_AdminChecksDoNotFailOpen(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		k := e.createKey("a", atkUserA, nil)
		routes := []struct{ method, path string }{
			{"GET", "/api/admin/v1/whoami"}, {"GET", "/api/admin/v1/credentials"}, {"GET", "/api/admin/v1/credentials/" + k.Key.ID},
			{"POST", "/api/admin/v1/credentials/" + k.Key.ID + "/revoke"}, {"POST", "/api/admin/v1/credentials/revoke/preview"},
			{"POST", "/api/admin/v1/credentials/revoke"}, {"GET", "/api/admin/v1/users"}, {"POST", "/api/admin/v1/users/" + atkUserA + "/revoke"},
			{"GET", "/api/admin/v1/access-log"}, {"GET", "/api/admin/v1/export/credentials"}, {"GET", "/api/admin/v1/export/access-log"},
			{"GET", "/api/admin/v1/oauth/clients"}, {"POST", "/api/admin/v1/oauth/clients"}, {"GET", "/api/admin/v1/settings/offboarding"},
			{"PUT", "/api/admin/v1/settings/offboarding"}, {"GET", "/api/admin/v1/webhook-events"}, {"GET", "/api/admin/v1/reports"},
			{"GET", "/api/admin/v1/jobs"}, {"POST", "/api/admin/v1/jobs/reconcile/run"},
		}
		before := e.rowCounts()
		for _, r := range routes {
			wantError(t, r.method+" "+r.path+" as a user", e.as("a", atkUserA, r.method, r.path, map[string]any{"reason": "x"}), http.StatusForbidden, "forbidden")
			wantError(t, r.method+" "+r.path+" as site B's admin with A's path", e.req(r.method, r.path, e.auth("a", atkAdminB), map[string]any{"reason": "x"}), http.StatusForbidden, "forbidden")
		}
		e.jira.fail.Store(true)
		for _, r := range routes {
			wantError(t, r.method+" "+r.path+" while Jira fails", e.as("a", atkAdminA, r.method, r.path, map[string]any{"reason": "x"}), http.StatusServiceUnavailable, "unavailable")
		}
		after := e.rowCounts()
		for tb, n := range before {
			if after[tb] != n {
				t.Errorf("%s: %d rows before, %d after refused admin calls", tb, n, after[tb])
			}
		}
	})
}

// TestAttackGuard_ResourceServerTokens: /v1/verify and resource-server
// introspection need a configured token; anything else is 401.
func TestAttackGuard_ResourceServerTokens(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		k := e.createKey("a", atkUserA, nil)
		body := map[string]any{"credential": k.Secret, "method": "GET", "path": "/4/worklogs"}
		for name, authz := range map[string]string{
			"none": "", "wrong": "Bearer not-the-token", "prefix": "Bearer " + atkRS[:10], "extra": "Bearer " + atkRS + "x",
			"basic": "Basic " + atkRS, "JWT scheme": "JWT " + atkRS, "empty bearer": "Bearer ", "user JWT": e.auth("a", atkAdminA),
		} {
			wantUnauthorized(t, "verify with "+name, e.req("POST", "/v1/verify", authz, body))
			rec := e.req("POST", "/oauth/introspect", authz, url.Values{"token": {k.Secret}})
			if rec.Code != http.StatusUnauthorized && rec.Code != http.StatusBadRequest {
				t.Errorf("introspect with %s: %d %s", name, rec.Code, rec.Body)
			}
			if strings.Contains(rec.Body.String(), `"active":true`) {
				t.Errorf("introspect with %s answered active", name)
			}
		}
		if n := e.count("access_log"); n != 0 {
			t.Errorf("refused verifications were logged: %d", n)
		}
	})
}

// TestAttackGuard_DevRoutesAbsentWithoutDevMode: /dev/* is 404 when dev
// mode is off.
func TestAttackGuard_DevRoutesAbsentWithoutDevMode(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		for _, p := range []string{"/dev/admin", "/dev/me", "/dev/token?as=admin", "/dev/token?as=user"} {
			if rec := e.req("GET", p, "", nil); rec.Code != http.StatusNotFound || strings.Contains(rec.Body.String(), "token") {
				t.Errorf("GET %s without dev mode: %d %s", p, rec.Code, rec.Body)
			}
		}
	})
}

// TestAttackRegression_DevTokenServedToAnyHost: in dev mode /dev/token hands an
// administrator token of the dev site to any request, whatever its Host
// header. The loopback bind keeps other machines out, but not a web page
// in the developer's browser that rebinds its own host name to 127.0.0.1
// (DNS rebinding): its request carries Host: attacker.example and is
// same-origin for the page, so it can read the token and drive the admin
// API of the dev site. Dev routes should answer only Host values that name
// the loopback (localhost, 127.0.0.1, [::1]).
func TestAttackRegression_DevTokenServedToAnyHost(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		for _, host := range []string{"attacker.example:8080", "rebind.attacker.example"} {
			for _, p := range []string{"/dev/token?as=admin", "/dev/admin"} {
				req := httptest.NewRequest("GET", p, nil)
				req.Host = host
				rec := httptest.NewRecorder()
				e.e.ServeHTTP(rec, req)
				if rec.Code == http.StatusOK || rec.Code == http.StatusFound {
					t.Errorf("GET %s with Host %s: %d, a dev admin token for a foreign origin", p, host, rec.Code)
				}
			}
		}
		req := httptest.NewRequest("GET", "/dev/token?as=admin", nil)
		req.Host = "127.0.0.1:8080"
		rec := httptest.NewRecorder()
		e.e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("loopback host refused: %d", rec.Code)
		}
	})
}

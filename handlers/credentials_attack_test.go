package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAttackGuard_KeysAfterRevokeRegenerateExpiryAndRestart: a revoked,
// expired or replaced key is refused, also by a fresh process (a new
// verifier on the same database).
func TestAttackGuard_KeysAfterRevokeRegenerateExpiryAndRestart(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		revoked := e.createKey("a", atkUserA, nil)
		replaced := e.createKey("a", atkUserA, nil)
		overlapped := e.createKey("a", atkUserA, nil)
		expired := e.createKey("a", atkUserA, nil)
		adminRevoked := e.createKey("a", atkUserA, nil)
		for _, k := range []atkIssued{revoked, replaced, overlapped, expired, adminRevoked} {
			if v := e.verify(k.Secret, "GET", "/4/worklogs"); v["active"] != true {
				t.Fatalf("fresh key: %v", v)
			}
		}
		e.mustOK(e.as("a", atkUserA, "DELETE", "/api/me/v1/keys/"+revoked.Key.ID, nil), "revoke", http.StatusOK, nil)
		var regen, regen2 atkIssued
		e.mustOK(e.as("a", atkUserA, "POST", "/api/me/v1/keys/"+replaced.Key.ID+"/regenerate", nil), "regenerate", http.StatusOK, &regen)
		e.mustOK(e.as("a", atkUserA, "POST", "/api/me/v1/keys/"+overlapped.Key.ID+"/regenerate", map[string]any{"overlapMinutes": 60}), "regenerate with overlap", http.StatusOK, &regen2)
		e.mustOK(e.as("a", atkAdminA, "POST", "/api/admin/v1/credentials/"+adminRevoked.Key.ID+"/revoke", map[string]any{"reason": "leaked"}), "admin revoke", http.StatusOK, nil)
		if _, err := e.db.SQL().Exec(atkRebind(e, "UPDATE credentials SET expires_at = ? WHERE id = ?"), time.Now().Add(-time.Minute).UTC(), expired.Key.ID); err != nil {
			t.Fatal(err)
		}
		want := map[string]string{revoked.Secret: "revoked", replaced.Secret: "revoked", adminRevoked.Secret: "revoked", overlapped.Secret: "", regen.Secret: "", regen2.Secret: ""}
		check := func(who string, verify func(string) map[string]any) {
			for secret, reason := range want {
				v := verify(secret)
				if reason == "" && v["active"] != true || reason != "" && (v["active"] != false || v["reason"] != reason) {
					t.Errorf("%s: %s… gives %v, want reason %q", who, secret[:12], v, reason)
				}
			}
		}
		check("same process", func(s string) map[string]any { return e.verify(s, "GET", "/4/worklogs") })
		// A fresh process on the same database.
		fresh := newAtkEnv(t, e.db)
		want[expired.Secret] = "expired"
		check("after restart", func(s string) map[string]any { return fresh.verify(s, "GET", "/4/worklogs") })
		// Regenerating a revoked key does not revive it.
		if rec := e.as("a", atkUserA, "POST", "/api/me/v1/keys/"+revoked.Key.ID+"/regenerate", nil); rec.Code != http.StatusConflict {
			t.Errorf("regenerate a revoked key: %d %s", rec.Code, rec.Body)
		}
	})
}

// TestAttackGuard_VerifyPathTricks: a key limited to worklogs cannot reach
// another area through traversal, encodings, empty segments, case or
// trailing garbage.
func TestAttackGuard_VerifyPathTricks(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		view := e.createKey("a", atkUserA, map[string]any{"name": "view", "scopes": []string{"worklogs:view"}})
		manage := e.createKey("a", atkUserA, map[string]any{"name": "manage", "scopes": []string{"worklogs:manage"}})
		paths := []string{
			"/4/worklogs/../teams", "/4/worklogs/%2e%2e/teams", "/4/worklogs/%2E%2E/teams", "/4/worklogs/.%2e/teams", "/4/worklogs/%2e./teams",
			"/4/worklogs/..%2fteams", "/4/worklogs%2f..%2fteams", "/4/worklogs%2F..%2Fteams", "/4/worklogs/%252e%252e/teams", "/4/worklogs/..;/teams",
			"/4/worklogs;/../teams", "/4/worklogs\\..\\teams", "/4/worklogs%5c..%5cteams", "//4/teams", "/4//teams", "/4/./teams", "/4/Teams",
			"/4/TEAMS", "/4/teams", "/4/teams#/4/worklogs", "/4/teams%23/4/worklogs", "/4/teams/..%00/worklogs", "/4/worklogs/%", "/4/worklogs/%zz",
			"/4/worklogsx", "/4/worklogs-extra", "/4/ worklogs", "/4/worklogs\t", "/3/worklogs", "/4", "/4/", "/", "/cost-tracker/1/worklogs",
			"/4/skills", "/4/worklogs/../../4/teams",
		}
		for _, p := range paths {
			for _, m := range []string{"GET", "POST", "DELETE"} {
				v := e.verify(view.Secret, m, p)
				if v["active"] == true && (m != "GET" || !strings.HasPrefix(p, "/4/worklogs/") && p != "/4/worklogs") {
					t.Errorf("worklogs:view key allowed %s %s", m, p)
				}
				v = e.verify(manage.Secret, m, p)
				if v["active"] == true && !(p == "/4/worklogs" || strings.HasPrefix(p, "/4/worklogs/") && !strings.Contains(p, "..") && !strings.Contains(strings.ToLower(p), "%2e")) {
					t.Errorf("worklogs:manage key allowed %s %s", m, p)
				}
			}
		}
		// Search is read-only in its own area only.
		if v := e.verify(view.Secret, "POST", "/4/worklogs/search"); v["active"] != true {
			t.Errorf("view key cannot search worklogs: %v", v)
		}
		for _, p := range []string{"/4/teams/search", "/4/worklogs/search/../../teams/search", "/4/worklogs/search/"} {
			if v := e.verify(view.Secret, "POST", p); v["active"] == true {
				t.Errorf("view key allowed POST %s", p)
			}
		}
		// Lower-case or unknown methods are bad input, not a bypass.
		for _, m := range []string{"get", "Get", "PROPFIND", "TRACE", "CONNECT", ""} {
			rec := e.req("POST", "/v1/verify", "Bearer "+atkRS, map[string]any{"credential": view.Secret, "method": m, "path": "/4/worklogs"})
			wantError(t, "verify method "+m, rec, http.StatusBadRequest, "invalid_input")
		}
	})
}

// TestAttackGuard_OAuthTokensAndCodes: an access token dies with its grant
// (user, admin and RFC 7009 revocation), a replayed code revokes its grant,
// a rotated refresh token is refused within the grace period and revokes
// the grant after it, and a refresh token of another client is not spent.
func TestAttackGuard_OAuthTokensAndCodes(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		id, secret := e.registerClient(map[string]any{})
		other, otherSecret := e.registerClient(map[string]any{"name": "Other app"})

		// Grant revoked by the user, by an admin, and by the app (RFC 7009
		// with the refresh token).
		grantOf := func(access string) string {
			return e.verify(access, "GET", "/4/worklogs")["credentialId"].(string)
		}
		a1, _ := e.grant(id, secret, "")
		e.mustOK(e.as("a", atkUserA, "POST", "/api/me/v1/grants/"+grantOf(a1)+"/revoke", nil), "user revokes grant", http.StatusOK, nil)
		a2, _ := e.grant(id, secret, "")
		e.mustOK(e.as("a", atkAdminA, "POST", "/api/admin/v1/credentials/"+grantOf(a2)+"/revoke", map[string]any{"reason": "x"}), "admin revokes grant", http.StatusOK, nil)
		a3, r3 := e.grant(id, secret, "")
		if rec := e.formAs(other, otherSecret, "/oauth/revoke", url.Values{"token": {r3}}); rec.Code != http.StatusOK {
			t.Fatalf("other app's revoke: %d", rec.Code)
		}
		if v := e.verify(a3, "GET", "/4/worklogs"); v["active"] != true {
			t.Fatalf("another app revoked the grant: %v", v)
		}
		e.formAs(id, secret, "/oauth/revoke", url.Values{"token": {r3}, "token_type_hint": {"access_token"}})
		for i, a := range []string{a1, a2, a3} {
			if v := e.verify(a, "GET", "/4/worklogs"); v["active"] != false || v["reason"] != "revoked" {
				t.Errorf("access token %d after its grant was revoked: %v", i+1, v)
			}
		}
		if st, _ := e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {r3}}); st == http.StatusOK {
			t.Errorf("refresh after revocation succeeded")
		}

		// Code replay.
		code := e.code(id, "", "")
		st, out := e.token(id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {atkRedir}})
		if st != http.StatusOK {
			t.Fatalf("exchange: %d %v", st, out)
		}
		replayAccess := out["access_token"].(string)
		if st, out := e.token(id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {atkRedir}}); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Errorf("code replay: %d %v", st, out)
		}
		if v := e.verify(replayAccess, "GET", "/4/worklogs"); v["active"] != false {
			t.Errorf("code replay did not revoke the grant: %v", v)
		}
		// A code of one client redeemed by another is refused.
		code = e.code(id, "", "")
		if st, out := e.token(other, otherSecret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {atkRedir}}); st != http.StatusBadRequest {
			t.Errorf("other client redeemed the code: %d %v", st, out)
		}

		// Refresh rotation and reuse detection.
		access, refresh := e.grant(id, secret, "")
		if st, out := e.token(other, otherSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); st != http.StatusBadRequest {
			t.Errorf("other client refreshed: %d %v", st, out)
		}
		st, out = e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
		if st != http.StatusOK {
			t.Fatalf("refresh (the other client must not have spent it): %d %v", st, out)
		}
		newAccess := out["access_token"].(string)
		if st, _ := e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); st != http.StatusBadRequest {
			t.Errorf("reuse within the grace period: %d", st)
		}
		if v := e.verify(newAccess, "GET", "/4/worklogs"); v["active"] != true {
			t.Errorf("reuse within the grace period killed the grant: %v", v)
		}
		e.clock.Advance(6 * time.Second)
		if st, _ := e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); st != http.StatusBadRequest {
			t.Errorf("reuse after the grace period: %d", st)
		}
		for _, a := range []string{access, newAccess} {
			if v := e.verify(a, "GET", "/4/worklogs"); v["active"] != false || v["reason"] != "revoked" {
				t.Errorf("reuse after the grace period did not revoke the grant: %v", v)
			}
		}
		// Introspection: revoked and rotated tokens are inactive.
		rec := e.req("POST", "/oauth/introspect", "Bearer "+atkRS, url.Values{"token": {newAccess}})
		if !strings.Contains(rec.Body.String(), `"active":false`) {
			t.Errorf("introspect revoked token: %s", rec.Body)
		}
	})
}

// TestAttackGuard_OAuthRedirectAndPKCE: /oauth/authorize never redirects to
// a URI that is not registered exactly, and PKCE cannot be downgraded.
func TestAttackGuard_OAuthRedirectAndPKCE(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		id, secret := e.registerClient(map[string]any{})
		pub, _ := e.registerClient(map[string]any{"name": "CLI", "type": "public", "redirectUris": []string{"http://127.0.0.1/cb", "com.example.cli:/cb"}})
		before := e.count("oauth_requests")
		for _, ru := range []string{
			"https://evil.example.com/callback", "https://app.example.com/callback/../evil", "https://app.example.com@evil.example.com/callback",
			"https://evil.example.com@app.example.com/callback", "https://app.example.com/callback#x", "https://app.example.com:8443/callback",
			"https://APP.example.com/callback", "https://app.example.com/callback?x=1", "https://app.example.com/callback/", "https://app.example.com/Callback",
			"https://app.example.com/callback%2f..%2fevil", "http://app.example.com/callback", "https://app.example.com.evil.example/callback",
			"//evil.example.com/callback", "https:app.example.com/callback", "https://app.example.com/callback\x00", " https://app.example.com/callback",
		} {
			q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {ru}, "scope": {"nonsense"}, "state": {"s"}}
			rec := e.req("GET", "/oauth/authorize?"+q.Encode(), "", nil, "Accept", "text/html")
			if loc := rec.Header().Get("Location"); rec.Code/100 == 3 || loc != "" {
				t.Errorf("redirect_uri %q: %d to %q, want an error page", ru, rec.Code, loc)
			}
		}
		for _, ru := range []string{"http://127.0.0.1:80@evil.example.com/cb", "http://localhost:4000/cb", "http://127.0.0.1:4000/cb/../x", "http://127.0.0.1:4000/cb#f",
			"http://127.0.0.2:4000/cb", "http://[::1]:4000/cb", "http://127.0.0.1:4000/cb?x=1", "https://127.0.0.1:4000/cb", "http://127.0.0.1:99999999/cb", "com.example.cli:/cb2"} {
			q := url.Values{"response_type": {"code"}, "client_id": {pub}, "redirect_uri": {ru}, "code_challenge": {strings.Repeat("A", 43)}, "code_challenge_method": {"S256"}}
			rec := e.req("GET", "/oauth/authorize?"+q.Encode(), "", nil)
			if loc := rec.Header().Get("Location"); loc != "" {
				t.Errorf("public client redirect_uri %q: %d to %q, want an error page", ru, rec.Code, loc)
			}
		}
		if n := e.count("oauth_requests"); n != before {
			t.Errorf("refused authorization requests were stored: %d", n-before)
		}
		// A loopback port is free for public clients (RFC 8252).
		q := url.Values{"response_type": {"code"}, "client_id": {pub}, "redirect_uri": {"http://127.0.0.1:4567/cb"}, "code_challenge": {strings.Repeat("A", 43)}, "code_challenge_method": {"S256"}}
		if rec := e.req("GET", "/oauth/authorize?"+q.Encode(), "", nil); rec.Code != http.StatusFound || !strings.Contains(rec.Header().Get("Location"), "ac.request=") {
			t.Errorf("loopback port: %d %s", rec.Code, rec.Header().Get("Location"))
		}
		// Errors go back only to the registered URI.
		q = url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {atkRedir}, "scope": {"full"}, "state": {"s"}}
		rec := e.req("GET", "/oauth/authorize?"+q.Encode(), "", nil)
		if loc := rec.Header().Get("Location"); !strings.HasPrefix(loc, atkRedir+"?") || !strings.Contains(loc, "error=invalid_scope") {
			t.Errorf("scope beyond the client's: %d %q", rec.Code, loc)
		}

		// PKCE.
		for name, q := range map[string]url.Values{
			"public without PKCE": {"response_type": {"code"}, "client_id": {pub}, "redirect_uri": {"http://127.0.0.1/cb"}},
			"plain":               {"response_type": {"code"}, "client_id": {id}, "redirect_uri": {atkRedir}, "code_challenge": {strings.Repeat("A", 43)}, "code_challenge_method": {"plain"}},
			"no method":           {"response_type": {"code"}, "client_id": {id}, "redirect_uri": {atkRedir}, "code_challenge": {strings.Repeat("A", 43)}},
			"short challenge":     {"response_type": {"code"}, "client_id": {id}, "redirect_uri": {atkRedir}, "code_challenge": {"abc"}, "code_challenge_method": {"S256"}},
		} {
			rec := e.req("GET", "/oauth/authorize?"+q.Encode(), "", nil)
			if loc := rec.Header().Get("Location"); !strings.Contains(loc, "error=invalid_request") {
				t.Errorf("%s: %d %q, want error=invalid_request", name, rec.Code, loc)
			}
		}
		verifier := strings.Repeat("v", 50)
		for name, form := range map[string]url.Values{
			"no verifier":    {},
			"wrong verifier": {"code_verifier": {strings.Repeat("w", 50)}},
			"short verifier": {"code_verifier": {"v"}},
			"the challenge":  {"code_verifier": {strings.Repeat("A", 43)}},
		} {
			code := e.code(id, "", verifier)
			form.Set("grant_type", "authorization_code")
			form.Set("code", code)
			form.Set("redirect_uri", atkRedir)
			if st, out := e.token(id, secret, form); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
				t.Errorf("PKCE %s: %d %v", name, st, out)
			}
		}
		code := e.code(id, "", "")
		if st, _ := e.token(id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {atkRedir}, "code_verifier": {verifier}}); st != http.StatusBadRequest {
			t.Errorf("verifier without a challenge accepted: %d", st)
		}
		// The redirect_uri of the exchange must be the authorization's.
		code = e.code(id, "", "")
		if st, _ := e.token(id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {"https://evil.example.com/cb"}}); st != http.StatusBadRequest {
			t.Errorf("other redirect_uri at the token endpoint: %d", st)
		}
		// Client authentication: wrong secret, another client's secret, a
		// public client's id with a secret, both methods at once.
		_, otherSecret := e.registerClient(map[string]any{"name": "Other"})
		for name, s := range map[string]string{"wrong": wrongLast(secret), "other client's": otherSecret, "empty-ish": " "} {
			if st, out := e.token(id, s, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"kwr_x"}}); st != http.StatusUnauthorized || out["error"] != "invalid_client" {
				t.Errorf("%s secret: %d %v", name, st, out)
			}
		}
		if st, out := e.token(id, "", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"kwr_x"}}); st != http.StatusUnauthorized {
			t.Errorf("confidential client without secret: %d %v", st, out)
		}
	})
}

// TestAttackGuard_ScopeEscalation: a grant never holds more than the
// client's allowed scopes at consent time, a refresh cannot widen it, and
// self-service keys cannot smuggle "full" into custom scopes.
func TestAttackGuard_ScopeEscalation(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		id, secret := e.registerClient(map[string]any{"allowedScopes": []string{"worklogs:view"}})
		for _, sc := range []string{"full", "worklogs:manage", "teams:view", "worklogs:view full", "worklogs:view teams:manage"} {
			q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {atkRedir}, "scope": {sc}}
			if loc := e.req("GET", "/oauth/authorize?"+q.Encode(), "", nil).Header().Get("Location"); !strings.Contains(loc, "error=invalid_scope") {
				t.Errorf("scope %q: %q", sc, loc)
			}
		}
		access, refresh := e.grant(id, secret, "")
		if v := e.verify(access, "POST", "/4/worklogs"); v["active"] != false || v["reason"] != "scope_denied" {
			t.Errorf("view grant may write: %v", v)
		}
		for _, sc := range []string{"full", "worklogs:manage", "teams:view"} {
			if st, out := e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}, "scope": {sc}}); st != http.StatusBadRequest || out["error"] != "invalid_scope" {
				t.Errorf("refresh with scope %q: %d %v", sc, st, out)
			}
		}
		for _, body := range []map[string]any{
			{"name": "x", "access": "custom", "scopes": []string{"full"}},
			{"name": "x", "access": "custom", "scopes": []string{"worklogs:view", "full"}},
			{"name": "x", "access": "custom", "scopes": []string{"worklogs:admin"}},
			{"name": "x", "access": "full", "scopes": []string{"worklogs:view"}},
			{"name": "x", "access": "FULL"},
		} {
			wantError(t, "key with "+string(mustJSON(t, body)), e.as("a", atkUserA, "POST", "/api/me/v1/keys", body), http.StatusBadRequest, "invalid_input")
		}
	})
}

// TestAttackRegression_NarrowedClientScopesDoNotReachExistingGrants: an admin
// narrows an app's allowed scopes (README: "allowedScopes: the most a
// grant may hold"). The token endpoint checks the narrowed scopes when a
// code is exchanged, but a refresh keeps issuing access tokens with the
// grant's old, wider scopes, for as long as the app keeps refreshing
// (the grant slides 90 days on each refresh), and /v1/verify allows them.
func TestAttackRegression_NarrowedClientScopesDoNotReachExistingGrants(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		id, secret := e.registerClient(map[string]any{"allowedScopes": []string{"worklogs:manage", "teams:view"}})
		_, refresh := e.grant(id, secret, "worklogs:manage teams:view")
		e.mustOK(e.as("a", atkAdminA, "PATCH", "/api/admin/v1/oauth/clients/"+id, map[string]any{"allowedScopes": []string{"worklogs:view"}}), "narrow the app", http.StatusOK, nil)
		st, out := e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
		if st != http.StatusOK {
			return // refusing the refresh is one correct answer
		}
		if sc, _ := out["scope"].(string); sc != "worklogs:view" {
			t.Errorf("refresh after the app was narrowed to worklogs:view answers scope %q", sc)
		}
		access := out["access_token"].(string)
		for _, r := range []struct{ method, path string }{{"POST", "/4/worklogs"}, {"GET", "/4/teams"}} {
			if v := e.verify(access, r.method, r.path); v["active"] == true {
				t.Errorf("%s %s allowed with a token refreshed after the app was narrowed to worklogs:view (scopes %v)", r.method, r.path, v["scopes"])
			}
		}
	})
}

// TestAttackRegression_KeysOfUninstalledSiteKeepVerifying: after a site
// uninstalls keyward (or disables it), /v1/verify still answers "active"
// for its API keys (FindBySecret does not look at the tenant), while the
// site's admins and users get 403 site_not_active on every call that could
// revoke them, webhooks and reconciliation no longer run for it, and OAuth
// refreshes are refused. The keys stay usable for up to their whole
// lifetime (365 days by default) and nobody can revoke them.
func TestAttackRegression_KeysOfUninstalledSiteKeepVerifying(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		k := e.createKey("a", atkUserA, nil)
		if err := e.tenantSvc.ConnectUninstalled(t.Context(), atkKeyA); err != nil {
			t.Fatal(err)
		}
		rec := e.as("a", atkAdminA, "POST", "/api/admin/v1/credentials/"+k.Key.ID+"/revoke", map[string]any{"reason": "leaving"})
		revocable := rec.Code == http.StatusOK
		if v := e.verify(k.Secret, "GET", "/4/worklogs"); v["active"] == true && !revocable {
			t.Errorf("a key of an uninstalled site verifies as active (%v) and its admin cannot revoke it (%d %s)", v["scopes"], rec.Code, strings.TrimSpace(rec.Body.String()))
		}
	})
}

// wrongLast changes the last character of s (to something else than it was).
func wrongLast(s string) string {
	if s[len(s)-1] == 'x' {
		return s[:len(s)-1] + "y"
	}
	return s[:len(s)-1] + "x"
}

package handlers_test

// Security review (second round), OAuth findings kept as regressions: the
// reproductions of the review with the fixed behaviour asserted.

import (
	"encoding/json"
	"net/http"
	"net/url"
	"testing"
	"time"
)

// rvSetOwnerActive marks an owner (in)active in the users table directly, as
// offboarding would with autoRevoke off, and empties the verifier cache.
func rvSetOwnerActive(e *atkEnv, tenantID, account string, active bool) {
	e.t.Helper()
	res, err := e.db.SQL().Exec(atkRebind(e, "UPDATE users SET active = ? WHERE tenant_id = ? AND account_id = ?"), active, tenantID, account)
	if err != nil {
		e.t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := e.db.SQL().Exec(atkRebind(e, "INSERT INTO users (tenant_id, account_id, active, deleted, updated_at) VALUES (?, ?, ?, ?, ?)"), tenantID, account, active, false, time.Now().UTC()); err != nil {
			e.t.Fatal(err)
		}
	}
	e.verifier.InvalidateAll()
}

// rvIntrospect asks RFC 7662 introspection as the resource server.
func rvIntrospect(e *atkEnv, tok string) map[string]any {
	e.t.Helper()
	rec := e.req("POST", "/oauth/introspect", "Bearer "+atkRS, url.Values{"token": {tok}})
	if rec.Code != http.StatusOK {
		e.t.Fatalf("introspect: %d %s", rec.Code, rec.Body)
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// rvAuditCount counts audit events of an action in a tenant.
func rvAuditCount(e *atkEnv, tenantID, action string) int {
	e.t.Helper()
	var n int
	if err := e.db.SQL().QueryRow(atkRebind(e, "SELECT COUNT(*) FROM audit_events WHERE tenant_id = ? AND action = ?"), tenantID, action).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestAttackRegression_IntrospectionIgnoresSiteState: after site A disables
// (or uninstalls) keyward, /v1/verify refuses A's OAuth access tokens with
// site_inactive, but a resource server asking RFC 7662 introspection (with
// its KEYWARD_VERIFY_TOKENS bearer) was told the same tokens, and the
// refresh token, are active. Now both are inactive, like /v1/verify.
func TestAttackRegression_IntrospectionIgnoresSiteState(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		id, secret := e.registerClient(map[string]any{})
		access, refresh := e.grant(id, secret, "worklogs:view")
		if v := e.verify(access, "GET", "/4/worklogs"); v["active"] != true {
			t.Fatalf("fresh access token: %v", v)
		}
		for _, tok := range []string{access, refresh} {
			if out := rvIntrospect(e, tok); out["active"] != true || out["tenant"] != e.a.ID {
				t.Fatalf("introspection of a live token before the site changed: %v", out)
			}
		}
		for _, step := range []struct {
			name  string
			apply func() error
		}{
			{"disabled", func() error { return e.tenantSvc.ConnectDisabled(t.Context(), atkKeyA) }},
			{"uninstalled", func() error { return e.tenantSvc.ConnectUninstalled(t.Context(), atkKeyA) }},
		} {
			if err := step.apply(); err != nil {
				t.Fatal(err)
			}
			e.verifier.InvalidateAll()
			if v := e.verify(access, "GET", "/4/worklogs"); v["active"] != false || v["reason"] != "site_inactive" {
				t.Fatalf("%s: verify says %v, want site_inactive", step.name, v)
			}
			if out := rvIntrospect(e, access); out["active"] != false || len(out) != 1 {
				t.Errorf("site %s: introspection of its access token says %v (verify says site_inactive)", step.name, out)
			}
			if out := rvIntrospect(e, refresh); out["active"] != false || len(out) != 1 {
				t.Errorf("site %s: introspection of its refresh token says %v", step.name, out)
			}
		}
	})
}

// TestAttackRegression_RestrictedAppKeepsGrantsOfExcludedUsers: an admin
// restricts an app to named users after user A authorized it. A new
// authorization by A was refused, but A's existing grant kept refreshing
// (sliding 90 days) and its tokens verified. Now narrowing allowedUsers
// revokes A's grant at once, audited in the same change, and the refresh
// is invalid_grant; the named user's grant is untouched.
func TestAttackRegression_RestrictedAppKeepsGrantsOfExcludedUsers(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		id, secret := e.registerClient(map[string]any{})
		access, refresh := e.grant(id, secret, "worklogs:view")
		// A grant of the user the app stays allowed for (admin A2).
		q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {atkRedir}, "state": {"s"}}
		var d struct {
			RedirectTo string `json:"redirectTo"`
		}
		e.mustOK(e.as("a", atkAdminA2, http.MethodPost, "/api/me/v1/oauth/requests/"+e.authorizeRequest(q)+"/decision", map[string]any{"approve": true}), "A2 approves", http.StatusOK, &d)
		to, _ := url.Parse(d.RedirectTo)
		st, out := e.token(id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {to.Query().Get("code")}, "redirect_uri": {atkRedir}})
		if st != http.StatusOK {
			t.Fatalf("A2's code exchange: %d %v", st, out)
		}
		keptAccess, keptRefresh := out["access_token"].(string), out["refresh_token"].(string)

		e.mustOK(e.as("a", atkAdminA, http.MethodPatch, "/api/admin/v1/oauth/clients/"+id, map[string]any{"allowedUsers": []string{atkAdminA2}}), "restrict app", http.StatusOK, nil)
		if v := e.verify(access, "GET", "/4/worklogs"); v["active"] != false || v["reason"] != "revoked" {
			t.Errorf("access token of a user the app no longer allows, right after the restriction: %v, want revoked", v)
		}
		if n := rvAuditCount(e, e.a.ID, "oauth_grant.user_not_allowed"); n != 1 {
			t.Errorf("%d oauth_grant.user_not_allowed audit events, want 1", n)
		}
		if out := rvIntrospect(e, refresh); out["active"] != false {
			t.Errorf("refresh token of the excluded user introspects as %v", out)
		}

		req := e.authorizeRequest(q)
		if rec := e.as("a", atkUserA, http.MethodPost, "/api/me/v1/oauth/requests/"+req+"/decision", map[string]any{"approve": true}); rec.Code != http.StatusForbidden {
			t.Fatalf("excluded user approving: %d %s", rec.Code, rec.Body)
		}
		st, out = e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
		if st != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Errorf("refresh of a user the app no longer allows: %d %v, want 400 invalid_grant", st, out)
			if st == http.StatusOK {
				t.Errorf("its new access token verifies: %v", e.verify(out["access_token"].(string), "GET", "/4/worklogs")["active"])
			}
		}

		if v := e.verify(keptAccess, "GET", "/4/worklogs"); v["active"] != true {
			t.Errorf("grant of the user the app still allows: %v", v)
		}
		if st, out := e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {keptRefresh}}); st != http.StatusOK {
			t.Errorf("refresh of the user the app still allows: %d %v", st, out)
		}
	})
}

// TestAttackRegression_RestrictionCheckedAtCodeExchange: a code approved
// before the app was restricted is not exchanged for a grant of a user the
// app no longer allows.
func TestAttackRegression_RestrictionCheckedAtCodeExchange(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		id, secret := e.registerClient(map[string]any{})
		code := e.code(id, "worklogs:view", "")
		e.mustOK(e.as("a", atkAdminA, http.MethodPatch, "/api/admin/v1/oauth/clients/"+id, map[string]any{"allowedGroups": []string{"jira-servicedesk-users"}}), "restrict app", http.StatusOK, nil)
		st, out := e.token(id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {atkRedir}})
		if st != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Errorf("code of a user the app no longer allows: %d %v, want 400 invalid_grant", st, out)
		}
	})
}

// TestAttackRegression_InactiveOwnerGrantStaysAliveForOAuth: with
// autoRevoke off, an owner deactivated in Jira has their credentials
// refused (owner_inactive) while inactive. Introspection of the refresh
// token said active, and the app could keep refreshing (new tokens minted
// for a deactivated person). Now the refresh token is inactive and the
// refresh invalid_grant, without revoking the grant or spending the token:
// when the person is reactivated, both work again.
func TestAttackRegression_InactiveOwnerGrantStaysAliveForOAuth(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		id, secret := e.registerClient(map[string]any{})
		access, refresh := e.grant(id, secret, "worklogs:view")
		rvSetOwnerActive(e, e.a.ID, atkUserA, false)
		if v := e.verify(access, "GET", "/4/worklogs"); v["active"] != false || v["reason"] != "owner_inactive" {
			t.Fatalf("verify of an inactive owner's token: %v", v)
		}
		if out := rvIntrospect(e, access); out["active"] != false {
			t.Errorf("access token of an inactive owner introspects as %v", out)
		}
		if out := rvIntrospect(e, refresh); out["active"] != false {
			t.Errorf("refresh token of an inactive owner introspects as %v, want inactive", out)
		}
		if rec := e.formAs(id, secret, "/oauth/introspect", url.Values{"token": {refresh}}); rec.Code != http.StatusOK || rec.Body.String() != "{\"active\":false}\n" {
			t.Errorf("the app introspecting its inactive owner's refresh token: %d %s", rec.Code, rec.Body)
		}
		if st, out := e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}}); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Errorf("refresh for an inactive owner: %d %v, want 400 invalid_grant", st, out)
		}

		rvSetOwnerActive(e, e.a.ID, atkUserA, true)
		if out := rvIntrospect(e, refresh); out["active"] != true {
			t.Errorf("refresh token after the owner was reactivated: %v", out)
		}
		st, out := e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
		if st != http.StatusOK {
			t.Fatalf("refresh after the owner was reactivated: %d %v", st, out)
		}
		if v := e.verify(out["access_token"].(string), "GET", "/4/worklogs"); v["active"] != true {
			t.Errorf("access token refreshed after reactivation: %v", v)
		}
	})
}

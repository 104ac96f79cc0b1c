package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/keyward/keyward/models"
)

// TestInstallThenConnectThenForge is the foundation's end-to-end path: a
// signed install, a Connect JWT call, a Forge Invocation Token call, then
// the rest of the Connect lifecycle, all through the real router.
func TestInstallThenConnectThenForge(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		p := installPayload(t, "", "")
		clientKey, secret := p["clientKey"].(string), p["sharedSecret"].(string)

		tn := e.installOK(p)
		if tn.State != models.TenantInstalled || tn.BaseURL != "https://tenant-a.atlassian.net" {
			t.Fatalf("installed tenant = %+v", tn)
		}

		// A page's XHR call with a context token, in the header and in the query.
		rec := e.do(http.MethodGet, "/api/me/v1/whoami", nil, jwtHeader(contextToken(t, clientKey, secret, nil))...)
		if rec.Code != http.StatusOK {
			t.Fatalf("connect whoami: %d %s", rec.Code, rec.Body)
		}
		if got := decode(t, rec); got["tenant"] != tn.ID || got["accountId"] != accountID || got["via"] != "connect" {
			t.Errorf("connect whoami = %v", got)
		}
		queryToken := contextToken(t, clientKey, secret, nil)
		if rec := e.do(http.MethodGet, "/api/me/v1/whoami?jwt="+url.QueryEscape(queryToken), nil); rec.Code != http.StatusOK {
			t.Errorf("whoami with ?jwt=: %d %s", rec.Code, rec.Body)
		}

		// A Forge UI call, with the app system token header.
		fit := fitToken(t, "fit-1", rsaKey(t, 0), nil)
		rec = e.do(http.MethodPost, "/forge/ui/whoami", nil, append(bearerHeader(fit), "x-forge-oauth-system", "forge-system-token-value")...)
		if rec.Code != http.StatusOK {
			t.Fatalf("forge whoami: %d %s", rec.Code, rec.Body)
		}
		forgeTenant, err := e.tenants.ByForgeInstallation(ctx, "ari:cloud:ecosystem::installation/7d8e9f00-5555-4a1b-9c2d-3e4f5a6b7c8d")
		if err != nil {
			t.Fatalf("forge tenant: %v", err)
		}
		if got := decode(t, rec); got["tenant"] != forgeTenant.ID || got["accountId"] != accountID || got["via"] != "forge" {
			t.Errorf("forge whoami = %v", got)
		}
		if forgeTenant.CloudID != "0a1b2c3d-6666-4e5f-8a9b-0c1d2e3f4a5b" || forgeTenant.APIBaseURL == "" {
			t.Errorf("forge tenant = %+v", forgeTenant)
		}
		if tok, err := e.svc.ForgeSystemToken(forgeTenant); err != nil || tok != "forge-system-token-value" {
			t.Errorf("forge system token = %q, %v", tok, err)
		}
		// The page API takes a FIT too.
		rec = e.do(http.MethodGet, "/api/me/v1/whoami", nil, bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), nil))...)
		if rec.Code != http.StatusOK || decode(t, rec)["via"] != "forge" {
			t.Errorf("whoami with a FIT: %d %s", rec.Code, rec.Body)
		}
		// Forge lifecycle events are acknowledged.
		rec = e.do(http.MethodPost, "/forge/events", []byte(`{"eventType":"avi:forge:installed:app"}`), bearerHeader(triggerToken(t, "fit-1", rsaKey(t, 0), nil))...)
		if rec.Code != http.StatusNoContent {
			t.Errorf("forge installed event: %d %s", rec.Code, rec.Body)
		}

		body := mustJSON(t, p)
		toggle := func(path string) int {
			t.Helper()
			tok := connectToken(t, clientKey, secret, http.MethodPost, path, nil)
			return e.do(http.MethodPost, path, body, jwtHeader(tok)...).Code
		}
		if code := toggle("/lifecycle/disabled"); code != http.StatusNoContent || e.state(clientKey) != models.TenantDisabled {
			t.Fatalf("disabled: %d, state %s", code, e.state(clientKey))
		}
		// A disabled site's users are refused with 403, not 401.
		rec = e.do(http.MethodGet, "/api/me/v1/whoami", nil, jwtHeader(contextToken(t, clientKey, secret, nil))...)
		wantError(t, "whoami on a disabled site", rec, http.StatusForbidden, "site_not_active")
		if code := toggle("/lifecycle/disabled"); code != http.StatusNoContent || e.state(clientKey) != models.TenantDisabled {
			t.Errorf("disabled again: %d, state %s", code, e.state(clientKey))
		}
		if code := toggle("/lifecycle/enabled"); code != http.StatusNoContent || e.state(clientKey) != models.TenantInstalled {
			t.Fatalf("enabled: %d, state %s", code, e.state(clientKey))
		}

		// Uninstall is a signed call too.
		unTok := installToken(t, "kid-1", rsaKey(t, 0), clientKey, "/lifecycle/uninstalled", nil)
		if rec := e.do(http.MethodPost, "/lifecycle/uninstalled", body, jwtHeader(unTok)...); rec.Code != http.StatusNoContent || e.state(clientKey) != models.TenantUninstalled {
			t.Fatalf("uninstalled: %d %s, state %s", rec.Code, rec.Body, e.state(clientKey))
		}
		// The old secret no longer opens anything.
		rec = e.do(http.MethodGet, "/api/me/v1/whoami", nil, jwtHeader(contextToken(t, clientKey, secret, nil))...)
		wantUnauthorized(t, "whoami after uninstall", rec)

		// A late disabled (with or without a JWT) and an enabled are answered
		// without reviving the site.
		if rec := e.do(http.MethodPost, "/lifecycle/disabled", body); rec.Code != http.StatusNoContent {
			t.Errorf("late disabled without JWT: %d %s", rec.Code, rec.Body)
		}
		if code := toggle("/lifecycle/disabled"); code != http.StatusNoContent {
			t.Errorf("late disabled with JWT: %d", code)
		}
		if code := toggle("/lifecycle/enabled"); code != http.StatusNoContent {
			t.Errorf("enabled after uninstall: %d", code)
		}
		if st := e.state(clientKey); st != models.TenantUninstalled {
			t.Errorf("state after late callbacks = %s, want uninstalled", st)
		}

		// Only a new signed install brings the site back.
		e.installOK(installPayload(t, "", "a-new-shared-secret-after-reinstall"))
		rec = e.do(http.MethodGet, "/api/me/v1/whoami", nil, jwtHeader(contextToken(t, clientKey, "a-new-shared-secret-after-reinstall", nil))...)
		if rec.Code != http.StatusOK || decode(t, rec)["tenant"] != tn.ID {
			t.Errorf("whoami after re-install: %d %s", rec.Code, rec.Body)
		}

		// Nothing secret reached the logs.
		logs := e.logs.String()
		for _, s := range []string{secret, "a-new-shared-secret-after-reinstall", "forge-system-token-value", queryToken, fit} {
			if strings.Contains(logs, s) {
				t.Errorf("logs contain a secret or token: %.24s...", s)
			}
		}
	})
}

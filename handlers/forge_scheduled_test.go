package handlers_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/keyward/keyward/models"
)

// TestForgeScheduledTrigger: the Forge scheduled trigger needs a valid FIT,
// keeps the newest system token, and answers at once.
func TestForgeScheduledTrigger(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		wantError(t, "no token", e.do(http.MethodPost, "/forge/scheduled", []byte(`{}`)), http.StatusUnauthorized, "unauthorized")
		expired := triggerToken(t, "fit-1", rsaKey(t, 0), map[string]any{"exp": 1})
		wantError(t, "expired token", e.do(http.MethodPost, "/forge/scheduled", []byte(`{}`), bearerHeader(expired)...), http.StatusUnauthorized, "unauthorized")

		h := append(bearerHeader(triggerToken(t, "fit-1", rsaKey(t, 0), nil)), "x-forge-oauth-system", "system-token-from-trigger")
		if rec := e.do(http.MethodPost, "/forge/scheduled", []byte(`{}`), h...); rec.Code != http.StatusNoContent {
			t.Fatalf("scheduled trigger = %d %s", rec.Code, rec.Body)
		}
		tn, err := e.tenants.ByForgeInstallation(context.Background(), fitInstallation)
		if err != nil || tn.State != models.TenantInstalled {
			t.Fatalf("tenant = %+v, %v", tn, err)
		}
		tok, err := e.svc.ForgeSystemToken(tn)
		if err != nil || tok != "system-token-from-trigger" {
			t.Fatalf("system token = %q, %v", tok, err)
		}
	})
}

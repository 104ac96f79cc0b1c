package handlers_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// TestAttackRegression_BulkRevokeDriftsFromPreview: a confirmation re-runs
// its filter, so a key whose owner was deactivated after the preview was
// revoked without ever being shown. A selection that grew is now refused
// with 409 and nothing is revoked; a new preview shows it and works.
func TestAttackRegression_BulkRevokeDriftsFromPreview(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			e := newInvEnv(t, storetest.Open(t, d), true)
			ctx := context.Background()
			seed := store.NewSeed(e.db)
			now := time.Now().UTC()
			if err := seed.UpsertUsers(ctx, []models.User{
				{TenantID: e.b, AccountID: "gone", DisplayName: "Gone", Active: false, UpdatedAt: now},
				{TenantID: e.b, AccountID: "still-here", DisplayName: "Still Here", Active: true, UpdatedAt: now},
			}); err != nil {
				t.Fatal(err)
			}
			gone := e.key(e.b, "gone", "gone's key")
			bystander := e.key(e.b, "still-here", "automation the admin never saw in the preview")
			preview := func() (count int64, token string) {
				var pv struct {
					Count        int64
					Confirmation string
				}
				e.ok(invAdminB, http.MethodPost, "/api/admin/v1/credentials/revoke/preview", map[string]any{"filter": map[string]any{"ownerInactive": true}}, &pv)
				return pv.Count, pv.Confirmation
			}
			n, token := preview()
			if n != 1 {
				t.Fatalf("preview count %d, want 1", n)
			}
			// Between preview and confirmation the second owner is deactivated.
			if err := seed.UpsertUsers(ctx, []models.User{{TenantID: e.b, AccountID: "still-here", DisplayName: "Still Here", Active: false, UpdatedAt: now.Add(time.Second)}}); err != nil {
				t.Fatal(err)
			}
			confirm := map[string]string{"confirmation": token, "reason": "inactive owners"}
			rec := e.call(invAdminB, http.MethodPost, "/api/admin/v1/credentials/revoke", confirm)
			if rec.Code != http.StatusConflict || !strings.Contains(rec.Body.String(), "selection_changed") {
				t.Fatalf("confirm after the selection grew: %d %s, want 409 selection_changed", rec.Code, rec.Body)
			}
			for _, id := range []string{gone.Key.ID, bystander.Key.ID} {
				var dd struct{ Credential adminCredential }
				e.ok(invAdminB, http.MethodGet, "/api/admin/v1/credentials/"+id, nil, &dd)
				if dd.Credential.Status != "active" {
					t.Errorf("%s is %s after a refused confirmation, want active", id, dd.Credential.Status)
				}
			}
			if n, token = preview(); n != 2 {
				t.Fatalf("new preview count %d, want 2", n)
			}
			var res struct{ Revoked int }
			e.ok(invAdminB, http.MethodPost, "/api/admin/v1/credentials/revoke", map[string]string{"confirmation": token, "reason": "inactive owners"}, &res)
			if res.Revoked != 2 {
				t.Fatalf("revoked %d, want 2", res.Revoked)
			}
		})
	}
}

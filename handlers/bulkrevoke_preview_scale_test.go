package handlers_test

import (
	"context"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/keyward/keyward/app/devmode"
	"github.com/keyward/keyward/app/seed"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// TestBulkRevokePreviewAtScale times bulk revocation previews, which count
// and digest every matching id in one streamed pass, on PostgreSQL, run on
// demand:
//
//	KEYWARD_SCALE_PREVIEW=100000 go test -run TestBulkRevokePreviewAtScale -v -timeout 10m ./handlers/
//
// KEYWARD_SCALE_PREVIEW_CONFIRM=1 also times the confirmation of the
// largest preview (every key revoked, with its audit rows).
func TestBulkRevokePreviewAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("KEYWARD_SCALE_PREVIEW"))
	if n <= 0 {
		t.Skip("set KEYWARD_SCALE_PREVIEW (e.g. 100000) to time bulk revocation previews")
	}
	storetest.RequirePostgres(t)
	ctx := context.Background()
	db := storetest.Open(t, storetest.Postgres)
	e := newInvEnv(t, db, true)
	start := time.Now()
	if _, err := seed.Run(ctx, store.NewSeed(db), store.NewAccessLog(db), store.NewAudit(db), seed.Options{
		TenantID: e.a, Users: max(n/50, 400), Keys: n, Batch: 50_000, FastSecrets: true,
		Owners: []models.User{{AccountID: devAdmin, DisplayName: devmode.AdminDisplayName, Active: true, UpdatedAt: time.Now()}},
	}); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d keys in %s", n, time.Since(start).Round(time.Millisecond))

	inv := store.NewInventory(db)
	var largest bulkPreviewBody
	for _, sc := range []struct {
		name string
		sel  map[string]any
	}{
		{"all", map[string]any{"all": true}},
		{"status=active", map[string]any{"filter": map[string]any{"status": "active"}}},
		{"ownerInactive", map[string]any{"filter": map[string]any{"ownerInactive": true}}},
		{"staleDays=90", map[string]any{"filter": map[string]any{"staleDays": 90}}},
	} {
		var best time.Duration
		var pv bulkPreviewBody
		for i := range 5 {
			t0 := time.Now()
			pv = e.bulkPreview(devAdmin, sc.sel)
			if d := time.Since(t0); i == 0 || d < best {
				best = d
			}
		}
		// What the count alone costs, for comparison.
		t0 := time.Now()
		if _, _, err := inv.CountCredentials(ctx, store.CredentialFilter{TenantID: e.a, NotRevoked: true, Now: time.Now()}, 100_000_000, 0); err != nil {
			t.Fatal(err)
		}
		countAll := time.Since(t0)
		t.Logf("preview %-14s %7d credentials: best of 5 %s (count of all live alone: %s)", sc.name, pv.Count, best.Round(100*time.Microsecond), countAll.Round(100*time.Microsecond))
		if pv.Count > largest.Count {
			largest = pv
		}
	}
	// A refused confirmation fails fast: one previewed key revoked meanwhile.
	e.ok(devAdmin, http.MethodPost, "/api/admin/v1/credentials/"+largest.Sample[0].ID+"/revoke", map[string]string{"reason": "one by one"}, nil)
	t0 := time.Now()
	rec := e.call(devAdmin, http.MethodPost, bulkConfirm, map[string]string{"confirmation": largest.Confirmation, "reason": "scale"})
	if rec.Code != http.StatusConflict {
		t.Fatalf("confirm after a change: %d %s", rec.Code, rec.Body)
	}
	t.Logf("confirm of a changed selection of %d: 409 in %s", largest.Count, time.Since(t0).Round(100*time.Microsecond))
	if os.Getenv("KEYWARD_SCALE_PREVIEW_CONFIRM") != "" {
		largest = e.bulkPreview(devAdmin, map[string]any{"all": true})
		t0 := time.Now()
		var res struct{ Revoked int }
		e.ok(devAdmin, http.MethodPost, bulkConfirm, map[string]string{"confirmation": largest.Confirmation, "reason": "scale"}, &res)
		t.Logf("confirm: %d revoked with audit rows in %s", res.Revoked, time.Since(t0).Round(time.Millisecond))
	}
}

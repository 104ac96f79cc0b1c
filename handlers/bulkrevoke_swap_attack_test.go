package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

const (
	bulkPreview = "/api/admin/v1/credentials/revoke/preview"
	bulkConfirm = "/api/admin/v1/credentials/revoke"
)

type bulkPreviewBody struct {
	Count        int64
	Sample       []adminCredential
	Confirmation string
}

func (e *invEnv) bulkPreview(who string, sel map[string]any) bulkPreviewBody {
	e.t.Helper()
	var pv bulkPreviewBody
	e.ok(who, http.MethodPost, bulkPreview, sel, &pv)
	return pv
}

func (e *invEnv) status(who, id string) string {
	e.t.Helper()
	var d struct{ Credential adminCredential }
	e.ok(who, http.MethodGet, "/api/admin/v1/credentials/"+id, nil, &d)
	return d.Credential.Status
}

// exec runs SQL written with ? placeholders on either dialect.
func (e *invEnv) exec(q string, args ...any) {
	e.t.Helper()
	if e.db.IsPostgres() {
		var b strings.Builder
		n := 0
		for _, r := range q {
			if r == '?' {
				n++
				fmt.Fprintf(&b, "$%d", n)
				continue
			}
			b.WriteRune(r)
		}
		q = b.String()
	}
	if _, err := e.db.SQL().Exec(q, args...); err != nil {
		e.t.Fatalf("%s: %v", q, err)
	}
}

func wantSelectionChanged(t *testing.T, what string, e *invEnv, token string) {
	t.Helper()
	rec := e.call(invAdminB, http.MethodPost, bulkConfirm, map[string]string{"confirmation": token, "reason": "cleanup"})
	body := wantError(t, what, rec, http.StatusConflict, "selection_changed")
	if body != nil && !strings.Contains(rec.Body.String(), "nothing was revoked") {
		t.Errorf("%s: message %s does not say nothing was revoked", what, rec.Body)
	}
}

// TestAttackRegression_BulkRevokeSwapsUnseenCredentialIn: the drift check
// compared counts only, so a previewed key revoked meanwhile freed a slot
// for a key never shown (its owner deactivated since), and the confirmation
// revoked it with 200. The confirmation now revokes exactly the previewed
// set or nothing: 409 selection_changed, nothing revoked, token unused.
func TestAttackRegression_BulkRevokeSwapsUnseenCredentialIn(t *testing.T) {
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
			bystander := e.key(e.b, "still-here", "automation the admin never saw")
			pv := e.bulkPreview(invAdminB, map[string]any{"filter": map[string]any{"ownerInactive": true}})
			if pv.Count != 1 {
				t.Fatalf("preview %d", pv.Count)
			}
			// Meanwhile: the previewed key is revoked on its own, and the
			// bystander's owner is marked inactive (e.g. a grace period).
			e.ok(invAdminB, http.MethodPost, "/api/admin/v1/credentials/"+gone.Key.ID+"/revoke", map[string]string{"reason": "one by one"}, nil)
			if err := seed.UpsertUsers(ctx, []models.User{{TenantID: e.b, AccountID: "still-here", DisplayName: "Still Here", Active: false, UpdatedAt: now.Add(time.Second)}}); err != nil {
				t.Fatal(err)
			}
			wantSelectionChanged(t, "confirm after a swap", e, pv.Confirmation)
			if st := e.status(invAdminB, bystander.Key.ID); st != "active" {
				t.Errorf("a credential never shown in the preview was revoked by its confirmation (status %s)", st)
			}
			// Refused, not used: the same token is refused the same way.
			wantSelectionChanged(t, "the same token again", e, pv.Confirmation)
			if got := e.auditActions(e.b); got["credential.bulk_revoke"] != 0 || got["credentials.bulk_revoke"] != 0 {
				t.Errorf("audit rows of a refused confirmation: %v", got)
			}
			// A new preview shows the bystander and works.
			pv = e.bulkPreview(invAdminB, map[string]any{"filter": map[string]any{"ownerInactive": true}})
			if pv.Count != 1 || pv.Sample[0].ID != bystander.Key.ID {
				t.Fatalf("new preview: %+v", pv)
			}
			var res struct{ Revoked int }
			e.ok(invAdminB, http.MethodPost, bulkConfirm, map[string]string{"confirmation": pv.Confirmation, "reason": "inactive owners"}, &res)
			if res.Revoked != 1 || e.status(invAdminB, bystander.Key.ID) != "revoked" {
				t.Fatalf("revoked %d after a new preview", res.Revoked)
			}
		})
	}
}

// TestAttackRegression_BulkRevokeSelectionShrank: a selection some of whose
// credentials were revoked (or stopped matching) since the preview is a
// change too: the confirmation revokes nothing, by ids and by filter.
func TestAttackRegression_BulkRevokeSelectionShrank(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		ctx := context.Background()
		var ids []string
		for i := range 3 {
			ids = append(ids, e.key(e.b, "u1", fmt.Sprintf("k%d", i)).Key.ID)
		}
		pv := e.bulkPreview(invAdminB, map[string]any{"ids": ids})
		if pv.Count != 3 {
			t.Fatalf("preview by ids: %d", pv.Count)
		}
		e.ok(invAdminB, http.MethodPost, "/api/admin/v1/credentials/"+ids[1]+"/revoke", map[string]string{"reason": "one by one"}, nil)
		wantSelectionChanged(t, "ids selection that shrank", e, pv.Confirmation)
		for _, id := range []string{ids[0], ids[2]} {
			if st := e.status(invAdminB, id); st != "active" {
				t.Errorf("%s is %s after a refused confirmation", id, st)
			}
		}
		pv = e.bulkPreview(invAdminB, map[string]any{"ids": ids})
		if pv.Count != 2 {
			t.Fatalf("new preview by ids: %d", pv.Count)
		}
		var res struct{ Revoked int }
		e.ok(invAdminB, http.MethodPost, bulkConfirm, map[string]string{"confirmation": pv.Confirmation, "reason": "by ids"}, &res)
		if res.Revoked != 2 {
			t.Fatalf("revoked %d, want 2", res.Revoked)
		}

		// By filter: an owner reactivated meanwhile.
		seed := store.NewSeed(e.db)
		now := time.Now().UTC()
		if err := seed.UpsertUsers(ctx, []models.User{
			{TenantID: e.b, AccountID: "away1", Active: false, UpdatedAt: now},
			{TenantID: e.b, AccountID: "away2", Active: false, UpdatedAt: now},
		}); err != nil {
			t.Fatal(err)
		}
		k1, k2 := e.key(e.b, "away1", "a1"), e.key(e.b, "away2", "a2")
		pv = e.bulkPreview(invAdminB, map[string]any{"filter": map[string]any{"ownerInactive": true}})
		if pv.Count != 2 {
			t.Fatalf("preview by filter: %d", pv.Count)
		}
		if err := seed.UpsertUsers(ctx, []models.User{{TenantID: e.b, AccountID: "away2", Active: true, UpdatedAt: now.Add(time.Second)}}); err != nil {
			t.Fatal(err)
		}
		wantSelectionChanged(t, "filter selection that shrank", e, pv.Confirmation)
		if e.status(invAdminB, k1.Key.ID) != "active" || e.status(invAdminB, k2.Key.ID) != "active" {
			t.Error("a refused confirmation revoked something")
		}
	})
}

// TestAttackRegression_BulkRevokeExpiredSelectionGrowsWithTheClock: the
// confirmation re-evaluated time-relative filters at its own time, so a key
// expiring between preview and confirmation grew the selection and, on a
// site where keys keep expiring, no confirmation could succeed. The filter
// is now evaluated at the preview's time.
func TestAttackRegression_BulkRevokeExpiredSelectionGrowsWithTheClock(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		var ids []string
		for i := range 4 {
			k := e.key(e.b, "someone", "k")
			at := e.clock.Now().Add(-time.Hour)
			if i == 3 {
				at = e.clock.Now().Add(90 * time.Second) // expires right after the preview
			}
			e.exec(`UPDATE credentials SET expires_at = ? WHERE id = ?`, at, k.Key.ID)
			ids = append(ids, k.Key.ID)
		}
		pv := e.bulkPreview(invAdminB, map[string]any{"filter": map[string]any{"status": "expired"}})
		if pv.Count != 3 {
			t.Fatalf("preview %d, want 3", pv.Count)
		}
		e.clock.Advance(2 * time.Minute) // the admin reads the preview
		var res struct{ Revoked int }
		e.ok(invAdminB, http.MethodPost, bulkConfirm, map[string]string{"confirmation": pv.Confirmation, "reason": "expired"}, &res)
		if res.Revoked != 3 {
			t.Fatalf("revoked %d, want the 3 previewed", res.Revoked)
		}
		if st := e.status(invAdminB, ids[3]); st == "revoked" {
			t.Error("a key that expired after the preview was revoked without being shown")
		}
	})
}

// TestAttackRegression_BulkRevokeStaleSelectionGrowsWithTheClock: the same
// for staleDays, whose cut-off moved with the confirmation's clock.
func TestAttackRegression_BulkRevokeStaleSelectionGrowsWithTheClock(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		stale, almost := e.key(e.b, "someone", "stale"), e.key(e.b, "someone", "almost stale")
		now := e.clock.Now()
		e.exec(`UPDATE credentials SET created_at = ?, last_used_at = ? WHERE id = ?`, now.AddDate(0, 0, -60), now.AddDate(0, 0, -40), stale.Key.ID)
		e.exec(`UPDATE credentials SET created_at = ?, last_used_at = ? WHERE id = ?`, now.AddDate(0, 0, -60), now.AddDate(0, 0, -30).Add(5*time.Minute), almost.Key.ID)
		pv := e.bulkPreview(invAdminB, map[string]any{"filter": map[string]any{"staleDays": 30}})
		if pv.Count != 1 || pv.Sample[0].ID != stale.Key.ID {
			t.Fatalf("preview: %+v", pv)
		}
		e.clock.Advance(8 * time.Minute) // within the token's 10 minutes
		var res struct{ Revoked int }
		e.ok(invAdminB, http.MethodPost, bulkConfirm, map[string]string{"confirmation": pv.Confirmation, "reason": "stale"}, &res)
		if res.Revoked != 1 || e.status(invAdminB, almost.Key.ID) != "active" {
			t.Fatalf("revoked %d; the key that went stale after the preview is %s", res.Revoked, e.status(invAdminB, almost.Key.ID))
		}
	})
}

// TestAttackRegression_BulkRevokeDigestOrder: the preview's digest walks
// ids in the database's order and the confirmation sorts what it revoked in
// Go; both must be byte order, also for ids a linguistic collation orders
// differently (PostgreSQL's default collation may be one).
func TestAttackRegression_BulkRevokeDigestOrder(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		if e.db.IsPostgres() {
			// A linguistic collation on the id, as a database created with
			// en_US.UTF-8 has: it sorts "a_c a-c aa ab B Z".
			if _, err := e.db.SQL().Exec(`ALTER TABLE credentials ALTER COLUMN id TYPE TEXT COLLATE "und-x-icu"`); err != nil {
				t.Logf("no ICU collation, the database's own stays: %v", err)
			}
		}
		now := e.clock.Now()
		ids := []string{"a-c", "ab", "B", "a_c", "Z", "aa", "a c", "é", "e", "F-1", "f_0"}
		creds := make([]models.Credential, len(ids))
		for i, id := range ids {
			creds[i] = models.Credential{ID: id, TenantID: e.b, Kind: models.KindAPIKey, OwnerAccountID: "o", Name: "n" + id, Scopes: "full",
				CreatedAt: now.Add(-time.Hour), UpdatedAt: now.Add(-time.Hour)}
		}
		if err := store.NewSeed(e.db).CreateCredentials(context.Background(), creds, nil); err != nil {
			t.Fatal(err)
		}
		for _, sel := range []map[string]any{{"all": true}, {"ids": ids}} {
			pv := e.bulkPreview(invAdminB, sel)
			if pv.Count != int64(len(ids)) {
				t.Fatalf("preview %v: %d", sel, pv.Count)
			}
			rec := e.call(invAdminB, http.MethodPost, bulkConfirm, map[string]string{"confirmation": pv.Confirmation, "reason": "order"})
			if rec.Code != http.StatusOK {
				t.Fatalf("confirm %v: %d %s", sel, rec.Code, rec.Body)
			}
			// Unrevoke for the next selection.
			e.exec(`UPDATE credentials SET revoked_at = NULL WHERE tenant_id = ?`, e.b)
		}
	})
}

// TestAttackRegression_BulkRevokeDigestNotClientSettable: the digest lives
// in the stored selection, but a preview request cannot name it.
func TestAttackRegression_BulkRevokeDigestNotClientSettable(t *testing.T) {
	e := newInvEnv(t, storetest.Open(t, storetest.SQLite), true)
	e.key(e.b, "u", "k")
	for _, body := range []map[string]any{
		{"all": true, "idsDigest": "00"},
		{"all": true, "createdAtOrBefore": time.Now().Add(time.Hour)},
	} {
		wantError(t, fmt.Sprintf("preview with %v", body), e.call(invAdminB, http.MethodPost, bulkPreview, body), http.StatusBadRequest, "invalid_input")
	}
}

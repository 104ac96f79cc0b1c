package offboard_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// population gives a site n active owners with a key each, known to its
// fake Jira, and returns their secrets by owner.
func population(t *testing.T, s *site, tn *models.Tenant, fj *offboardtest.FakeJira, prefix string, n int) map[string]string {
	t.Helper()
	out := map[string]string{}
	for i := range n {
		id := fmt.Sprintf("%s-%04d", prefix, i)
		fj.SetUser(id, true)
		out[id], _ = s.Key(t, tn.ID, id)
	}
	return out
}

func items(t *testing.T, s *site, tenantID string, reportID int64) []models.ReportItem {
	t.Helper()
	it, err := s.Reports.Items(context.Background(), tenantID, reportID, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func reportsOf(t *testing.T, s *site, tenantID string) []models.Report {
	t.Helper()
	r, err := s.Reports.List(context.Background(), tenantID, models.ReportReconcile, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestReconcileRevokesInactiveAndMissingOwners(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{ReconcileConcurrency: 3})
		forgeJira := offboardtest.NewFakeJira(t)
		forge := s.ForgeSite(t, "ari:cloud:ecosystem::installation/f1", "cloud-1", forgeJira)
		for _, x := range []struct {
			tn *models.Tenant
			fj *offboardtest.FakeJira
		}{{s.site, s.jira}, {forge, forgeJira}} {
			keys := population(t, s, x.tn, x.fj, "u", 200) // three batches of at most 90
			x.fj.SetPageSize(40)                           // and Jira pages its answers
			x.fj.SetUser(alice, false)
			x.fj.SetUser(bob, true)
			x.fj.SetUser(carol, false)
			ka, _ := s.Key(t, x.tn.ID, alice)
			kb, _ := s.Key(t, x.tn.ID, bob)
			kc, _ := s.Key(t, x.tn.ID, carol)
			kd, _ := s.Key(t, x.tn.ID, "gone-1") // unknown to Jira: deleted
			keys[alice], keys[bob], keys[carol], keys["gone-1"] = ka, kb, kc, kd
		}
		s.setSettings(offboard.SettingsInput{ExemptAccountIDs: []string{carol}})
		if _, err := s.Svc.UpdateSettings(context.Background(), forge.ID, "admin", offboard.SettingsInput{ExemptAccountIDs: []string{carol}}); err != nil {
			t.Fatal(err)
		}

		var mu sync.Mutex
		var notes []string
		counts, err := s.Svc.Reconcile(context.Background(), offboard.Run{RunID: 42, Progress: func(c offboard.Counts, note string) {
			mu.Lock()
			notes = append(notes, note)
			mu.Unlock()
		}})
		if err != nil {
			t.Fatalf("reconcile: %v", err)
		}
		if counts["sites"] != 2 || counts["owners_checked"] != 2*204 || counts["revoked"] != 4 || counts["reports"] != 2 {
			t.Fatalf("counts: %v", counts)
		}
		if len(notes) == 0 {
			t.Fatal("no progress reported")
		}
		for _, x := range []struct {
			tn   *models.Tenant
			fj   *offboardtest.FakeJira
			auth string
		}{{s.site, s.jira, "JWT "}, {forge, forgeJira, "Bearer forge-system-token"}} {
			if h := x.fj.AuthHeaders(); len(h) == 0 || !strings.HasPrefix(h[0], x.auth) {
				t.Fatalf("site %s: Authorization %q, want %q…", x.tn.ID, h, x.auth)
			}
			if calls := x.fj.BulkCalls.Load(); calls < 6 {
				t.Fatalf("site %s: %d user/bulk calls, want pages of 3 batches", x.tn.ID, calls)
			}
			reps := reportsOf(t, s, x.tn.ID)
			if len(reps) != 1 {
				t.Fatalf("site %s: %d reports", x.tn.ID, len(reps))
			}
			r := reps[0]
			if r.Status != "ok" || r.OwnersChecked != 204 || r.Revoked != 2 || r.RunID == nil || *r.RunID != 42 || r.FinishedAt.Before(r.StartedAt) {
				t.Fatalf("site %s report: %+v", x.tn.ID, r)
			}
			revoked := map[string]string{}
			exempt := 0
			for _, it := range items(t, s, x.tn.ID, r.ID) {
				switch it.Kind {
				case models.ItemRevoked:
					revoked[it.OwnerAccountID] = it.Reason
				case models.ItemExempt:
					exempt++
				}
			}
			if len(revoked) != 2 || revoked[alice] != offboard.ReasonReconciled || revoked["gone-1"] != offboard.ReasonReconciled || exempt != 1 {
				t.Fatalf("site %s items: revoked %v exempt %d", x.tn.ID, revoked, exempt)
			}
			if u := s.user(x.tn.ID, "gone-1"); !u.Deleted || u.CheckedAt == nil {
				t.Fatalf("missing owner not marked deleted: %+v", u)
			}
			if u := s.user(x.tn.ID, bob); !u.Active || u.CheckedAt == nil || u.DisplayName != "User "+bob {
				t.Fatalf("active owner row: %+v", u)
			}
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM credentials WHERE revoke_reason = ?", offboard.ReasonReconciled); n != 4 {
			t.Fatalf("revoked credentials: %d", n)
		}
		// A second run finds nothing new to revoke (idempotent).
		counts, err = s.Svc.Reconcile(context.Background(), offboard.Run{})
		if err != nil || counts["revoked"] != 0 || counts["owners_checked"] != 2*202 {
			t.Fatalf("second run: %v %v", counts, err)
		}
	})
}

func TestReconcileHonoursRateLimitsAndRetries5xx(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{ReconcileConcurrency: 1})
		s.Jira.SetRetryPolicy(4, 20*time.Millisecond)
		s.jira.SetUser(alice, false)
		k, _ := s.Key(t, s.site.ID, alice)
		s.jira.SetLatency(5 * time.Millisecond)
		s.jira.Fail(
			offboardtest.Failure{Status: 429, RetryAfter: "0", Reason: "jira-quota-based"},
			offboardtest.Failure{Status: 429, RetryAfter: "1", Reason: "jira-burst-based"},
			offboardtest.Failure{Status: 503},
		)
		if _, err := s.Svc.Reconcile(context.Background(), offboard.Run{}); err != nil {
			t.Fatalf("reconcile through 429/503: %v", err)
		}
		if got := s.jira.BulkCalls.Load(); got != 4 {
			t.Fatalf("user/bulk calls: %d, want 3 refused + 1", got)
		}
		wantRefused(t, "after retries", s.Verify(k), models.ReasonRevoked)
	})
}

func TestOneFailingSiteDoesNotStopTheOthers(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		jb := offboardtest.NewFakeJira(t)
		jc := offboardtest.NewFakeJira(t)
		b := s.ConnectSite(t, "client-b", jb)
		c := s.ConnectSite(t, "client-c", jc)
		for _, x := range []struct {
			tn *models.Tenant
			fj *offboardtest.FakeJira
		}{{s.site, s.jira}, {b, jb}, {c, jc}} {
			x.fj.SetUser(alice, false)
			s.Key(t, x.tn.ID, alice)
		}
		s.jira.Fail(offboardtest.Failure{Status: 400})                                                                   // not retried
		jb.Fail(offboardtest.Failure{Status: 500}, offboardtest.Failure{Status: 502}, offboardtest.Failure{Status: 503}) // retries exhausted
		counts, err := s.Svc.Reconcile(context.Background(), offboard.Run{})
		if !errors.Is(err, offboard.ErrPartial) || counts["sites_failed"] != 2 || counts["sites_done"] != 1 {
			t.Fatalf("counts %v err %v", counts, err)
		}
		for _, x := range []struct {
			tn     *models.Tenant
			status string
		}{{s.site, "error"}, {b, "error"}, {c, "ok"}} {
			r := reportsOf(t, s, x.tn.ID)[0]
			if r.Status != x.status || (x.status == "error" && (r.Error == "" || r.Errors != 1)) {
				t.Fatalf("site %s report: %+v", x.tn.ID, r)
			}
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL"); n != 1 {
			t.Fatalf("revoked: %d, want only site C's", n)
		}
	})
}

func TestStaleAndExpiredCredentialsAreReported(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		s.jira.SetUsers(true, alice, bob)
		_, expired := s.Key(t, s.site.ID, alice)
		_, stale := s.Key(t, s.site.ID, bob)
		fresh, _ := s.Key(t, s.site.ID, bob)
		long := s.clock.Now().Add(-100 * 24 * time.Hour)
		s.Exec(t, "UPDATE credentials SET expires_at = ? WHERE id = ?", s.clock.Now().Add(-time.Hour), expired)
		s.Exec(t, "UPDATE credentials SET created_at = ?, last_used_at = ? WHERE id = ?", long, long, stale)

		if _, err := s.Svc.Reconcile(context.Background(), offboard.Run{}); err != nil {
			t.Fatal(err)
		}
		r := reportsOf(t, s, s.site.ID)[0]
		if r.Expired != 1 || r.Stale != 1 || r.Revoked != 0 {
			t.Fatalf("report: %+v", r)
		}
		// Opting in revokes stale credentials on the next run.
		s.setSettings(offboard.SettingsInput{StaleAfterDays: ptr(30), RevokeStale: ptr(true)})
		if _, err := s.Svc.Reconcile(context.Background(), offboard.Run{}); err != nil {
			t.Fatal(err)
		}
		r = reportsOf(t, s, s.site.ID)[0]
		if r.Revoked != 1 {
			t.Fatalf("stale revocation report: %+v", r)
		}
		if c := s.Credential(t, s.site.ID, stale); c.RevokeReason != offboard.ReasonStale {
			t.Fatalf("stale credential: %+v", c)
		}
		wantActive(t, "fresh key", s.Verify(fresh))
	})
}

func TestReportExportAndSignedDelivery(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		var (
			mu       sync.Mutex
			received []*http.Request
			bodies   [][]byte
		)
		hook := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			received, bodies = append(received, r), append(bodies, b)
			mu.Unlock()
			w.WriteHeader(http.StatusNoContent)
		}))
		t.Cleanup(hook.Close)
		s := newSite(t, db, offboard.Options{HTTPClient: hook.Client(), AllowPrivateWebhooks: true})
		secret := "report-secret-0123456789"
		s.setSettings(offboard.SettingsInput{ReportWebhookURL: ptr(hook.URL), ReportWebhookSecret: ptr(secret)})
		s.jira.SetUser(alice, false)
		s.Key(t, s.site.ID, alice)
		if _, err := s.Svc.Reconcile(context.Background(), offboard.Run{}); err != nil {
			t.Fatal(err)
		}
		r := reportsOf(t, s, s.site.ID)[0]
		mu.Lock()
		if len(received) != 1 {
			t.Fatalf("deliveries: %d", len(received))
		}
		got, body := received[0], bodies[0]
		mu.Unlock()
		if sig := got.Header.Get("X-Keyward-Signature"); sig != offboard.Sign([]byte(secret), body) || !strings.HasPrefix(sig, "sha256=") {
			t.Fatalf("signature %q does not match the body", sig)
		}
		var doc struct {
			Event  string                  `json:"event"`
			Report offboard.ReportDocument `json:"report"`
		}
		if err := json.Unmarshal(body, &doc); err != nil || doc.Event != "report.reconcile" || doc.Report.ID != r.ID || doc.Report.Revoked != 1 || len(doc.Report.Items) != 1 {
			t.Fatalf("delivered %s (%v)", body, err)
		}
		if r.DeliveredAt == nil || r.DeliveryError != "" {
			t.Fatalf("delivery not recorded: %+v", r)
		}
		if bytes.Contains(body, []byte(secret)) {
			t.Fatal("the secret was sent")
		}

		var buf bytes.Buffer
		if err := s.Svc.WriteReportCSV(context.Background(), s.site.ID, r.ID, &buf); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&buf).ReadAll()
		if err != nil || len(rows) != 2 || rows[0][1] != "kind" || rows[1][1] != models.ItemRevoked || rows[1][3] != alice || rows[1][4] != offboard.ReasonReconciled {
			t.Fatalf("csv: %v %v", rows, err)
		}
		other := s.ConnectSite(t, "client-b", s.jira)
		if _, err := s.Svc.Report(context.Background(), other.ID, r.ID, 0); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("another site's report: %v", err)
		}
		if err := s.Svc.WriteReportCSV(context.Background(), other.ID, r.ID, io.Discard); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("another site's csv: %v", err)
		}

		// A weekly summary sums the week's runs and is delivered too.
		if _, err := s.Svc.Weekly(context.Background(), offboard.Run{TenantID: s.site.ID}); err != nil {
			t.Fatal(err)
		}
		weekly, _ := s.Reports.List(context.Background(), s.site.ID, models.ReportWeekly, 0, 10)
		if len(weekly) != 1 || weekly[0].Revoked != 1 || !strings.Contains(weekly[0].Summary, `"reconcileRuns":1`) {
			t.Fatalf("weekly: %+v", weekly)
		}
		mu.Lock()
		if len(received) != 2 || received[1].Header.Get("X-Keyward-Event") != "report.weekly" {
			t.Fatalf("weekly delivery: %d", len(received))
		}
		mu.Unlock()
	})
}

func TestSettingsValidation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		bad := []offboard.SettingsInput{
			{GraceSeconds: ptr(-1)},
			{GraceSeconds: ptr(offboard.MaxGraceSeconds + 1)},
			{StaleAfterDays: ptr(-5)},
			{ExemptAccountIDs: []string{"ok", "has space"}},
			{ReportWebhookURL: ptr("http://example.com/hook"), ReportWebhookSecret: ptr("0123456789abcdef")},
			{ReportWebhookURL: ptr("https://example.com/hook")}, // no secret
			{ReportWebhookURL: ptr("https://example.com/hook"), ReportWebhookSecret: ptr("short")},
			{StaleAfterDays: ptr(0), RevokeStale: ptr(true)},
		}
		for i, in := range bad {
			if _, err := s.Svc.UpdateSettings(context.Background(), s.site.ID, "admin", in); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("case %d: %v, want invalid", i, err)
			}
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'settings.offboarding.update'"); n != 0 {
			t.Fatalf("refused updates audited: %d", n)
		}
		got, err := s.Svc.UpdateSettings(context.Background(), s.site.ID, "admin", offboard.SettingsInput{
			GraceSeconds: ptr(60), ExemptAccountIDs: []string{bob, bob, alice}, ReportWebhookURL: ptr("https://example.com/h"), ReportWebhookSecret: ptr("0123456789abcdef"),
		})
		if err != nil || got.GraceSeconds != 60 || len(got.ExemptAccountIDs) != 2 || !got.AutoRevoke || len(got.ReportWebhookSecretEnc) == 0 {
			t.Fatalf("update: %+v %v", got, err)
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'settings.offboarding.update' AND actor = 'admin' AND details NOT LIKE '%0123456789abcdef%'"); n != 1 {
			t.Fatalf("audit rows: %d", n)
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM offboarding_settings WHERE report_webhook_url = ? AND exempt_account_ids LIKE ?", "https://example.com/h", "%"+alice+"%"); n != 1 {
			t.Fatalf("stored settings: %d", n)
		}
	})
}

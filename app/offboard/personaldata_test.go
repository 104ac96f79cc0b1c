package offboard_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

func TestPersonalDataReportingErasesClosedAccounts(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		fj := offboardtest.NewFakeJira(t)
		forge := s.ForgeSite(t, "ari:cloud:ecosystem::installation/f1", "cloud-1", fj)
		s.Svc = offboard.New(offboard.Deps{Events: s.Events, Users: s.Users, Settings: s.Settings, Reports: s.Reports, Revoker: s.Creds,
			Jira: s.Jira, Tenants: s.TenantStore, Audit: s.Audit, Tx: db, Sealer: s.Sealer, Log: s.Log}, offboard.Options{ForgeAPIBase: fj.URL})
		s.Svc.SetClock(s.clock.Now)

		for i := range 150 {
			s.Key(t, s.site.ID, fmt.Sprintf("owner-%03d", i))
		}
		ka, _ := s.Key(t, s.site.ID, alice)
		kb, _ := s.Key(t, s.site.ID, bob)
		s.Key(t, forge.ID, alice)
		s.ingest(s.site.ID, "p", updated(t, alice, true, 1)) // stores a display name
		s.drain()
		s.jira.SetUser(bob, true)
		s.jira.SetAccountStatus(alice, "closed")
		s.jira.SetAccountStatus(bob, "updated")
		s.jira.SetCyclePeriod("86400")
		at := s.clock.Now()
		err := store.NewAccessLog(db).Append(context.Background(), []models.AccessLogEntry{
			{TenantID: s.site.ID, At: at, OwnerAccountID: alice, Decision: models.DecisionAllow, IP: "198.51.100.1", UserAgent: "curl/8", Path: "/4/worklogs"},
			{TenantID: s.site.ID, At: at, OwnerAccountID: bob, Decision: models.DecisionAllow, IP: "198.51.100.2", UserAgent: "curl/8", Path: "/4/worklogs"},
		})
		if err != nil {
			t.Fatal(err)
		}

		counts, err := s.Svc.PersonalData(context.Background(), offboard.Run{})
		if err != nil {
			t.Fatalf("personal data: %v", err)
		}
		if counts["accounts_reported"] != 153 || counts["accounts_closed"] != 1 || counts["accounts_updated"] != 1 {
			t.Fatalf("counts: %v", counts)
		}
		for _, batch := range s.jira.Reported() {
			if len(batch) > 90 {
				t.Fatalf("a report carried %d accounts", len(batch))
			}
		}
		if n := len(s.jira.Reported()); n != 2 {
			t.Fatalf("report calls: %d, want 2 for 152 accounts", n)
		}
		wantRefused(t, "closed account's key", s.Verify(ka), models.ReasonRevoked)
		wantActive(t, "updated account's key", s.Verify(kb))
		if u := s.user(s.site.ID, alice); u.DisplayName != "" || u.Email != "" {
			t.Fatalf("closed account not erased: %+v", u)
		}
		if u := s.user(s.site.ID, bob); u.DisplayName != "User "+bob || u.CheckedAt == nil {
			t.Fatalf("updated account not refreshed: %+v", u)
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM access_log WHERE owner_account_id = ? AND ip = '' AND user_agent = '' AND path = '/4/worklogs'", alice); n != 1 {
			t.Fatal("closed account's access log not erased (or the row was dropped)")
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM access_log WHERE owner_account_id = ? AND ip <> ''", bob); n != 1 {
			t.Fatal("another account's access log was erased")
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'user.personal_data_erased' AND target_id = ?", alice); n != 1 {
			t.Fatal("erasure not audited")
		}
		st, _ := s.Settings.Get(context.Background(), s.site.ID)
		if st.PDRNextAt == nil || st.PDRCycleSeconds != 86400 || st.PDRNextAt.Sub(s.clock.Now()) != 24*time.Hour {
			t.Fatalf("cycle: %+v", st)
		}

		// The Forge site went through the platform endpoint with its token.
		if fj.ReportCalls.Load() != 1 || !strings.HasPrefix(fj.AuthHeaders()[0], "Bearer ") {
			t.Fatalf("forge report: %d calls %v", fj.ReportCalls.Load(), fj.AuthHeaders())
		}
		// Not due again before the cycle ends, unless forced.
		before := s.jira.ReportCalls.Load()
		if c, err := s.Svc.PersonalData(context.Background(), offboard.Run{TenantID: s.site.ID}); err != nil || c["sites_not_due"] != 1 || s.jira.ReportCalls.Load() != before {
			t.Fatalf("not-due run: %v %v", c, err)
		}
		if _, err := s.Svc.PersonalData(context.Background(), offboard.Run{TenantID: s.site.ID, Force: true}); err != nil || s.jira.ReportCalls.Load() == before {
			t.Fatalf("forced run: %v", err)
		}
	})
}

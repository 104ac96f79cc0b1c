package offboard_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

func TestDeactivationRevokesEverythingOfThePerson(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		a1, _ := s.Key(t, s.site.ID, alice)
		a2, _ := s.Key(t, s.site.ID, alice)
		b1, _ := s.Key(t, s.site.ID, bob)
		wantActive(t, "alice before", s.Verify(a1)) // cached

		ev, dup := s.ingest(s.site.ID, "wh-1", updated(t, alice, false, 1764763200123))
		if dup || ev.ID == 0 || ev.Status != models.EventPending {
			t.Fatalf("ingest: %+v dup=%v", ev, dup)
		}
		// Nothing happens before a worker runs: ingestion only stores.
		wantActive(t, "alice before processing", s.Verify(a1))
		if n := s.drain(); n != 1 {
			t.Fatalf("processed %d events, want 1", n)
		}
		wantRefused(t, "alice key 1", s.Verify(a1), models.ReasonRevoked)
		wantRefused(t, "alice key 2", s.Verify(a2), models.ReasonRevoked)
		wantActive(t, "bob", s.Verify(b1))

		got := s.event(s.site.ID, ev.ID)
		if got.Status != models.EventDone || !strings.Contains(got.Outcome, "revoked 2") || got.ProcessedAt == nil {
			t.Fatalf("event after processing: %+v", got)
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM audit_events WHERE tenant_id = ? AND action = ? AND actor = ? AND reason = ? AND details LIKE ?",
			s.site.ID, offboard.ActionOffboard, credentials.ActorSystem, offboard.ReasonDeactivated, "%eventId%"); n != 2 {
			t.Fatalf("audit rows: %d, want one per credential (2)", n)
		}
		if u := s.user(s.site.ID, alice); u.Active || u.Deleted || u.DisplayName != "Example Person" {
			t.Fatalf("user row: %+v", u)
		}
	})
}

func TestDeletionRevokesAndSticks(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		k, id := s.Key(t, s.site.ID, alice)
		s.ingest(s.site.ID, "wh-del", deleted(t, alice, 2000))
		s.drain()
		wantRefused(t, "after delete", s.Verify(k), models.ReasonRevoked)
		if c := s.Credential(t, s.site.ID, id); c.RevokeReason != offboard.ReasonDeleted || c.RevokedBy != credentials.ActorSystem {
			t.Fatalf("credential: %+v", c)
		}
		// A late, older "active" event and even a newer one never undo it.
		s.ingest(s.site.ID, "wh-old-active", updated(t, alice, true, 1000))
		s.ingest(s.site.ID, "wh-new-active", updated(t, alice, true, 3000))
		s.drain()
		if u := s.user(s.site.ID, alice); !u.Deleted {
			t.Fatalf("deleted user came back: %+v", u)
		}
		wantRefused(t, "after late events", s.Verify(k), models.ReasonRevoked)
		// A key issued to the deleted person later is refused too.
		k2, _ := s.Key(t, s.site.ID, alice)
		wantRefused(t, "new key of deleted user", s.Verify(k2), models.ReasonOwnerInactive)
	})
}

func TestOutOfOrderEventsNeverResurrect(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		k, _ := s.Key(t, s.site.ID, alice)
		// Reactivation (newer) is processed first, deactivation (older) last.
		s.ingest(s.site.ID, "wh-2", updated(t, alice, true, 2000))
		s.drain()
		s.ingest(s.site.ID, "wh-1", updated(t, alice, false, 1000))
		s.drain()
		// The older deactivation does not flip the state back...
		if u := s.user(s.site.ID, alice); !u.Active {
			t.Fatalf("an older event overwrote a newer state: %+v", u)
		}
		// ...but revocation is never undone and revoking is the safe side.
		wantRefused(t, "key", s.Verify(k), models.ReasonRevoked)
		// Reactivation does not un-revoke; a new key works.
		s.ingest(s.site.ID, "wh-3", updated(t, alice, true, 3000))
		s.drain()
		wantRefused(t, "old key after reactivation", s.Verify(k), models.ReasonRevoked)
		k2, _ := s.Key(t, s.site.ID, alice)
		wantActive(t, "new key after reactivation", s.Verify(k2))
	})
}

func TestDuplicateDeliveriesHaveOneEffect(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		s.Key(t, s.site.ID, alice)
		body := updated(t, alice, false, 5000)
		first, dup1 := s.ingest(s.site.ID, "same-id", body)
		second, dup2 := s.ingest(s.site.ID, "same-id", body)
		if dup1 || !dup2 || first.ID != second.ID {
			t.Fatalf("dedupe by identifier: %d/%v %d/%v", first.ID, dup1, second.ID, dup2)
		}
		// Forge deliveries without an id are deduplicated by body.
		forge := mustJSON(t, sample(t, "forge_event_deleted_user.json"))
		f1, _, err := s.Svc.Ingest(context.Background(), offboard.Delivery{TenantID: s.site.ID, Source: offboard.SourceForge, Body: forge})
		if err != nil {
			t.Fatal(err)
		}
		f2, dup, err := s.Svc.Ingest(context.Background(), offboard.Delivery{TenantID: s.site.ID, Source: offboard.SourceForge, Body: forge})
		if err != nil || !dup || f1.ID != f2.ID || f1.EventType != models.UserDeleted || f1.AccountID != alice {
			t.Fatalf("forge dedupe: %+v %+v dup=%v err=%v", f1, f2, dup, err)
		}
		if n := s.drain(); n != 2 {
			t.Fatalf("processed %d, want 2 distinct events", n)
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM webhook_events WHERE tenant_id = ?", s.site.ID); n != 2 {
			t.Fatalf("stored events: %d", n)
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM audit_events WHERE action = ?", offboard.ActionOffboard); n != 1 {
			t.Fatalf("audit rows: %d, want 1 (one credential, revoked once)", n)
		}
		// The same identifier at another site is another event.
		other := s.ConnectSite(t, "client-b", s.jira)
		if _, dup := s.ingest(other.ID, "same-id", body); dup {
			t.Fatal("identifiers are per site")
		}
	})
}

func TestMalformedEventsAreRefusedAndNotStored(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		bodies := map[string]string{
			"empty":              ``,
			"array":              `[{"user":{"accountId":"x"}}]`,
			"truncated":          `{"webhookEvent":"user_updated","user":{"accountId":"x"`,
			"no user":            `{"webhookEvent":"user_updated"}`,
			"no accountId":       `{"webhookEvent":"user_updated","user":{"active":false}}`,
			"accountId number":   `{"webhookEvent":"user_updated","user":{"accountId":42}}`,
			"blank accountId":    `{"webhookEvent":"user_deleted","user":{"accountId":"  "}}`,
			"not a user event":   `{"webhookEvent":"jira:issue_updated","user":{"accountId":"x"}}`,
			"two objects":        `{"webhookEvent":"user_deleted","user":{"accountId":"x"}}{}`,
			"accountId newline":  `{"webhookEvent":"user_deleted","user":{"accountId":"a\nb"}}`,
			"huge accountId":     `{"webhookEvent":"user_deleted","user":{"accountId":"` + strings.Repeat("a", 200) + `"}}`,
			"forge no accountId": `{"payload":{"eventType":"avi:jira:deleted:user","user":{}}}`,
		}
		for name, body := range bodies {
			src := offboard.SourceConnect
			if strings.HasPrefix(name, "forge") {
				src = offboard.SourceForge
			}
			_, _, err := s.Svc.Ingest(context.Background(), offboard.Delivery{TenantID: s.site.ID, Source: src, Identifier: name, Body: []byte(body)})
			if !errors.Is(err, models.ErrInvalid) {
				t.Errorf("%s: err %v, want invalid", name, err)
			}
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM webhook_events"); n != 0 {
			t.Fatalf("%d malformed events stored", n)
		}
	})
}

func TestSiteSettingsHoldRevocationBack(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		ka, _ := s.Key(t, s.site.ID, alice)
		kb, _ := s.Key(t, s.site.ID, bob)
		s.setSettings(offboard.SettingsInput{ExemptAccountIDs: []string{alice}})
		s.ingest(s.site.ID, "a-off", updated(t, alice, false, 1000))
		s.drain()
		// Exempt: neither revoked nor suspended (shared automation keeps working).
		wantActive(t, "exempt account", s.Verify(ka))
		if n := s.Count(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'owner.offboard.skipped' AND target_id = ?", alice); n != 1 {
			t.Fatalf("skip audit rows: %d", n)
		}

		s.setSettings(offboard.SettingsInput{AutoRevoke: ptr(false)})
		s.ingest(s.site.ID, "b-off", updated(t, bob, false, 1000))
		s.drain()
		// Auto-revoke off: not revoked, but refused while inactive (the
		// revocation poller reloads the cached credential)...
		if err := s.Verifier.PollChanges(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantRefused(t, "auto-revoke off", s.Verify(kb), models.ReasonOwnerInactive)
		// ...and working again after a reactivation.
		s.ingest(s.site.ID, "b-on", updated(t, bob, true, 2000))
		s.drain()
		if err := s.Verifier.PollChanges(context.Background()); err != nil {
			t.Fatal(err)
		}
		wantActive(t, "reactivated", s.Verify(kb))
	})
}

func TestGracePeriodSuspendsThenRevokes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		s.setSettings(offboard.SettingsInput{GraceSeconds: ptr(3600)})
		ka, _ := s.Key(t, s.site.ID, alice)
		kb, _ := s.Key(t, s.site.ID, bob)

		ea, _ := s.ingest(s.site.ID, "a-off", updated(t, alice, false, 1000))
		eb, _ := s.ingest(s.site.ID, "b-off", updated(t, bob, false, 1000))
		s.drain()
		wantRefused(t, "alice in grace", s.Verify(ka), models.ReasonOwnerInactive)
		if ev := s.event(s.site.ID, ea.ID); ev.Status != models.EventPending || ev.Attempts != 0 || !ev.NextAttemptAt.After(s.clock.Now().Add(59*time.Minute)) {
			t.Fatalf("deferred event: %+v", ev)
		}
		// Bob comes back inside the grace period.
		s.ingest(s.site.ID, "b-on", updated(t, bob, true, 2000))
		s.drain()
		wantActive(t, "bob reactivated in grace", s.Verify(kb))

		s.clock.Advance(2 * time.Hour)
		s.drain()
		wantRefused(t, "alice after grace", s.Verify(ka), models.ReasonRevoked)
		wantActive(t, "bob after grace", s.Verify(kb))
		if ev := s.event(s.site.ID, eb.ID); ev.Status != models.EventDone || !strings.Contains(ev.Outcome, "nothing revoked") {
			t.Fatalf("bob's event: %+v", ev)
		}
	})
}

// failingRevoker fails its first n calls.
type failingRevoker struct {
	offboard.Revoker
	left int
}

func (f *failingRevoker) RevokeOwner(ctx context.Context, tenantID, accountID string, r credentials.Revocation) ([]models.Credential, error) {
	if f.left > 0 {
		f.left--
		return nil, errors.New("database on fire")
	}
	return f.Revoker.RevokeOwner(ctx, tenantID, accountID, r)
}

func TestFailingEventsRetryThenPark(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		env := offboardtest.NewEnv(t, db, offboard.Options{})
		fj := offboardtest.NewFakeJira(t)
		tn := env.ConnectSite(t, "client-a", fj)
		rev := &failingRevoker{Revoker: env.Creds, left: 100}
		svc := offboard.New(offboard.Deps{Events: env.Events, Users: env.Users, Settings: env.Settings, Reports: env.Reports,
			Revoker: rev, Jira: env.Jira, Tenants: env.TenantStore, Audit: env.Audit, Tx: db, Sealer: env.Sealer, Log: env.Log},
			offboard.Options{MaxAttempts: 3, RetryBase: time.Second})
		clk := newClock()
		svc.SetClock(clk.Now)
		k, _ := env.Key(t, tn.ID, alice)
		ev, _, err := svc.Ingest(context.Background(), offboard.Delivery{TenantID: tn.ID, Source: offboard.SourceConnect, Identifier: "x", Body: deleted(t, alice, 1)})
		if err != nil {
			t.Fatal(err)
		}
		for attempt := 1; attempt <= 3; attempt++ {
			if n, err := svc.ProcessDue(context.Background(), "w"); err != nil || n != 1 {
				t.Fatalf("attempt %d: claimed %d, %v", attempt, n, err)
			}
			// Not due again until the backoff has passed.
			if n, _ := svc.ProcessDue(context.Background(), "w"); n != 0 {
				t.Fatalf("attempt %d: retried without backoff", attempt)
			}
			clk.Advance(time.Hour)
		}
		got, _ := env.Events.Get(context.Background(), tn.ID, ev.ID)
		if got.Status != models.EventParked || got.Attempts != 3 || !strings.Contains(got.LastError, "database on fire") {
			t.Fatalf("parked event: %+v", got)
		}
		parked, err := svc.ListEvents(context.Background(), tn.ID, models.EventParked, 0, 10)
		if err != nil || len(parked) != 1 {
			t.Fatalf("parked list: %v %v", parked, err)
		}
		// An admin retries it after the cause is fixed.
		rev.left = 0
		if _, err := svc.RetryEvent(context.Background(), tn.ID, "admin-1", ev.ID); err != nil {
			t.Fatal(err)
		}
		if n, _ := svc.ProcessDue(context.Background(), "w"); n != 1 {
			t.Fatal("retried event not processed")
		}
		wantRefused(t, "after retry", env.Verify(k), models.ReasonRevoked)
		if n := env.Count(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'webhook_event.retry' AND actor = 'admin-1'"); n != 1 {
			t.Fatalf("retry audit rows: %d", n)
		}
		// Retrying an event that is not parked is a conflict; another site's id is not found.
		if _, err := svc.RetryEvent(context.Background(), tn.ID, "admin-1", ev.ID); !errors.Is(err, models.ErrConflict) {
			t.Fatalf("retry done event: %v", err)
		}
		if _, err := svc.RetryEvent(context.Background(), "other-tenant", "admin-1", ev.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("retry other site's event: %v", err)
		}
	})
}

func TestExpiredLeaseIsClaimedAgain(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{Lease: time.Minute})
		k, _ := s.Key(t, s.site.ID, alice)
		s.ingest(s.site.ID, "x", deleted(t, alice, 1))
		// A worker claims the event and dies without finishing it.
		claimed, err := s.Events.Claim(context.Background(), "dead-worker", s.clock.Now(), time.Minute, 10)
		if err != nil || len(claimed) != 1 {
			t.Fatalf("claim: %v %v", claimed, err)
		}
		if n := s.drain(); n != 0 {
			t.Fatal("a leased event was claimed twice")
		}
		s.clock.Advance(2 * time.Minute)
		if n := s.drain(); n != 1 {
			t.Fatal("the expired lease was not reclaimed")
		}
		wantRefused(t, "after reclaim", s.Verify(k), models.ReasonRevoked)
	})
}

func TestAnotherSitesEventCannotRevoke(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		b := s.ConnectSite(t, "client-b", s.jira)
		ka, _ := s.Key(t, s.site.ID, alice)
		kb, _ := s.Key(t, b.ID, alice)
		s.ingest(b.ID, "x", deleted(t, alice, 1))
		s.drain()
		wantRefused(t, "site B's key", s.Verify(kb), models.ReasonRevoked)
		wantActive(t, "site A's key of the same accountId", s.Verify(ka))
		if _, err := s.Users.Get(context.Background(), s.site.ID, alice); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("site A's user row touched: %v", err)
		}
	})
}

package offboard_test

// Regression tests for findings of the jobs/offboarding review: garbage
// user/bulk answers, out-of-range event timestamps.

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
)

// attackHook wraps the fake Jira's handler.
func attackHook(fj *offboardtest.FakeJira, fn func(w http.ResponseWriter, r *http.Request, next http.Handler)) {
	orig := fj.Config.Handler
	fj.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fn(w, r, orig) })
}

// A 200 answer from user/bulk that is valid JSON but not a user page (an
// empty object, null, an error object) must not read as "nobody exists".
func TestAttackRegression_ReconcileGarbage200RevokesNobody(t *testing.T) {
	for _, body := range []string{`{}`, `null`, `{"values":null}`, `{"errorMessages":["Internal server error"]}`, `"ok"`, `[]`, `<html>oops</html>`} {
		t.Run(body, func(t *testing.T) {
			s := newSite(t, storetest.Open(t, storetest.SQLite), offboard.Options{})
			keys := population(t, s, s.site, s.jira, "active", 10)
			attackHook(s.jira, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
				if strings.HasSuffix(r.URL.Path, "/user/bulk") {
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprint(w, body)
					return
				}
				next.ServeHTTP(w, r)
			})
			c, err := s.Svc.Reconcile(context.Background(), offboard.Run{})
			n := 0
			for _, k := range keys {
				if !s.Verify(k).Active {
					n++
				}
			}
			if n > 0 {
				t.Errorf("a 200 %s from user/bulk revoked %d of %d active owners (counts %v)", body, n, len(keys), c)
			}
			if err == nil {
				t.Errorf("a 200 %s from user/bulk: reconciliation succeeded, want the site's error recorded", body)
			}
		})
	}
}

// A user event with a far-future timestamp must not pin the user's state:
// a later event and a reconciliation still change it.
func TestAttackRegression_FutureTimestampPinsState(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		s.ingest(s.site.ID, "fut", updated(t, bob, false, 999999999999999)) // year 33658
		s.drain()
		s.clock.Advance(time.Second)
		s.jira.SetUser(bob, true)
		s.ingest(s.site.ID, "now", updated(t, bob, true, s.clock.Now().UnixMilli()))
		s.drain()
		k, _ := s.Key(t, s.site.ID, bob)
		if _, err := s.Svc.Reconcile(context.Background(), offboard.Run{}); err != nil {
			t.Fatal(err)
		}
		if r := s.Verify(k); !r.Active {
			t.Errorf("state pinned by a future timestamp: new key refused with %q; user active=%v", r.Reason, s.user(s.site.ID, bob).Active)
		}
	})
}

// An event with a timestamp past year 9999 must not block the inbox.
func TestAttackRegression_PoisonTimestampBlocksInbox(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		k, _ := s.Key(t, s.site.ID, alice)
		s.ingest(s.site.ID, "poison", updated(t, bob, true, 999999999999999))
		s.ingest(s.site.ID, "legit", deleted(t, alice, s.clock.Now().UnixMilli()))
		for i := 0; i < 5; i++ {
			if _, err := s.Svc.ProcessDue(context.Background(), "w"); err != nil {
				t.Logf("claim %d: %v", i, err)
			}
			s.clock.Advance(3 * time.Minute) // leases expire
		}
		if r := s.Verify(k); r.Active {
			t.Errorf("one event with an out-of-range timestamp blocks the inbox: alice's deletion never processed")
		}
		if n := s.Count(t, "SELECT COUNT(*) FROM webhook_events WHERE status = 'pending'"); n != 0 {
			t.Errorf("%d events still pending", n)
		}
	})
}

// A Forge event stamped at the very end of year 9999 is stored and claimed
// without error.
func TestAttackRegression_ForgeYear9999(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		ev, _, err := s.Svc.Ingest(context.Background(), offboard.Delivery{TenantID: s.site.ID, Source: offboard.SourceForge,
			Body: []byte(`{"payload":{"eventType":"avi:jira:updated:user","timestamp":"9999-12-31T23:59:59.999999999Z","user":{"accountId":"x","active":false}}}`)})
		if err != nil {
			t.Fatal(err)
		}
		if n, err := s.Svc.ProcessDue(context.Background(), "w"); err != nil || n != 1 {
			t.Fatalf("claim: %d %v", n, err)
		}
		if got := s.event(s.site.ID, ev.ID).EventAt; got.After(s.clock.Now().Add(5 * time.Minute)) {
			t.Errorf("stored event time %s, later than receipt + skew", got)
		}
	})
}

// A user/bulk answer missing more than half of a batch of 10 or more
// owners is not read as deletions (a broken answer, or an app that lost
// its permission to browse users, looks like that): nobody in the batch
// changes, the report names the batch, the other batches are done, and
// the site's run ends with the error. Smaller batches, or fewer missing,
// are taken as deletions.
func TestAttackRegression_UnbelievableAnswerChangesNobody(t *testing.T) {
	onlyFirst := func(n int) func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if !strings.HasSuffix(r.URL.Path, "/user/bulk") {
				next.ServeHTTP(w, r)
				return
			}
			// Answer with only the first n asked ids, all active.
			var vals []string
			for i, id := range r.URL.Query()["accountId"] {
				if i < n {
					vals = append(vals, fmt.Sprintf(`{"accountId":%q,"active":true}`, id))
				}
			}
			fmt.Fprintf(w, `{"isLast":true,"values":[%s]}`, strings.Join(vals, ","))
		}
	}
	for _, tc := range []struct {
		name          string
		owners, named int
		wantRevoked   int
	}{
		{"empty answer for 12", 12, 0, 0},
		{"1 of 90 named", 90, 1, 0},
		{"5 of 12 named", 12, 5, 0},
		{"6 of 12 named: half missing is not believed", 12, 6, 0},
		{"7 of 12 named: 5 missing are believed", 12, 7, 5},
		{"none of 9: small batch believed", 9, 0, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachDialect(t, func(t *testing.T, db *store.DB) {
				s := newSite(t, db, offboard.Options{})
				keys := population(t, s, s.site, s.jira, "owner", tc.owners)
				attackHook(s.jira, onlyFirst(tc.named))
				c, err := s.Svc.Reconcile(context.Background(), offboard.Run{})
				revoked := 0
				for _, k := range keys {
					if !s.Verify(k).Active {
						revoked++
					}
				}
				if revoked != tc.wantRevoked {
					t.Errorf("%d revoked, want %d (counts %v, err %v)", revoked, tc.wantRevoked, c, err)
				}
				if tc.wantRevoked == 0 && tc.owners >= 10 {
					if err == nil || !strings.Contains(err.Error(), "nobody in that batch was changed") {
						t.Errorf("reconcile: %v, want the unbelievable-answer error", err)
					}
					if reps := reportsOf(t, s, s.site.ID); len(reps) != 1 || reps[0].Status != "error" {
						t.Errorf("reports: %+v", reps)
					}
				} else if err != nil {
					t.Errorf("reconcile: %v", err)
				}
			})
		})
	}
}

// One unbelievable batch does not stop the site's other batches.
func TestAttackRegression_UnbelievableBatchOthersGoOn(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{ReconcileConcurrency: 1})
		population(t, s, s.site, s.jira, "a-active", 90) // batch 1: answered in full
		gone := population(t, s, s.site, s.jira, "b-gone", 30)
		for id := range gone {
			s.jira.DeleteUser(id) // batch 2 (with the rest): most missing
		}
		s.jira.SetUser("a-active-0005", false) // an inactive owner in the good batch
		c, err := s.Svc.Reconcile(context.Background(), offboard.Run{})
		if err == nil {
			t.Fatalf("reconcile succeeded, want the unbelievable-answer error (counts %v)", c)
		}
		if c["revoked"] != 1 || c["owners_checked"] != 90 {
			t.Errorf("counts %v, want the good batch checked and its inactive owner revoked", c)
		}
		if reps := reportsOf(t, s, s.site.ID); len(reps) != 1 || !strings.Contains(reps[0].Summary, `"owners_unconfirmed":30`) {
			t.Errorf("reports: %+v, want 30 owners unconfirmed in the summary", reps)
		}
	})
}

// An "updated" account whose refresh gets a garbage 200 from user/bulk is
// not marked deleted: the site's personal data run fails instead.
func TestAttackRegression_PersonalDataGarbageBulkMarksNobodyDeleted(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		keys := population(t, s, s.site, s.jira, "active", 3)
		for id := range keys {
			s.jira.SetAccountStatus(id, "updated")
		}
		attackHook(s.jira, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if strings.HasSuffix(r.URL.Path, "/user/bulk") {
				fmt.Fprint(w, `{"errorMessages":["try later"]}`)
				return
			}
			next.ServeHTTP(w, r)
		})
		if _, err := s.Svc.PersonalData(context.Background(), offboard.Run{}); err == nil {
			t.Error("personal data run succeeded on a garbage user/bulk answer")
		}
		for id, k := range keys {
			if u := s.user(s.site.ID, id); u.Deleted || !u.Active {
				t.Errorf("%s marked deleted/inactive: %+v", id, u)
			}
			if r := s.Verify(k); !r.Active {
				t.Errorf("%s refused with %q", id, r.Reason)
			}
		}
	})
}

// Accounts Atlassian names without keyward having reported them in that
// call are not closed.
func TestAttackRegression_PersonalDataIgnoresUnreportedAccounts(t *testing.T) {
	s := newSite(t, storetest.Open(t, storetest.SQLite), offboard.Options{})
	k, _ := s.Key(t, s.site.ID, alice)
	attackHook(s.jira, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		if strings.HasSuffix(r.URL.Path, "/report-accounts") {
			fmt.Fprint(w, `{"accounts":[{"accountId":"someone-else","status":"closed"}]}`)
			return
		}
		next.ServeHTTP(w, r)
	})
	c, err := s.Svc.PersonalData(context.Background(), offboard.Run{})
	if err != nil || c["accounts_closed"] != 0 {
		t.Fatalf("personal data: %v %v", c, err)
	}
	if n := s.Count(t, "SELECT COUNT(*) FROM users WHERE account_id = 'someone-else'"); n != 0 {
		t.Errorf("an unreported account got a users row")
	}
	if !s.Verify(k).Active {
		t.Error("alice's key revoked")
	}
}

// A Retry-After longer than the client waits ends the site's run at once
// with an error naming the wait.
func TestAttackRegression_LongRetryAfterEndsSiteRun(t *testing.T) {
	s := newSite(t, storetest.Open(t, storetest.SQLite), offboard.Options{})
	keys := population(t, s, s.site, s.jira, "active", 3)
	s.jira.Fail(offboardtest.Failure{Status: 429, RetryAfter: "3600", Reason: "jira-quota-global-based"})
	start := time.Now()
	_, err := s.Svc.Reconcile(context.Background(), offboard.Run{})
	if err == nil || !strings.Contains(err.Error(), "1h0m0s") || time.Since(start) > 5*time.Second {
		t.Fatalf("reconcile after %s: %v", time.Since(start), err)
	}
	if reps := reportsOf(t, s, s.site.ID); len(reps) != 1 || !strings.Contains(reps[0].Error, "1h0m0s") {
		t.Errorf("reports: %+v", reps)
	}
	for id, k := range keys {
		if !s.Verify(k).Active {
			t.Errorf("%s revoked", id)
		}
	}
}

// TestAttackRegression_NoBrowseUsersPermission: without Jira's "Browse users
// and groups" permission the user API answers as if nobody existed, and a
// small site (or a batch of fewer than 10 owners) would have been revoked
// whole. Reconciliation first asks Jira whether keyward may browse users,
// and changes nothing when it may not.
func TestAttackRegression_NoBrowseUsersPermission(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{})
		keys := population(t, s, s.site, s.jira, "small", 5)
		s.jira.NoBrowseUsers.Store(true)
		attackHook(s.jira, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if strings.HasSuffix(r.URL.Path, "/user/bulk") {
				fmt.Fprint(w, `{"isLast":true,"values":[]}`) // what Jira answers without the permission
				return
			}
			next.ServeHTTP(w, r)
		})
		_, err := s.Svc.Reconcile(context.Background(), offboard.Run{})
		if err == nil || !strings.Contains(err.Error(), "Browse users and groups") {
			t.Fatalf("reconcile: %v, want the permission error", err)
		}
		for id, k := range keys {
			if !s.Verify(k).Active {
				t.Errorf("%s revoked", id)
			}
		}
		if n := s.jira.BulkCalls.Load(); n != 0 {
			t.Errorf("%d user/bulk calls, want none", n)
		}
	})
}

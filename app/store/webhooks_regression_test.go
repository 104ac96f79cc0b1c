package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// attackFarFuture is a stored time left by an event stamped in year 33658 before
// event times were bounded: text SQLite's driver cannot read back, a valid
// (and pinning) time on PostgreSQL.
func attackFarFuture(db *store.DB) string {
	if db.IsPostgres() {
		return "33658-09-27 01:46:39.999+00"
	}
	return "33658-09-27 01:46:39.999+00:00"
}

// attackExec runs a raw statement written with ? placeholders on either engine.
func attackExec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if db.IsPostgres() {
		for i := range args {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i+1), 1)
		}
	}
	if _, err := db.SQL().ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// attackPoisoned tells whether a stored event time is what attackFarFuture meant: text
// that does not scan into a time on SQLite, a year past 9999 on PostgreSQL.
func attackPoisoned(t *testing.T, db *store.DB, id int64) bool {
	t.Helper()
	var at time.Time
	q := "SELECT event_at FROM webhook_events WHERE id = ?"
	if db.IsPostgres() {
		q = strings.Replace(q, "?", "$1", 1)
	}
	err := db.SQL().QueryRow(q, id).Scan(&at)
	if db.IsPostgres() {
		return err == nil && at.Year() > 9999
	}
	return err != nil
}

func attackTenant(t *testing.T, db *store.DB) time.Time {
	t.Helper()
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := store.NewTenants(db).Create(context.Background(), &models.Tenant{ID: "ta", State: models.TenantInstalled, CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	return now
}

// Insert bounds an event's time by its receipt: later than receipt plus
// EventSkew, or at/before the epoch, counts as the receipt time.
func TestAttackRegression_InsertBoundsEventTime(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := attackTenant(t, db)
		events := store.NewWebhookEvents(db)
		for i, tc := range []struct{ at, want time.Time }{
			{time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC), now},
			{now.Add(store.EventSkew + time.Second), now},
			{now.Add(store.EventSkew), now.Add(store.EventSkew)},
			{now.Add(-time.Hour), now.Add(-time.Hour)},
			{time.Unix(1, 0), time.Unix(1, 0).UTC()},
			{time.Unix(0, 0), now},
			{time.Time{}, now},
			{time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC), now},
		} {
			ev := &models.WebhookEvent{TenantID: "ta", DedupeKey: "k" + string(rune('a'+i)), Source: "connect", EventType: models.UserUpdated,
				AccountID: "acc", EventAt: tc.at, ReceivedAt: now, Status: models.EventPending, NextAttemptAt: now}
			if _, err := events.Insert(ctx, ev); err != nil {
				t.Fatal(err)
			}
			got, err := events.Get(ctx, "ta", ev.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !got.EventAt.Equal(tc.want) || !ev.EventAt.Equal(tc.want) {
				t.Errorf("event at %s: stored %s (model %s), want %s", tc.at, got.EventAt, ev.EventAt, tc.want)
			}
		}
	})
}

// A stored event_at that cannot be read back (SQLite) or lies far in the
// future (PostgreSQL) does not fail the claim of its batch: the event reads
// as received at its receipt time, the row is repaired, and Get and List
// work on it.
func TestAttackRegression_ClaimSurvivesUnreadableEventTime(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := attackTenant(t, db)
		events := store.NewWebhookEvents(db)
		var ids []int64
		for _, key := range []string{"poison", "legit"} {
			ev := &models.WebhookEvent{TenantID: "ta", DedupeKey: key, Source: "connect", EventType: models.UserDeleted,
				AccountID: "acc-" + key, EventAt: now, ReceivedAt: now, Status: models.EventPending, NextAttemptAt: now}
			if _, err := events.Insert(ctx, ev); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ev.ID)
		}
		attackExec(t, db, "UPDATE webhook_events SET event_at = '"+attackFarFuture(db)+"' WHERE id = ?", ids[0])
		if !attackPoisoned(t, db, ids[0]) {
			t.Fatal("the stored time is not the poison this test is about")
		}

		if list, err := events.List(ctx, "ta", "", 0, 10); err != nil || len(list) != 2 {
			t.Fatalf("list before the claim: %d %v", len(list), err)
		}
		claimed, err := events.Claim(ctx, "w", now.Add(time.Second), time.Minute, 10)
		if err != nil || len(claimed) != 2 {
			t.Fatalf("claim: %d %v", len(claimed), err)
		}
		for _, ev := range claimed {
			if !ev.EventAt.Equal(now) {
				t.Errorf("event %d (%s) at %s, want the receipt time %s", ev.ID, ev.DedupeKey, ev.EventAt, now)
			}
		}
		var n int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM webhook_events WHERE event_at = received_at").Scan(&n); err != nil || n != 2 {
			t.Errorf("repaired rows: %d %v", n, err)
		}
		if got, err := events.Get(ctx, "ta", ids[0]); err != nil || !got.EventAt.Equal(now) || attackPoisoned(t, db, ids[0]) {
			t.Errorf("get after the repair: %+v %v", got, err)
		}
	})
}

// A state time far in the future already stored on a user (or unreadable
// on SQLite) does not pin the state: a later event and a check still apply.
func TestAttackRegression_StoredFutureStateDoesNotPin(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := attackTenant(t, db)
		users := store.NewUsers(db)
		inactive, active := false, true
		if _, err := users.ApplyEvent(ctx, "ta", "acc", store.UserState{Active: &inactive, At: now.Add(-time.Minute)}); err != nil {
			t.Fatal(err)
		}
		attackExec(t, db, "UPDATE users SET state_at = '"+attackFarFuture(db)+"' WHERE account_id = ?", "acc")
		changed, err := users.ApplyEvent(ctx, "ta", "acc", store.UserState{Active: &active, At: time.Now().UTC()})
		if err != nil || !changed {
			t.Fatalf("event after a pinned state: changed=%v %v", changed, err)
		}
		if u, _ := users.Get(ctx, "ta", "acc"); !u.Active {
			t.Fatalf("still inactive: %+v", u)
		}

		attackExec(t, db, "UPDATE users SET state_at = '"+attackFarFuture(db)+"', active = ? WHERE account_id = ?", false, "acc")
		got, _, err := users.ApplyChecks(ctx, "ta", []store.UserCheck{{AccountID: "acc", Found: true, Active: true}}, time.Now().UTC())
		if err != nil || len(got) != 1 {
			t.Fatalf("check after a pinned state: %v %v", got, err)
		}
		if u, _ := users.Get(ctx, "ta", "acc"); !u.Active {
			t.Fatalf("check did not apply: %+v", u)
		}
		// The check left a sane state time: an older event loses against it.
		if changed, err := users.ApplyEvent(ctx, "ta", "acc", store.UserState{Active: &inactive, At: now.Add(-time.Hour)}); err != nil || changed {
			t.Fatalf("older event after the check: changed=%v %v", changed, err)
		}
	})
}

package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// TestOffboardingStoresAreScopedByTenant proves that one tenant's ids give
// not found (or nothing) through another tenant.
func TestOffboardingStoresAreScopedByTenant(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Microsecond)
		for _, id := range []string{"ta", "tb"} {
			if err := store.NewTenants(db).Create(ctx, &models.Tenant{ID: id, State: models.TenantInstalled, CreatedAt: now, UpdatedAt: now}); err != nil {
				t.Fatal(err)
			}
		}
		events := store.NewWebhookEvents(db)
		ev := &models.WebhookEvent{TenantID: "ta", DedupeKey: "k", Source: "connect", EventType: models.UserDeleted, AccountID: "acc",
			EventAt: now, ReceivedAt: now, Status: models.EventPending, NextAttemptAt: now}
		if dup, err := events.Insert(ctx, ev); err != nil || dup {
			t.Fatalf("insert: %v %v", dup, err)
		}
		again := *ev
		if dup, err := events.Insert(ctx, &again); err != nil || !dup || again.ID != ev.ID {
			t.Fatalf("duplicate insert: %v %v %d", dup, err, again.ID)
		}
		if err := events.Park(ctx, "ta", ev.ID, "boom"); err != nil {
			t.Fatal(err)
		}
		if _, err := events.Get(ctx, "tb", ev.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("get through another tenant: %v", err)
		}
		if err := events.Requeue(ctx, "tb", ev.ID, now); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("requeue through another tenant: %v", err)
		}
		if err := events.Finish(ctx, "tb", ev.ID, "x", now); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("finish through another tenant: %v", err)
		}
		if list, _ := events.List(ctx, "tb", "", 0, 10); len(list) != 0 {
			t.Fatalf("list through another tenant: %v", list)
		}

		reports := store.NewReports(db)
		r := &models.Report{TenantID: "ta", Kind: models.ReportReconcile, Status: "ok", StartedAt: now, FinishedAt: now}
		if err := reports.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := reports.AddItems(ctx, []models.ReportItem{{ReportID: r.ID, TenantID: "ta", Kind: models.ItemRevoked, OwnerAccountID: "acc", At: &now}}); err != nil {
			t.Fatal(err)
		}
		if _, err := reports.Get(ctx, "tb", r.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("report through another tenant: %v", err)
		}
		if items, _ := reports.Items(ctx, "tb", r.ID, 0, 10); len(items) != 0 {
			t.Fatalf("items through another tenant: %v", items)
		}
		if items, _ := reports.Items(ctx, "ta", r.ID, 0, 10); len(items) != 1 || !items[0].At.Equal(now) {
			t.Fatalf("items: %+v", items)
		}

		runs := store.NewJobRuns(db)
		run := &models.JobRun{Job: "reconcile", TenantID: "ta", TriggeredBy: "admin:x", Status: models.RunRunning, StartedAt: now, HeartbeatAt: now}
		if err := runs.Start(ctx, run); err != nil {
			t.Fatal(err)
		}
		if _, err := runs.GetForTenant(ctx, "tb", run.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("run through another tenant: %v", err)
		}
		if _, err := runs.GetForTenant(ctx, "", run.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("run without tenant: %v", err)
		}
		tick := now.Truncate(time.Minute)
		first := &models.JobRun{Job: "reconcile", TriggeredBy: "schedule", ScheduledAt: &tick, Status: models.RunRunning, StartedAt: now, HeartbeatAt: now}
		second := *first
		if err := runs.Start(ctx, first); err != nil {
			t.Fatal(err)
		}
		if err := runs.Start(ctx, &second); !errors.Is(err, models.ErrConflict) {
			t.Fatalf("second run of a tick: %v", err)
		}

		settings := store.NewOffboardingSettings(db)
		s, _ := settings.Get(ctx, "ta")
		s.GraceSeconds, s.ExemptAccountIDs, s.UpdatedAt = 60, []string{"svc"}, now
		if err := settings.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		if got, _ := settings.Get(ctx, "tb"); got.GraceSeconds != 0 || len(got.ExemptAccountIDs) != 0 || !got.AutoRevoke {
			t.Fatalf("another tenant's settings: %+v", got)
		}
		if got, _ := settings.Get(ctx, "ta"); got.GraceSeconds != 60 || len(got.ExemptAccountIDs) != 1 {
			t.Fatalf("settings: %+v", got)
		}

		users := store.NewUsers(db)
		if _, err := users.ApplyEvent(ctx, "ta", "acc", store.UserState{Active: new(bool), At: now}); err != nil {
			t.Fatal(err)
		}
		if _, err := users.Get(ctx, "tb", "acc"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("user through another tenant: %v", err)
		}
	})
}

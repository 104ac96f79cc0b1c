package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

func TestAuditRecordAndList(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewAudit(db)
		for i := range 5 {
			for _, tenant := range []string{"A", "B"} {
				e := models.AuditEvent{TenantID: tenant, At: at.Add(time.Duration(i) * time.Second), Actor: "acc-" + tenant, Action: "credential.revoke", TargetType: "credential", TargetID: tenant + "-cred", Reason: "left the company"}
				if i == 0 {
					e.Details = `{"n":1}`
				}
				if err := s.Record(ctx, e); err != nil {
					t.Fatalf("Record: %v", err)
				}
			}
		}
		if err := s.RecordMany(ctx, []models.AuditEvent{
			{TenantID: "A", At: at.Add(time.Minute), Actor: "system", Action: "tenant.disabled"},
			{TenantID: "B", At: at.Add(time.Minute), Actor: "system", Action: "tenant.disabled"},
		}); err != nil {
			t.Fatalf("RecordMany: %v", err)
		}
		if err := s.RecordMany(ctx, nil); err != nil {
			t.Fatalf("RecordMany(nil): %v", err)
		}

		all, err := s.List(ctx, "A", 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 6 {
			t.Fatalf("List(A) returned %d events, want 6", len(all))
		}
		for i, e := range all {
			if e.TenantID != "A" {
				t.Errorf("List(A) returned an event of tenant %q", e.TenantID)
			}
			if i > 0 && e.ID >= all[i-1].ID {
				t.Errorf("events not newest first: id %d after %d", e.ID, all[i-1].ID)
			}
			if e.Details == "" {
				t.Errorf("event %d has empty details, want {} by default", e.ID)
			}
		}
		if all[0].Action != "tenant.disabled" || all[5].Details != `{"n":1}` || all[5].Reason != "left the company" || !all[5].At.Equal(at) {
			t.Errorf("events not as recorded: first %+v, last %+v", all[0], all[5])
		}

		page, err := s.List(ctx, "A", all[1].ID, 2)
		if err != nil || len(page) != 2 || page[0].ID != all[2].ID || page[1].ID != all[3].ID {
			t.Errorf("List(A, before=%d, 2) = %+v, %v; want events %d and %d", all[1].ID, page, err, all[2].ID, all[3].ID)
		}
		// The cursor of one tenant never reveals another's events.
		if evs, _ := s.List(ctx, "B", 1<<62, 100); len(evs) != 6 || evs[0].TenantID != "B" {
			t.Errorf("List(B) = %d events", len(evs))
		}
		if evs, _ := s.List(ctx, "C", 0, 100); len(evs) != 0 {
			t.Errorf("List(unknown tenant) = %+v, want none", evs)
		}
	})
}

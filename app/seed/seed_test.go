package seed_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keyward/keyward/app/seed"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

func TestSeedDemo(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		tn := &models.Tenant{ID: "seeded", ClientKey: "seeded", State: models.TenantInstalled, CreatedAt: now, UpdatedAt: now}
		if err := store.NewTenants(db).Create(ctx, tn); err != nil {
			t.Fatal(err)
		}
		owner := models.User{AccountID: "dev-user", DisplayName: "Uma User", Active: true, UpdatedAt: now}
		o := seed.Options{TenantID: tn.ID, Users: 60, Keys: 700, AccessLog: 3000, Batch: 250, Now: now, Owners: []models.User{owner}}
		res, err := seed.Run(ctx, store.NewSeed(db), store.NewAccessLog(db), store.NewAudit(db), o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Users != 61 || res.Keys != 700 || res.Active+res.Expired+res.Revoked != 700 || res.Revoked == 0 || res.Expired == 0 || res.NeverUsed == 0 || res.InactiveUsers == 0 || res.AccessLog != 3000 || res.AccessLogDenied == 0 {
			t.Errorf("result %+v", res)
		}
		inv := store.NewInventory(db)
		for status, want := range map[models.CredentialStatus]int{models.StatusActive: res.Active, models.StatusExpired: res.Expired, models.StatusRevoked: res.Revoked} {
			n, exact, err := inv.CountCredentials(ctx, store.CredentialFilter{TenantID: tn.ID, Status: status, Now: now}, 5000, 0)
			if err != nil || !exact || n != int64(want) {
				t.Errorf("%s: %d %v %v, want %d", status, n, exact, err, want)
			}
		}
		mine, err := inv.ListCredentials(ctx, store.CredentialFilter{TenantID: tn.ID, OwnerAccountID: "dev-user", Now: now}, store.CredentialPage{Sort: store.SortCreated, Limit: 100})
		if err != nil || len(mine) < 6 || mine[0].OwnerDisplayName != "Uma User" || mine[0].Hint == "" {
			t.Errorf("the fixed owner's keys: %d %v", len(mine), err)
		}
		log, err := inv.AccessLogBatch(ctx, store.AccessLogFilter{TenantID: tn.ID}, 5000)
		if err != nil || len(log) != 3000 {
			t.Fatalf("access log: %d %v", len(log), err)
		}
		for i := 1; i < len(log); i++ {
			if log[i].At.After(log[i-1].At) {
				t.Fatalf("access log ids do not follow time: %v after %v", log[i].At, log[i-1].At)
			}
		}
		if log[0].At.After(now) || log[len(log)-1].At.Before(now.AddDate(0, 0, -31)) {
			t.Errorf("access log spans %v .. %v", log[len(log)-1].At, log[0].At)
		}
		if _, err := seed.Run(ctx, store.NewSeed(db), store.NewAccessLog(db), store.NewAudit(db), o); !errors.Is(err, seed.ErrAlreadySeeded) {
			t.Errorf("second seed: %v", err)
		}
	})
}

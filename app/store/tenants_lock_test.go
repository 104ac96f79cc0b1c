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

// TestTenantForUpdateWaitsForTheLockHolder: a second read-for-update of a
// tenant waits until the transaction holding the row commits, and then
// sees its change (on SQLite the transactions themselves exclude each
// other).
func TestTenantForUpdateWaitsForTheLockHolder(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewTenants(db)
		tn := &models.Tenant{ID: "t-lock", ClientKey: "ck-lock", ForgeInstallationID: "inst-lock", State: models.TenantInstalled, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
		if err := s.Create(ctx, tn); err != nil {
			t.Fatal(err)
		}
		reads := map[string]func(context.Context) (*models.Tenant, error){
			"by client key": func(ctx context.Context) (*models.Tenant, error) { return s.ByClientKeyForUpdate(ctx, "ck-lock") },
			"by installation": func(ctx context.Context) (*models.Tenant, error) {
				return s.ByForgeInstallationForUpdate(ctx, "inst-lock")
			},
		}
		for name, read := range reads {
			locked := make(chan struct{})
			seen := make(chan models.TenantState, 1)
			var waiterErr error
			waiterDone := make(chan struct{})
			err := db.InTx(ctx, func(ctx context.Context) error {
				cur, err := read(ctx)
				if err != nil {
					return err
				}
				close(locked)
				go func() {
					defer close(waiterDone)
					waiterErr = db.InTx(context.Background(), func(ctx context.Context) error {
						got, err := read(ctx)
						if err != nil {
							return err
						}
						seen <- got.State
						return nil
					})
				}()
				// Give the waiter time to reach the lock; its result does
				// not depend on it when the lock works.
				time.Sleep(50 * time.Millisecond)
				cur.State = models.TenantDisabled
				if name == "by installation" {
					cur.State = models.TenantUninstalled
				}
				return s.Save(ctx, cur)
			})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			<-locked
			<-waiterDone
			if waiterErr != nil {
				t.Fatalf("%s: waiter: %v", name, waiterErr)
			}
			want := models.TenantDisabled
			if name == "by installation" {
				want = models.TenantUninstalled
			}
			if got := <-seen; got != want {
				t.Errorf("%s: second reader saw %s, want %s (it did not wait for the lock)", name, got, want)
			}
		}

		// Unknown and empty keys are not found, as with the plain reads.
		err := db.InTx(ctx, func(ctx context.Context) error {
			for _, read := range []func() (*models.Tenant, error){
				func() (*models.Tenant, error) { return s.ByClientKeyForUpdate(ctx, "nope") },
				func() (*models.Tenant, error) { return s.ByClientKeyForUpdate(ctx, "") },
				func() (*models.Tenant, error) { return s.ByForgeInstallationForUpdate(ctx, "nope") },
				func() (*models.Tenant, error) { return s.ByForgeInstallationForUpdate(ctx, "") },
			} {
				if _, err := read(); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("read of an unknown tenant = %v, want ErrNotFound", err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

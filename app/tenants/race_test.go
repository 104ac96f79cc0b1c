package tenants_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/models"
)

// TestParallelForgeInvocationKeepsUninstall: a Forge invocation that
// refreshes the system token of a Connect-on-Forge site while its
// uninstalled callback runs never brings the site back, and the shared
// secret is refused afterwards (also from this process's secret cache).
func TestParallelForgeInvocationKeepsUninstall(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		for i := range 30 {
			p := payload(secret1)
			p.ClientKey = fmt.Sprintf("forge-uninstall-site-%d", i)
			p.InstallationID = fmt.Sprintf("ari:cloud:ecosystem::installation/forge-uninstall-%d", i)
			if _, err := f.svc.ConnectInstalled(ctx, p); err != nil {
				t.Fatal(err)
			}
			if _, _, err := f.svc.SharedSecret(ctx, p.ClientKey); err != nil { // warm the cache
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Go(func() {
				<-start
				if err := f.svc.ConnectUninstalled(ctx, p.ClientKey); err != nil {
					t.Errorf("uninstalled: %v", err)
				}
			})
			wg.Go(func() {
				<-start
				if _, err := f.svc.ForgeTenant(ctx, tenantsForgeInvocation(p.InstallationID, fmt.Sprintf("token-%d", i))); err != nil {
					t.Errorf("forge invocation: %v", err)
				}
			})
			wg.Go(func() {
				<-start
				_, _, _ = f.svc.SharedSecret(ctx, p.ClientKey)
			})
			close(start)
			wg.Wait()
			tn, err := f.store.ByClientKey(ctx, p.ClientKey)
			if err != nil {
				t.Fatal(err)
			}
			if tn.State != models.TenantUninstalled || tn.UninstalledAt == nil {
				t.Errorf("site %d after parallel uninstalled and Forge invocation: %s (uninstalledAt %v)", i, tn.State, tn.UninstalledAt)
			}
			if _, _, err := f.svc.SharedSecret(ctx, p.ClientKey); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("site %d: shared secret after uninstall = %v, want ErrNotFound", i, err)
			}
		}
	})
}

// TestForgeInvocationWithoutChangeTakesNoLock: an invocation that changes
// nothing is answered while another transaction holds the tenant's row.
func TestForgeInvocationWithoutChangeTakesNoLock(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		if !f.db.IsPostgres() {
			t.Skip("SQLite transactions exclude each other; readers never wait")
		}
		ctx := context.Background()
		inv := tenantsForgeInvocation("ari:cloud:ecosystem::installation/no-lock", "token-1")
		first, err := f.svc.ForgeTenant(ctx, inv)
		if err != nil {
			t.Fatal(err)
		}
		locked, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- f.db.InTx(ctx, func(ctx context.Context) error {
				if _, err := f.store.ByForgeInstallationForUpdate(ctx, inv.InstallationID); err != nil {
					return err
				}
				close(locked)
				<-release
				return nil
			})
		}()
		<-locked
		// Were it to wait for the lock, the deadline ends the wait.
		callCtx, cancel := context.WithTimeout(ctx, 5*time.Second)
		got, err := f.svc.ForgeTenant(callCtx, inv)
		cancel()
		close(release)
		if err != nil || got.ID != first.ID {
			t.Errorf("unchanged invocation while the row is locked = %+v, %v", got, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

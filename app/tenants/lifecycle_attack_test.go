package tenants_test

// Regression tests for the security review (second round): lifecycle
// races between parallel callbacks.

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/models"
)

// TestAttackRegression_ParallelDisabledAndUninstalled: Atlassian may deliver disabled
// and uninstalled in parallel (reference/atlassian.md). Each transition
// reads the tenant without a row lock and then writes the whole row, so on
// PostgreSQL the late writer can overwrite the other's state: an uninstalled
// site ends "disabled" (uninstalled_at cleared), its shared secret stays
// usable, and a later "enabled" JWT signed with the old secret revives it
// without a signed install. Expected: whatever the interleaving, the site
// ends uninstalled and enabled does not revive it.
func TestAttackRegression_ParallelDisabledAndUninstalled(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		bad := 0
		for i := range 60 {
			p := payload(secret1)
			p.ClientKey = fmt.Sprintf("race-site-%d", i)
			p.InstallationID = ""
			if _, err := f.svc.ConnectInstalled(ctx, p); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for _, fn := range []func(context.Context, string) error{f.svc.ConnectUninstalled, f.svc.ConnectDisabled} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					if err := fn(ctx, p.ClientKey); err != nil {
						t.Errorf("transition: %v", err)
					}
				}()
			}
			close(start)
			wg.Wait()
			tn, err := f.store.ByClientKey(ctx, p.ClientKey)
			if err != nil {
				t.Fatal(err)
			}
			if tn.State != models.TenantUninstalled {
				bad++
				if bad == 1 {
					// Show the consequence once: a later enabled revives it.
					if err := f.svc.ConnectEnabled(ctx, p.ClientKey); err != nil {
						t.Fatal(err)
					}
					tn2, _ := f.store.ByClientKey(ctx, p.ClientKey)
					_, _, serr := f.svc.SharedSecret(ctx, p.ClientKey)
					t.Logf("site %s after parallel disabled+uninstalled: state %s (uninstalledAt %v); after enabled: %s; shared secret usable: %v",
						p.ClientKey, tn.State, tn.UninstalledAt, tn2.State, serr == nil)
				}
			}
		}
		if bad > 0 {
			t.Errorf("%d of 60 sites are not uninstalled after parallel disabled and uninstalled callbacks", bad)
		}
	})
}

// TestAttackRegression_ReinstallSecretLostToParallelWrite: a signed re-install brings a
// new shared secret. A Forge invocation of the same (Connect-on-Forge) site
// that refreshes its system token at the same moment reads the row before
// the re-install and writes every column back afterwards, restoring the old
// shared secret: Jira signs with the new one, keyward keeps accepting the
// old one. Expected: the new secret wins.
func TestAttackRegression_ReinstallSecretLostToParallelWrite(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		lost := 0
		for i := range 60 {
			p := payload(secret1)
			p.ClientKey = fmt.Sprintf("reinstall-site-%d", i)
			p.InstallationID = fmt.Sprintf("ari:cloud:ecosystem::installation/review-%d", i)
			if _, err := f.svc.ConnectInstalled(ctx, p); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			start := make(chan struct{})
			wg.Add(2)
			go func() {
				defer wg.Done()
				<-start
				p2 := p
				p2.SharedSecret = secret2
				if _, err := f.svc.ConnectInstalled(ctx, p2); err != nil {
					t.Errorf("reinstall: %v", err)
				}
			}()
			go func() {
				defer wg.Done()
				<-start
				if _, err := f.svc.ForgeTenant(ctx, tenantsForgeInvocation(p.InstallationID, fmt.Sprintf("system-token-%d", i))); err != nil {
					t.Errorf("forge invocation: %v", err)
				}
			}()
			close(start)
			wg.Wait()
			_, s, err := f.svc.SharedSecret(ctx, p.ClientKey)
			if err != nil {
				t.Fatal(err)
			}
			if string(s) != secret2 {
				lost++
			}
		}
		if lost > 0 {
			t.Errorf("%d of 60 re-installs lost their new shared secret to a parallel Forge invocation", lost)
		}
	})
}

func tenantsForgeInvocation(installationID, systemToken string) tenants.ForgeInvocation {
	return tenants.ForgeInvocation{InstallationID: installationID, APIBaseURL: "https://api.atlassian.com/ex/jira/cloud-1", SystemToken: systemToken}
}

package tenants_test

import (
	"bytes"
	"context"
	"errors"
	"testing"

	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/models"
)

const (
	installationID = "ari:cloud:ecosystem::installation/7d8e9f00-5555-4a1b-9c2d-3e4f5a6b7c8d"
	cloudID        = "0a1b2c3d-6666-4e5f-8a9b-0c1d2e3f4a5b"
	apiBase        = "https://api.atlassian.com/ex/jira/" + cloudID
)

func TestForgeTenantCreateAndUpdate(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		tn, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{InstallationID: installationID, APIBaseURL: apiBase, SystemToken: "system-token-1"})
		if err != nil {
			t.Fatalf("ForgeTenant: %v", err)
		}
		got, err := f.store.ByForgeInstallation(ctx, installationID)
		if err != nil {
			t.Fatal(err)
		}
		if got.ID != tn.ID || got.State != models.TenantInstalled || got.APIBaseURL != apiBase || got.CloudID != cloudID || got.ClientKey != "" || got.InstalledAt == nil {
			t.Errorf("created tenant = %+v", got)
		}
		for i, col := range f.rawRow(t, tn.ID) {
			if bytes.Contains(col, []byte("system-token-1")) {
				t.Errorf("column %d stores the system token in clear", i)
			}
		}
		if tok, err := f.svc.ForgeSystemToken(got); err != nil || tok != "system-token-1" {
			t.Errorf("ForgeSystemToken = %q, %v", tok, err)
		}
		firstAt := *got.ForgeSystemTokenAt

		// The same invocation again writes nothing.
		again, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{InstallationID: installationID, APIBaseURL: apiBase, SystemToken: "system-token-1"})
		if err != nil || again.ID != tn.ID {
			t.Fatalf("second ForgeTenant = %+v, %v", again, err)
		}
		if g, _ := f.store.Get(ctx, tn.ID); !g.UpdatedAt.Equal(got.UpdatedAt) {
			t.Errorf("an unchanged invocation rewrote the tenant (updated_at %v -> %v)", got.UpdatedAt, g.UpdatedAt)
		}

		// The newest system token wins; an invocation without one keeps it.
		if _, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{InstallationID: installationID, APIBaseURL: apiBase, SystemToken: "system-token-2"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{InstallationID: installationID}); err != nil {
			t.Fatal(err)
		}
		got, _ = f.store.Get(ctx, tn.ID)
		if tok, err := f.svc.ForgeSystemToken(got); err != nil || tok != "system-token-2" {
			t.Errorf("ForgeSystemToken after a newer one = %q, %v", tok, err)
		}
		if got.ForgeSystemTokenAt.Before(firstAt) {
			t.Errorf("token time went back: %v before %v", got.ForgeSystemTokenAt, firstAt)
		}
		if got.APIBaseURL != apiBase || got.CloudID != cloudID {
			t.Errorf("an invocation without apiBaseUrl erased it: %+v", got)
		}

		// A moved site updates apiBaseUrl and cloudId; an explicit cloudId
		// (UI calls) wins over the derived one; the site URL is kept once.
		moved := "https://api.atlassian.com/ex/jira/new-cloud/"
		if _, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{InstallationID: installationID, APIBaseURL: moved, SiteURL: "https://tenant-a.atlassian.net/"}); err != nil {
			t.Fatal(err)
		}
		got, _ = f.store.Get(ctx, tn.ID)
		if got.APIBaseURL != moved || got.CloudID != "new-cloud" || got.BaseURL != "https://tenant-a.atlassian.net" {
			t.Errorf("after move: %+v", got)
		}
		if _, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{InstallationID: installationID, APIBaseURL: moved, CloudID: "explicit", SiteURL: "https://other.atlassian.net"}); err != nil {
			t.Fatal(err)
		}
		got, _ = f.store.Get(ctx, tn.ID)
		if got.CloudID != "explicit" || got.BaseURL != "https://tenant-a.atlassian.net" {
			t.Errorf("explicit cloudId / kept site URL: %+v", got)
		}
		if acts := f.actions(t, tn.ID); len(acts) != 1 || acts[0] != "tenant.installed" {
			t.Errorf("audit trail = %v, want one tenant.installed", acts)
		}
	})
}

func TestForgeTenantErrorsAndLinks(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		if _, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{APIBaseURL: apiBase}); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("ForgeTenant without installationId = %v, want ErrInvalid", err)
		}
		if _, err := f.svc.ForgeSystemToken(&models.Tenant{ID: "x"}); !errors.Is(err, models.ErrUnavailable) {
			t.Errorf("ForgeSystemToken without a token = %v, want ErrUnavailable", err)
		}

		// A Connect-on-Forge install links its installationId: Forge calls
		// then resolve to the same tenant, and never revive it once the
		// Connect side is uninstalled.
		p := payload(secret1)
		connect, err := f.svc.ConnectInstalled(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		forge, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{InstallationID: p.InstallationID, APIBaseURL: apiBase})
		if err != nil || forge.ID != connect.ID {
			t.Fatalf("ForgeTenant for a linked installation = %+v, %v; want tenant %s", forge, err, connect.ID)
		}
		if err := f.svc.ConnectUninstalled(ctx, clientKey); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{InstallationID: p.InstallationID}); err != nil {
			t.Fatal(err)
		}
		if st := f.tenant(t).State; st != models.TenantUninstalled {
			t.Errorf("a Forge call revived an uninstalled Connect site: %s", st)
		}

		// A Forge-only site that is not installed comes back with a valid call
		// (Forge sends no uninstall event).
		forgeOnly, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{InstallationID: installationID})
		if err != nil {
			t.Fatal(err)
		}
		forgeOnly.State = models.TenantDisabled
		if err := f.store.Save(ctx, forgeOnly); err != nil {
			t.Fatal(err)
		}
		back, err := f.svc.ForgeTenant(ctx, tenants.ForgeInvocation{InstallationID: installationID})
		if err != nil || back.State != models.TenantInstalled {
			t.Errorf("Forge-only site after a valid call = %+v, %v", back, err)
		}

		// Sealed values are bound to their tenant: a secret copied into
		// another tenant's row does not open.
		stolen, _ := f.store.Get(ctx, back.ID)
		stolen.ForgeSystemTokenEnc = f.tenant(t).SharedSecretEnc
		if _, err := f.svc.ForgeSystemToken(stolen); err == nil {
			t.Error("a sealed value opened in another tenant's context")
		}
	})
}

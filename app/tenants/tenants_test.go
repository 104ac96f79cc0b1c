package tenants_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/models"
)

const (
	clientKey = "6f1e7a2c-1111-4c2b-9a55-0f6a1e1d2c3b"
	secret1   = "q2Zk3h7yXc0m-example-shared-secret-value-1234567890"
	secret2   = "a-brand-new-shared-secret-after-reinstall-0987654321"
)

type fixture struct {
	db    *store.DB
	svc   *tenants.Service
	store *store.Tenants
	audit *store.Audit
}

func forEachDialect(t *testing.T, fn func(t *testing.T, f *fixture)) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		key, err := seal.GenerateKey()
		if err != nil {
			t.Fatal(err)
		}
		sealer, err := seal.New(key)
		if err != nil {
			t.Fatal(err)
		}
		log := logrus.New()
		log.SetOutput(io.Discard)
		f := &fixture{db: db, store: store.NewTenants(db), audit: store.NewAudit(db)}
		f.svc = tenants.NewService(f.store, sealer, f.audit, db, logrus.NewEntry(log), 365)
		fn(t, f)
	})
}

func payload(secret string) tenants.InstallPayload {
	return tenants.InstallPayload{
		Key: "io.keyward.tempo-access", ClientKey: clientKey, SharedSecret: secret,
		BaseURL: "https://tenant-a.atlassian.net/", DisplayURL: "https://jira.tenant-a.example",
		ProductType: "jira", EventType: "installed",
		InstallationID: "ari:cloud:ecosystem::installation/0b7a3c1e-2222-4d1f-8c9e-5a4b3c2d1e0f",
	}
}

func (f *fixture) tenant(t *testing.T) *models.Tenant {
	t.Helper()
	tn, err := f.store.ByClientKey(context.Background(), clientKey)
	if err != nil {
		t.Fatalf("tenant by client key: %v", err)
	}
	return tn
}

func (f *fixture) actions(t *testing.T, tenantID string) []string {
	t.Helper()
	evs, err := f.audit.List(context.Background(), tenantID, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(evs) - 1; i >= 0; i-- {
		out = append(out, evs[i].Action)
	}
	return out
}

// rawRow returns every column of a tenant row as the database stores it.
func (f *fixture) rawRow(t *testing.T, id string) [][]byte {
	t.Helper()
	rows, err := f.db.SQL().Query("SELECT * FROM tenants WHERE id = '" + id + "'")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	if !rows.Next() {
		t.Fatalf("no row for tenant %s", id)
	}
	vals := make([]any, len(cols))
	out := make([][]byte, len(cols))
	for i := range vals {
		vals[i] = &out[i]
	}
	if err := rows.Scan(vals...); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestConnectInstalledSealsTheSecret(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		tn, err := f.svc.ConnectInstalled(ctx, payload(secret1))
		if err != nil {
			t.Fatalf("ConnectInstalled: %v", err)
		}
		got := f.tenant(t)
		if got.ID != tn.ID || got.State != models.TenantInstalled || got.BaseURL != "https://tenant-a.atlassian.net" ||
			got.DisplayURL != "https://jira.tenant-a.example" || got.ProductType != "jira" || got.InstalledAt == nil ||
			got.ForgeInstallationID != payload("").InstallationID {
			t.Errorf("stored tenant = %+v", got)
		}
		for i, col := range f.rawRow(t, tn.ID) {
			if bytes.Contains(col, []byte(secret1)) || bytes.Contains(col, []byte(secret1[:16])) {
				t.Errorf("column %d stores the shared secret in clear", i)
			}
		}
		if len(got.SharedSecretEnc) == 0 {
			t.Fatal("no sealed secret stored")
		}
		_, plain, err := f.svc.SharedSecret(ctx, clientKey)
		if err != nil || string(plain) != secret1 {
			t.Errorf("SharedSecret = %q, %v; want the installed secret", plain, err)
		}
		evs, _ := f.audit.List(ctx, tn.ID, 0, 10)
		if len(evs) != 1 || evs[0].Action != "tenant.installed" || strings.Contains(evs[0].Details, secret1) {
			t.Errorf("audit = %+v", evs)
		}

		// A display URL that is absent falls back to the base URL.
		p := payload(secret1)
		p.ClientKey, p.DisplayURL, p.InstallationID = "other-site", "", ""
		other, err := f.svc.ConnectInstalled(ctx, p)
		if err != nil || other.DisplayURL != "https://tenant-a.atlassian.net" || other.ID == tn.ID {
			t.Errorf("second site = %+v, %v", other, err)
		}
	})
}

func TestConnectReinstallReplacesTheSecret(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		first, err := f.svc.ConnectInstalled(ctx, payload(secret1))
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.ConnectUninstalled(ctx, clientKey); err != nil {
			t.Fatal(err)
		}
		p := payload(secret2)
		p.BaseURL = "https://renamed.atlassian.net"
		second, err := f.svc.ConnectInstalled(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if second.ID != first.ID {
			t.Errorf("re-install made a new tenant %s, want %s", second.ID, first.ID)
		}
		got := f.tenant(t)
		if got.State != models.TenantInstalled || got.UninstalledAt != nil || got.BaseURL != "https://renamed.atlassian.net" {
			t.Errorf("after re-install: %+v", got)
		}
		_, plain, err := f.svc.SharedSecret(ctx, clientKey)
		if err != nil || string(plain) != secret2 {
			t.Errorf("SharedSecret after re-install = %q, %v; want the new one", plain, err)
		}
		if acts := strings.Join(f.actions(t, first.ID), ","); acts != "tenant.installed,tenant.uninstalled,tenant.installed" {
			t.Errorf("audit trail = %s", acts)
		}
	})
}

func TestConnectInstalledValidates(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		bad := map[string]func(p *tenants.InstallPayload){
			"no clientKey":   func(p *tenants.InstallPayload) { p.ClientKey = " " },
			"short secret":   func(p *tenants.InstallPayload) { p.SharedSecret = "short" },
			"no secret":      func(p *tenants.InstallPayload) { p.SharedSecret = "" },
			"relative base":  func(p *tenants.InstallPayload) { p.BaseURL = "/jira" },
			"other scheme":   func(p *tenants.InstallPayload) { p.BaseURL = "ftp://x" },
			"long clientKey": func(p *tenants.InstallPayload) { p.ClientKey = strings.Repeat("k", 256) },
		}
		for name, edit := range bad {
			p := payload(secret1)
			edit(&p)
			if _, err := f.svc.ConnectInstalled(ctx, p); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("%s: err = %v, want ErrInvalid", name, err)
			}
		}
		if _, err := f.store.ByClientKey(ctx, clientKey); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("an invalid install stored a tenant: %v", err)
		}
	})
}

func TestConnectLifecycleIsIdempotent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		tn, err := f.svc.ConnectInstalled(ctx, payload(secret1))
		if err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name string
			call func(context.Context, string) error
			want models.TenantState
		}{
			{"disabled", f.svc.ConnectDisabled, models.TenantDisabled},
			{"disabled again", f.svc.ConnectDisabled, models.TenantDisabled},
			{"enabled", f.svc.ConnectEnabled, models.TenantInstalled},
			{"enabled again", f.svc.ConnectEnabled, models.TenantInstalled},
			{"uninstalled", f.svc.ConnectUninstalled, models.TenantUninstalled},
			{"uninstalled again", f.svc.ConnectUninstalled, models.TenantUninstalled},
			{"late disabled", f.svc.ConnectDisabled, models.TenantUninstalled},
			{"enabled after uninstall", f.svc.ConnectEnabled, models.TenantUninstalled},
		}
		for _, s := range steps {
			if err := s.call(ctx, clientKey); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if got := f.tenant(t).State; got != s.want {
				t.Fatalf("after %s: state %s, want %s", s.name, got, s.want)
			}
		}
		want := "tenant.installed,tenant.disabled,tenant.enabled,tenant.uninstalled"
		if acts := strings.Join(f.actions(t, tn.ID), ","); acts != want {
			t.Errorf("audit trail = %s, want %s (repeats change nothing)", acts, want)
		}
		if !f.svc.IsGone(ctx, clientKey) {
			t.Error("IsGone = false for an uninstalled site")
		}
		if _, _, err := f.svc.SharedSecret(ctx, clientKey); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("SharedSecret of an uninstalled site = %v, want ErrNotFound", err)
		}

		// Callbacks for sites never installed are answered without effect.
		for _, call := range []func(context.Context, string) error{f.svc.ConnectUninstalled, f.svc.ConnectEnabled, f.svc.ConnectDisabled} {
			if err := call(ctx, "never-installed"); err != nil {
				t.Errorf("callback for an unknown site: %v", err)
			}
		}
		if !f.svc.IsGone(ctx, "never-installed") {
			t.Error("IsGone = false for an unknown site")
		}
		if _, err := f.store.ByClientKey(ctx, "never-installed"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a callback created a tenant: %v", err)
		}
	})
}

// TestConnectLifecycleOrderIndependent replays the callbacks that may
// arrive after an install in every order: once uninstalled is among them
// the site stays uninstalled, and a lone disabled/enabled pair ends as the
// last one says.
func TestConnectLifecycleOrderIndependent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		calls := map[string]func(context.Context, string) error{
			"u": f.svc.ConnectUninstalled, "d": f.svc.ConnectDisabled, "e": f.svc.ConnectEnabled,
		}
		cases := map[string]models.TenantState{
			"ude": models.TenantUninstalled, "ued": models.TenantUninstalled, "due": models.TenantUninstalled,
			"deu": models.TenantUninstalled, "eud": models.TenantUninstalled, "edu": models.TenantUninstalled,
			"de": models.TenantInstalled, "ed": models.TenantDisabled, "dd": models.TenantDisabled, "ee": models.TenantInstalled,
		}
		for seq, want := range cases {
			p := payload(secret1)
			p.ClientKey, p.InstallationID = "site-"+seq, ""
			if _, err := f.svc.ConnectInstalled(ctx, p); err != nil {
				t.Fatal(err)
			}
			for _, c := range seq {
				if err := calls[string(c)](ctx, p.ClientKey); err != nil {
					t.Fatalf("%s: %c: %v", seq, c, err)
				}
			}
			tn, err := f.store.ByClientKey(ctx, p.ClientKey)
			if err != nil {
				t.Fatal(err)
			}
			if tn.State != want {
				t.Errorf("sequence %s ends %s, want %s", seq, tn.State, want)
			}
		}
	})
}

func TestConnectInstalledConcurrently(t *testing.T) {
	forEachDialect(t, func(t *testing.T, f *fixture) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 4)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.ConnectInstalled(ctx, payload(secret1))
				errs <- err
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("parallel install: %v", err)
			}
		}
		var n int
		if err := f.db.SQL().QueryRow("SELECT COUNT(*) FROM tenants").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Errorf("%d tenants after parallel installs of one site, want 1", n)
		}
	})
}

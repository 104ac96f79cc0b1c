package store_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// at is a fixed instant with sub-second precision that both engines keep.
var at = time.Date(2026, 3, 14, 15, 9, 26, 535897000, time.UTC)

func newTenant(id, clientKey, installationID string) *models.Tenant {
	return &models.Tenant{
		ID: id, ClientKey: clientKey, ForgeInstallationID: installationID,
		BaseURL: "https://" + id + ".atlassian.net", State: models.TenantInstalled,
		CreatedAt: at, UpdatedAt: at, InstalledAt: &at,
	}
}

func TestTenantsCreateAndGet(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewTenants(db)
		tokenAt := at.Add(time.Hour)
		want := &models.Tenant{
			ID: "t-1", ClientKey: "ck-1", ForgeInstallationID: "ari:cloud:ecosystem::installation/1",
			BaseURL: "https://a.atlassian.net", DisplayURL: "https://jira.a.example", APIBaseURL: "https://api.atlassian.com/ex/jira/cloud-1",
			CloudID: "cloud-1", ProductType: "jira", State: models.TenantInstalled,
			SharedSecretEnc: []byte{1, 0, 2, 255}, ForgeSystemTokenEnc: []byte{9, 8, 7}, ForgeSystemTokenAt: &tokenAt,
			MaxKeyLifetimeDays: 90, CreatedAt: at, UpdatedAt: at, InstalledAt: &at,
		}
		if err := s.Create(ctx, want); err != nil {
			t.Fatalf("Create: %v", err)
		}
		lookups := map[string]func() (*models.Tenant, error){
			"Get":         func() (*models.Tenant, error) { return s.Get(ctx, "t-1") },
			"ByClientKey": func() (*models.Tenant, error) { return s.ByClientKey(ctx, "ck-1") },
			"ByForgeInstallation": func() (*models.Tenant, error) {
				return s.ByForgeInstallation(ctx, "ari:cloud:ecosystem::installation/1")
			},
			"ByCloudID": func() (*models.Tenant, error) { return s.ByCloudID(ctx, "cloud-1") },
		}
		for name, get := range lookups {
			got, err := get()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			assertTenant(t, name, got, want)
		}
	})
}

func assertTenant(t *testing.T, what string, got, want *models.Tenant) {
	t.Helper()
	if got.ID != want.ID || got.ClientKey != want.ClientKey || got.ForgeInstallationID != want.ForgeInstallationID ||
		got.BaseURL != want.BaseURL || got.DisplayURL != want.DisplayURL || got.APIBaseURL != want.APIBaseURL ||
		got.CloudID != want.CloudID || got.ProductType != want.ProductType || got.State != want.State ||
		got.MaxKeyLifetimeDays != want.MaxKeyLifetimeDays {
		t.Errorf("%s: got %+v\nwant %+v", what, got, want)
	}
	if !bytes.Equal(got.SharedSecretEnc, want.SharedSecretEnc) || !bytes.Equal(got.ForgeSystemTokenEnc, want.ForgeSystemTokenEnc) {
		t.Errorf("%s: sealed fields differ: %x %x, want %x %x", what, got.SharedSecretEnc, got.ForgeSystemTokenEnc, want.SharedSecretEnc, want.ForgeSystemTokenEnc)
	}
	for _, p := range []struct {
		name      string
		got, want *time.Time
	}{{"ForgeSystemTokenAt", got.ForgeSystemTokenAt, want.ForgeSystemTokenAt}, {"InstalledAt", got.InstalledAt, want.InstalledAt}, {"UninstalledAt", got.UninstalledAt, want.UninstalledAt}} {
		if (p.got == nil) != (p.want == nil) || p.got != nil && !p.got.Equal(*p.want) {
			t.Errorf("%s: %s = %v, want %v", what, p.name, p.got, p.want)
		}
	}
	// PostgreSQL keeps microseconds (rounded).
	if !sameMicro(got.CreatedAt, want.CreatedAt) || !sameMicro(got.UpdatedAt, want.UpdatedAt) {
		t.Errorf("%s: created/updated = %v/%v, want %v/%v", what, got.CreatedAt, got.UpdatedAt, want.CreatedAt, want.UpdatedAt)
	}
}

func sameMicro(a, b time.Time) bool { return a.Sub(b).Abs() < time.Microsecond }

func TestTenantsSave(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewTenants(db)
		tn := newTenant("t-1", "ck-1", "")
		if err := s.Create(ctx, tn); err != nil {
			t.Fatal(err)
		}
		later := at.Add(time.Minute)
		tn.State, tn.UninstalledAt, tn.UpdatedAt = models.TenantUninstalled, &later, later
		tn.SharedSecretEnc = []byte("sealed")
		tn.ForgeInstallationID = "inst-1"
		before := time.Now()
		if err := s.Save(ctx, tn); err != nil {
			t.Fatalf("Save: %v", err)
		}
		// Save stamps updated_at itself (GORM's autoUpdateTime) and writes
		// the stamp back into tn.
		if tn.UpdatedAt.Before(before.Add(-time.Second)) {
			t.Errorf("UpdatedAt after Save = %v, want about now", tn.UpdatedAt)
		}
		got, err := s.Get(ctx, "t-1")
		if err != nil {
			t.Fatal(err)
		}
		assertTenant(t, "after Save", got, tn)

		// Save writes zero values too: clearing a field sticks.
		tn.UninstalledAt, tn.SharedSecretEnc, tn.DisplayURL = nil, nil, ""
		if err := s.Save(ctx, tn); err != nil {
			t.Fatal(err)
		}
		got, _ = s.Get(ctx, "t-1")
		if got.UninstalledAt != nil || len(got.SharedSecretEnc) != 0 {
			t.Errorf("Save did not clear fields: %+v", got)
		}

		if err := s.Save(ctx, newTenant("missing", "ck-x", "")); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("Save of an unknown tenant = %v, want ErrNotFound", err)
		}
	})
}

func TestTenantsErrors(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewTenants(db)
		if err := s.Create(ctx, newTenant("t-1", "ck-1", "inst-1")); err != nil {
			t.Fatal(err)
		}
		conflicts := map[string]*models.Tenant{
			"same id":             newTenant("t-1", "ck-2", ""),
			"same clientKey":      newTenant("t-2", "ck-1", ""),
			"same installationId": newTenant("t-3", "", "inst-1"),
		}
		for name, tn := range conflicts {
			if err := s.Create(ctx, tn); !errors.Is(err, models.ErrConflict) {
				t.Errorf("%s: Create = %v, want ErrConflict", name, err)
			}
		}
		// Empty identifiers are not unique: many Forge-only and
		// Connect-only sites coexist.
		for i, tn := range []*models.Tenant{newTenant("t-4", "", "inst-4"), newTenant("t-5", "", "inst-5"), newTenant("t-6", "ck-6", ""), newTenant("t-7", "ck-7", "")} {
			if err := s.Create(ctx, tn); err != nil {
				t.Errorf("create %d with an empty identifier: %v", i, err)
			}
		}
		// A Save that would take another tenant's clientKey conflicts too.
		tn, _ := s.Get(ctx, "t-6")
		tn.ClientKey = "ck-7"
		if err := s.Save(ctx, tn); !errors.Is(err, models.ErrConflict) {
			t.Errorf("Save onto a taken clientKey = %v, want ErrConflict", err)
		}

		notFound := map[string]func() (*models.Tenant, error){
			"Get unknown":            func() (*models.Tenant, error) { return s.Get(ctx, "nope") },
			"ByClientKey unknown":    func() (*models.Tenant, error) { return s.ByClientKey(ctx, "nope") },
			"ByClientKey empty":      func() (*models.Tenant, error) { return s.ByClientKey(ctx, "") },
			"ByInstallation unknown": func() (*models.Tenant, error) { return s.ByForgeInstallation(ctx, "nope") },
			"ByInstallation empty":   func() (*models.Tenant, error) { return s.ByForgeInstallation(ctx, "") },
			"ByCloudID unknown":      func() (*models.Tenant, error) { return s.ByCloudID(ctx, "nope") },
			"ByCloudID empty":        func() (*models.Tenant, error) { return s.ByCloudID(ctx, "") },
		}
		for name, get := range notFound {
			if got, err := get(); !errors.Is(err, models.ErrNotFound) || got != nil {
				t.Errorf("%s = %v, %v; want nil, ErrNotFound", name, got, err)
			}
		}
	})
}

func TestTenantsListInstalled(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewTenants(db)
		states := map[string]models.TenantState{"a": models.TenantInstalled, "b": models.TenantDisabled, "c": models.TenantUninstalled, "d": models.TenantInstalled}
		for id, st := range states {
			tn := newTenant(id, "ck-"+id, "")
			tn.State = st
			if err := s.Create(ctx, tn); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.ListInstalled(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0].ID != "a" || got[1].ID != "d" {
			t.Errorf("ListInstalled = %+v, want a and d", got)
		}
	})
}

func TestInTx(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tenants, audit := store.NewTenants(db), store.NewAudit(db)
		boom := errors.New("boom")

		err := db.InTx(ctx, func(ctx context.Context) error {
			if err := tenants.Create(ctx, newTenant("t-1", "ck-1", "")); err != nil {
				return err
			}
			if err := audit.Record(ctx, models.AuditEvent{TenantID: "t-1", At: at, Actor: "system", Action: "tenant.installed"}); err != nil {
				return err
			}
			// A nested InTx joins the outer transaction.
			return db.InTx(ctx, func(ctx context.Context) error {
				if err := tenants.Create(ctx, newTenant("t-2", "ck-2", "")); err != nil {
					return err
				}
				if _, err := tenants.Get(ctx, "t-1"); err != nil {
					t.Errorf("the transaction does not see its own write: %v", err)
				}
				return boom
			})
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx = %v, want the callback's error", err)
		}
		for _, id := range []string{"t-1", "t-2"} {
			if _, err := tenants.Get(ctx, id); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("tenant %s after rollback: %v, want ErrNotFound", id, err)
			}
		}
		if evs, err := audit.List(ctx, "t-1", 0, 10); err != nil || len(evs) != 0 {
			t.Errorf("audit events after rollback = %v, %v; want none", evs, err)
		}

		// A failing statement inside rolls back the earlier ones too.
		err = db.InTx(ctx, func(ctx context.Context) error {
			if err := tenants.Create(ctx, newTenant("t-3", "ck-3", "")); err != nil {
				return err
			}
			return tenants.Create(ctx, newTenant("t-3", "ck-4", ""))
		})
		if !errors.Is(err, models.ErrConflict) {
			t.Fatalf("InTx with a conflicting insert = %v, want ErrConflict", err)
		}
		if _, err := tenants.Get(ctx, "t-3"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("tenant t-3 after rollback: %v", err)
		}

		if err := db.InTx(ctx, func(ctx context.Context) error {
			return tenants.Create(ctx, newTenant("t-5", "ck-5", ""))
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := tenants.Get(ctx, "t-5"); err != nil {
			t.Errorf("committed tenant: %v", err)
		}
	})
}

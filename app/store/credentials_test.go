package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// TestCredentialChangeNotices: a change stamped with Touch after its
// transaction is what other replicas' pollers read with ChangedSince,
// besides updated_at; notices are pruned once they are old.
func TestCredentialChangeNotices(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		if err := store.NewTenants(db).Create(ctx, &models.Tenant{ID: "A", State: models.TenantInstalled, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		s := store.NewCredentials(db)
		old := now.Add(-time.Hour)
		c := &models.Credential{ID: "cred-1", TenantID: "A", Kind: models.KindAPIKey, OwnerAccountID: "acc-1", Name: "ci", Hint: "kwk_…abcd", Scopes: "full", CreatedAt: old, UpdatedAt: old}
		if err := s.Create(ctx, c, &models.CredentialSecret{CredentialID: c.ID, TenantID: "A", Hash: []byte("0123456789abcdef0123456789abcdef"), CreatedAt: old}); err != nil {
			t.Fatal(err)
		}
		since := now.Add(-time.Minute)
		if ids, err := s.ChangedSince(ctx, since); err != nil || len(ids) != 0 {
			t.Fatalf("before Touch: %v, %v; want none", ids, err)
		}
		// A notice from long ago, as a crashed process would leave it.
		insert := "INSERT INTO credential_changes (tenant_id, credential_id, changed_at) VALUES (?, ?, ?)"
		if db.IsPostgres() {
			insert = "INSERT INTO credential_changes (tenant_id, credential_id, changed_at) VALUES ($1, $2, $3)"
		}
		if _, err := db.SQL().ExecContext(ctx, insert, "A", "cred-1", now.Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := s.Touch(ctx, []string{"cred-1", "no-such-credential"}); err != nil {
			t.Fatal(err)
		}
		ids, err := s.ChangedSince(ctx, since)
		if err != nil || !slices.Equal(ids, []string{"cred-1"}) {
			t.Fatalf("after Touch: %v, %v; want [cred-1]", ids, err)
		}
		if ids, err := s.ChangedSince(ctx, now.Add(time.Minute)); err != nil || len(ids) != 0 {
			t.Fatalf("later poll: %v, %v; want none", ids, err)
		}
		var left int
		if err := db.SQL().QueryRowContext(ctx, "SELECT COUNT(*) FROM credential_changes").Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left != 1 {
			t.Errorf("%d notices left, want 1 (the hour-old one pruned)", left)
		}
	})
}

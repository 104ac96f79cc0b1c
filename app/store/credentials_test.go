package store_test

import (
	"context"
	"crypto/sha256"
	"errors"
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
		s := store.NewCredentials(db)
		seedKey(t, db, "cred-1", "acc-1", now.Add(-time.Hour))
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

// TestRevokeMatchingNeverReadsEmptyAsEverything: a filter that names
// nothing is refused, and an empty id or owner list revokes nothing.
func TestRevokeMatchingNeverReadsEmptyAsEverything(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		s := store.NewCredentials(db)
		seedKey(t, db, "cred-acc-1", "acc-1", now)
		seedKey(t, db, "cred-acc-2", "acc-2", now)
		for name, f := range map[string]store.RevokeFilter{
			"tenant only":          {TenantID: "A"},
			"tenant and kind only": {TenantID: "A", Kind: models.KindAPIKey},
			"too many owners":      {TenantID: "A", Owners: make([]string, store.MaxRevokeOwners+1)},
		} {
			if got, err := s.RevokeMatching(ctx, f, now, "admin", "test"); !errors.Is(err, models.ErrInvalid) || len(got) != 0 {
				t.Errorf("%s: %d revoked, %v; want ErrInvalid", name, len(got), err)
			}
		}
		for name, f := range map[string]store.RevokeFilter{
			"empty ids":             {TenantID: "A", IDs: []string{}},
			"empty owners":          {TenantID: "A", Owners: []string{}},
			"empty ids of a client": {TenantID: "A", IDs: []string{}, ClientID: "client-1"},
		} {
			if got, err := s.RevokeMatching(ctx, f, now, "admin", "test"); err != nil || len(got) != 0 {
				t.Errorf("%s: %d revoked, %v; want none", name, len(got), err)
			}
		}
		got, err := s.RevokeMatching(ctx, store.RevokeFilter{TenantID: "A", Owners: []string{"acc-2", "acc-3"}}, now, "system", "left")
		if err != nil || len(got) != 1 || got[0].ID != "cred-acc-2" || got[0].RevokedAt == nil {
			t.Fatalf("by owners: %+v, %v; want cred-acc-2 revoked", got, err)
		}
		if c, err := s.Get(ctx, "A", "cred-acc-1"); err != nil || c.RevokedAt != nil {
			t.Fatalf("cred-acc-1: %+v, %v; want still active", c, err)
		}
	})
}

// TestAfterCommitHooksUseThePool: a hook registered in a transaction runs
// after the commit with the transaction's context, and store calls it
// makes with that context run on the pool (they once ran on the finished
// transaction and failed: no change notice reached other replicas for
// revocations made inside an outer transaction).
func TestAfterCommitHooksUseThePool(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		s := store.NewCredentials(db)
		seedKey(t, db, "cred-h", "acc-1", now)
		var hookErr error
		ran := false
		err := db.InTx(ctx, func(ctx context.Context) error {
			return db.InTx(ctx, func(ctx context.Context) error { // nested, as a service inside a job's transaction
				db.AfterCommit(ctx, func() { ran, hookErr = true, s.Touch(ctx, []string{"cred-h"}) })
				return nil
			})
		})
		if err != nil || !ran || hookErr != nil {
			t.Fatalf("transaction %v, hook ran %v with %v", err, ran, hookErr)
		}
		if ids, err := s.ChangedSince(ctx, now.Add(-time.Minute)); err != nil || !slices.Contains(ids, "cred-h") {
			t.Fatalf("changed since: %v, %v; want the hook's notice", ids, err)
		}
	})
}

// seedKey creates tenant A when needed and an API key of owner in it,
// created (and updated) at created.
func seedKey(t *testing.T, db *store.DB, id, owner string, created time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := store.NewTenants(db).Get(ctx, "A"); err != nil {
		now := time.Now().UTC()
		if err := store.NewTenants(db).Create(ctx, &models.Tenant{ID: "A", State: models.TenantInstalled, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
	}
	c := &models.Credential{ID: id, TenantID: "A", Kind: models.KindAPIKey, OwnerAccountID: owner, Name: "k", Hint: "kwk_…abcd", Scopes: "full", CreatedAt: created, UpdatedAt: created}
	hash := sha256.Sum256([]byte(id))
	if err := store.NewCredentials(db).Create(ctx, c, &models.CredentialSecret{CredentialID: id, TenantID: "A", Hash: hash[:], CreatedAt: created}); err != nil {
		t.Fatal(err)
	}
}

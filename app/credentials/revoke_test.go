package credentials_test

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

func TestRevokeOwnerRevokesEverythingWithAudit(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		var alices []string
		var secrets []string
		for _, name := range []string{"one", "two", "three"} {
			k := e.create(t, owner(tenantA, alice), name, "worklogs:view")
			alices = append(alices, k.Key.ID)
			secrets = append(secrets, k.Secret)
			wantActive(t, "cached "+name, e.verify(k.Secret, "GET", "/4/worklogs"))
		}
		already := e.create(t, owner(tenantA, alice), "already revoked")
		if _, err := e.svc.RevokeKey(ctx, owner(tenantA, alice), already.Key.ID, "old"); err != nil {
			t.Fatal(err)
		}
		bobs := e.create(t, owner(tenantA, bob), "bob's")
		otherSite := e.create(t, owner(tenantB, alice), "same account, other site")

		auditBefore := countAudit(t, db, "owner.offboard")
		r := credentials.Revocation{Actor: credentials.ActorSystem, Reason: "account deactivated", Action: "owner.offboard", Details: map[string]any{"event": "evt-1"}}
		revoked, err := e.svc.RevokeOwner(ctx, tenantA, alice, r)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, c := range revoked {
			ids = append(ids, c.ID)
			if c.RevokedAt == nil || c.RevokedBy != credentials.ActorSystem || c.RevokeReason != r.Reason {
				t.Errorf("returned credential %+v", c)
			}
		}
		slices.Sort(ids)
		slices.Sort(alices)
		if !slices.Equal(ids, alices) {
			t.Fatalf("revoked %v, want %v (not the already revoked key)", ids, alices)
		}
		if n := countAudit(t, db, "owner.offboard") - auditBefore; n != 3 {
			t.Fatalf("owner.offboard audit events: %d, want one per revoked credential (3)", n)
		}
		for i, s := range secrets {
			wantRefused(t, "cached secret "+alices[i], e.verify(s, "GET", "/4/worklogs"), models.ReasonRevoked)
		}
		wantActive(t, "bob's key", e.verify(bobs.Secret, "GET", "/4/worklogs"))
		wantActive(t, "the same account in another site", e.verify(otherSite.Secret, "GET", "/4/worklogs"))
		stored, err := e.svc.GetKey(ctx, owner(tenantA, alice), already.Key.ID)
		if err != nil || stored.RevokeReason != "old" {
			t.Fatalf("already revoked key was touched: %+v (%v)", stored, err)
		}

		// Again: nothing left to revoke, nothing written.
		before := rowCounts(t, db)
		again, err := e.svc.RevokeOwner(ctx, tenantA, alice, r)
		if err != nil || len(again) != 0 {
			t.Fatalf("second RevokeOwner: %d revoked, %v", len(again), err)
		}
		if after := rowCounts(t, db); !maps.Equal(before, after) {
			t.Fatalf("second RevokeOwner wrote: %v -> %v", before, after)
		}
	})
}

func TestRevokeByIDsIsScopedToTheTenant(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		a := e.create(t, owner(tenantA, alice), "a")
		b := e.create(t, owner(tenantA, bob), "b")
		foreign := e.create(t, owner(tenantB, bob), "foreign")

		revoked, err := e.svc.Revoke(ctx, store.RevokeFilter{TenantID: tenantA, IDs: []string{a.Key.ID, foreign.Key.ID}}, credentials.Revocation{Actor: "admin-1", Reason: "leaked"})
		if err != nil {
			t.Fatal(err)
		}
		if len(revoked) != 1 || revoked[0].ID != a.Key.ID {
			t.Fatalf("revoked %+v, want only %s", revoked, a.Key.ID)
		}
		if n := countAudit(t, db, "credential.revoke"); n != 1 {
			t.Fatalf("credential.revoke audit events: %d, want 1", n)
		}
		wantRefused(t, "revoked key", e.verify(a.Secret, "GET", "/4/plans"), models.ReasonRevoked)
		wantActive(t, "untouched key of the tenant", e.verify(b.Secret, "GET", "/4/plans"))
		wantActive(t, "another tenant's key named by id", e.verify(foreign.Secret, "GET", "/4/plans"))
	})
}

func TestRevokeValidationChangesNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		k := e.create(t, owner(tenantA, alice), "k")
		before := rowCounts(t, db)
		cases := []struct {
			name   string
			call   func() error
			fields []string
		}{
			{"no actor, no reason", func() error {
				_, err := e.svc.Revoke(ctx, store.RevokeFilter{TenantID: tenantA}, credentials.Revocation{})
				return err
			}, []string{"actor", "reason"}},
			{"reason too long", func() error {
				_, err := e.svc.Revoke(ctx, store.RevokeFilter{TenantID: tenantA}, credentials.Revocation{Actor: "x", Reason: strings.Repeat("x", 501)})
				return err
			}, []string{"reason"}},
			{"owner without account", func() error {
				_, err := e.svc.RevokeOwner(ctx, tenantA, "", credentials.Revocation{Actor: "x", Reason: "y"})
				return err
			}, []string{"accountId"}},
		}
		for _, tc := range cases {
			assertFields(t, tc.name, tc.call(), tc.fields...)
		}
		if _, err := e.svc.Revoke(ctx, store.RevokeFilter{}, credentials.Revocation{Actor: "x", Reason: "y"}); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("revoke without tenant: %v, want ErrInvalid", err)
		}
		if after := rowCounts(t, db); !maps.Equal(before, after) {
			t.Fatalf("refused revocations changed the database: %v -> %v", before, after)
		}
		wantActive(t, "key after refused revocations", e.verify(k.Secret, "GET", "/4/plans"))
	})
}

// TestRevokeRollsBackWithItsAudit makes the second audit record fail: the
// revocations of the batch and the first audit record roll back with it.
func TestRevokeRollsBackWithItsAudit(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		k1 := e.create(t, owner(tenantA, alice), "k1")
		k2 := e.create(t, owner(tenantA, alice), "k2")
		wantActive(t, "k1 cached", e.verify(k1.Secret, "GET", "/4/plans"))

		failing := credentials.NewService(e.creds, &failingAuditor{inner: store.NewAudit(db), failAt: 2}, db, e.ver, quietLog())
		before := rowCounts(t, db)
		if _, err := failing.RevokeOwner(ctx, tenantA, alice, credentials.Revocation{Actor: "admin", Reason: "test"}); !errors.Is(err, errInjected) {
			t.Fatalf("RevokeOwner with a failing audit: %v, want the injected error", err)
		}
		if after := rowCounts(t, db); !maps.Equal(before, after) {
			t.Fatalf("failed revocation left rows: %v -> %v", before, after)
		}
		for _, id := range []string{k1.Key.ID, k2.Key.ID} {
			c, err := e.svc.GetKey(ctx, owner(tenantA, alice), id)
			if err != nil || c.RevokedAt != nil {
				t.Fatalf("key %s after the rolled back revocation: %+v (%v)", id, c, err)
			}
		}
		wantActive(t, "k1 after the rolled back revocation", e.verify(k1.Secret, "GET", "/4/plans"))
		wantActive(t, "k2 after the rolled back revocation", e.verify(k2.Secret, "GET", "/4/plans"))
	})
}

package credentials_test

import (
	"context"
	"testing"
	"time"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// TestAttackRegression_SlowRevocationNeverReachesOtherReplicas: a revocation
// stamps updated_at with the time its statement ran (RevokeMatching's
// "at"), and other replicas poll for updated_at >= their previous poll
// minus a fixed 5 s. A revocation whose transaction commits more than
// about 5 s after that stamp (a bulk revocation of a large selection with
// an audit row per credential, lock waits, or clock skew between replicas)
// is never seen by a replica that polled meanwhile, and positive cache
// entries never expire: the revoked key keeps verifying there until the
// process restarts. Here the transaction's duration is simulated with the
// clocks (replica B polls every 500 ms while the revoking transaction is
// open for 10 s); nothing sleeps.
func TestAttackRegression_SlowRevocationNeverReachesOtherReplicas(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := newFakeClock()
		now := clock.Now()
		if err := store.NewTenants(db).Create(ctx, &models.Tenant{ID: tenantA, State: models.TenantInstalled, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatal(err)
		}
		a := credentials.NewVerifier(store.NewCredentials(db), quietLog())
		a.SetClock(clock.Now)
		svc := credentials.NewService(store.NewCredentials(db), store.NewAudit(db), db, a, quietLog())
		svc.SetClock(clock.Now)
		bClock := newFakeClock()
		bClock.ns.Store(clock.ns.Load())
		b := credentials.NewVerifier(store.NewCredentials(db), quietLog())
		b.SetClock(bClock.Now)

		k, err := svc.CreateKey(ctx, owner(tenantA, alice), credentials.CreateKeyInput{Name: "shared", Access: credentials.AccessFull})
		if err != nil {
			t.Fatal(err)
		}
		if err := b.PollChanges(ctx); err != nil {
			t.Fatal(err)
		}
		clock.Advance(10 * time.Second)
		bClock.Advance(10 * time.Second)
		if err := b.PollChanges(ctx); err != nil {
			t.Fatal(err)
		}
		wantActive(t, "replica B caches the key", verifyWith(b, k.Secret))

		// A long revoking transaction, as an admin's bulk revocation runs it
		// (inventory.ConfirmRevoke: one transaction, updated_at stamped when
		// the UPDATE runs, then an audit row per credential, then commit).
		err = db.InTx(ctx, func(ctx context.Context) error {
			if _, err := svc.Revoke(ctx, store.RevokeFilter{TenantID: tenantA, IDs: []string{k.Key.ID}}, credentials.Revocation{Actor: "admin", Reason: "bulk", Action: "credential.bulk_revoke"}); err != nil {
				return err
			}
			for range 20 { // replica B keeps polling every 500 ms meanwhile
				bClock.Advance(500 * time.Millisecond)
				if err := b.PollChanges(context.Background()); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		wantRefused(t, "replica A", verifyWith(a, k.Secret), models.ReasonRevoked)
		for range 4 {
			bClock.Advance(500 * time.Millisecond)
			if err := b.PollChanges(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if r := verifyWith(b, k.Secret); r.Active {
			t.Errorf("replica B still accepts the key 2 s after the revocation committed (and will until it restarts)")
		}
	})
}

package offboard_test

import (
	"context"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/store"
)

// TestAttackRegression_ReconcileRaceRevokesWholeSite: an inactive owner
// whose credentials are revoked (a user_deleted event, an admin) between
// the owner page read and the batch's revocation once made the batch
// revoke with an empty id list, which the store read as "no restriction":
// every live credential of the site went. Only the inactive owner's
// credentials may be revoked.
func TestAttackRegression_ReconcileRaceRevokesWholeSite(t *testing.T) {
	forEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newSite(t, db, offboard.Options{ReconcileConcurrency: 1})
		keys := population(t, s, s.site, s.jira, "active", 20)
		s.jira.SetUser(alice, false) // deactivated in Jira
		s.Key(t, s.site.ID, alice)
		var once atomic.Bool
		attackHook(s.jira, func(w http.ResponseWriter, r *http.Request, next http.Handler) {
			if strings.HasSuffix(r.URL.Path, "/user/bulk") && once.CompareAndSwap(false, true) {
				// Meanwhile a user_deleted event for alice is processed.
				if _, err := s.Creds.RevokeOwner(context.Background(), s.site.ID, alice, credentials.Revocation{
					Actor: credentials.ActorSystem, Reason: offboard.ReasonDeleted, Action: offboard.ActionOffboard}); err != nil {
					t.Errorf("revoke alice: %v", err)
				}
			}
			next.ServeHTTP(w, r)
		})
		c, err := s.Svc.Reconcile(context.Background(), offboard.Run{})
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if v := s.Verify(k); !v.Active {
				t.Fatalf("a key of an active owner was revoked by reconciliation: %+v (counts %v)", v, c)
			}
		}
		if c["revoked"] != 0 {
			t.Errorf("revoked %d, want 0 (alice's key was already revoked)", c["revoked"])
		}
	})
}

package offboard_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
)

// TestAttackRegression_ApplyChecksLostNewerEvent: a reactivation event
// (newer than the check) that commits between ApplyChecks' read and its
// UPDATE was overwritten; ApplyChecks now reads the rows locked.
func TestAttackRegression_ApplyChecksLostNewerEvent(t *testing.T) {
	db := storetest.Open(t, storetest.Postgres)
	ctx := context.Background()
	env := offboardtest.NewEnv(t, db, offboard.Options{ReconcileConcurrency: 1})
	site := env.ConnectSite(t, "client-a", offboardtest.NewFakeJira(t))
	now := time.Now().UTC()
	no, yes := false, true
	if _, err := env.Users.ApplyEvent(ctx, site.ID, "alice", store.UserState{Active: &no, At: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	tx, err := db.SQL().BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, "SELECT 1 FROM users WHERE tenant_id=$1 AND account_id='alice' FOR UPDATE", site.ID); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		if _, err := env.Users.ApplyEvent(ctx, site.ID, "alice", store.UserState{Active: &yes, At: now.Add(-10 * time.Second)}); err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	var superseded []string
	go func() {
		defer wg.Done()
		var err error
		_, superseded, err = env.Users.ApplyChecks(ctx, site.ID, []store.UserCheck{{AccountID: "alice", Found: true, Active: false}}, now.Add(-30*time.Second))
		if err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	tx.Commit()
	wg.Wait()
	u, _ := env.Users.Get(ctx, site.ID, "alice")
	t.Logf("superseded=%v active=%v", superseded, u.Active)
	if !u.Active {
		t.Errorf("reactivation at now-10s lost to a check dated now-30s (superseded=%v)", superseded)
	}
}

package offboard_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// TestWorkersOfTwoReplicasProcessEachEventOnce runs two "processes" (two
// services, four workers each) on one PostgreSQL inbox.
func TestWorkersOfTwoReplicasProcessEachEventOnce(t *testing.T) {
	db := storetest.Open(t, storetest.Postgres)
	a := offboardtest.NewEnv(t, db, offboard.Options{Poll: 10 * time.Millisecond, ClaimBatch: 4})
	tn := a.ConnectSite(t, "client-a", offboardtest.NewFakeJira(t))
	b := offboard.New(offboard.Deps{Events: store.NewWebhookEvents(db), Users: store.NewUsers(db), Settings: store.NewOffboardingSettings(db),
		Reports: store.NewReports(db), Revoker: a.Creds, Jira: a.Jira, Tenants: store.NewTenants(db), Audit: store.NewAudit(db), Tx: db,
		Sealer: a.Sealer, Log: a.Log}, offboard.Options{Poll: 10 * time.Millisecond, ClaimBatch: 4})

	const n = 300
	var (
		mu    sync.Mutex
		seen  = map[int64]int{}
		by    = map[string]int{}
		total int
		done  = make(chan struct{})
	)
	record := func(replica string) func(ev *models.WebhookEvent, outcome string, err error) {
		return func(ev *models.WebhookEvent, outcome string, err error) {
			if err != nil {
				t.Errorf("event %d: %v", ev.ID, err)
			}
			mu.Lock()
			defer mu.Unlock()
			seen[ev.ID]++
			by[replica]++
			if total++; total == n {
				close(done)
			}
		}
	}
	a.Svc.OnProcessed(record("a"))
	b.OnProcessed(record("b"))
	for i := range n {
		owner := fmt.Sprintf("owner-%03d", i)
		a.Key(t, tn.ID, owner)
		if _, _, err := a.Svc.Ingest(context.Background(), offboard.Delivery{TenantID: tn.ID, Source: offboard.SourceConnect,
			Identifier: owner, Body: deleted(t, owner, int64(i+1))}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { a.Svc.RunWorkers(ctx, 4) })
	wg.Go(func() { b.RunWorkers(ctx, 4) })
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Error("events not processed in time")
	}
	cancel()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	for id, k := range seen {
		if k != 1 {
			t.Fatalf("event %d processed %d times", id, k)
		}
	}
	if len(seen) != n {
		t.Fatalf("%d events processed, want %d", len(seen), n)
	}
	if by["a"] == 0 || by["b"] == 0 {
		t.Logf("one replica did all the work: %v", by)
	}
	if c := a.Count(t, "SELECT COUNT(*) FROM audit_events WHERE action = ?", offboard.ActionOffboard); c != n {
		t.Fatalf("audit rows %d, want %d", c, n)
	}
	if c := a.Count(t, "SELECT COUNT(*) FROM webhook_events WHERE status = 'done'"); c != n {
		t.Fatalf("done events %d", c)
	}
}

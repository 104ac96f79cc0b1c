package credentials_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

func (e *env) stored(t testing.TB, id string) *models.Credential {
	t.Helper()
	c, err := e.creds.Get(context.Background(), tenantA, id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestUsageIsFlushedInOneBatch(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		k := e.create(t, owner(tenantA, alice), "busy", "worklogs:view")
		idle := e.create(t, owner(tenantA, alice), "idle")
		created := e.stored(t, k.Key.ID)

		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 250 {
					e.ver.Verify(ctx, credentials.VerifyRequest{Secret: k.Secret, Method: "GET", Path: "/4/worklogs", IP: "198.51.100.1", UserAgent: "old-agent"})
				}
			})
		}
		wg.Wait()
		// Refusals are not uses.
		wantRefused(t, "scope denied", e.verify(k.Secret, "POST", "/4/worklogs"), models.ReasonScopeDenied)
		e.clock.Advance(time.Second)
		last := e.clock.Now()
		wantActive(t, "newest use", e.ver.Verify(ctx, credentials.VerifyRequest{Secret: k.Secret, Method: "GET", Path: "/4/worklogs", IP: "203.0.113.9", UserAgent: "tempo-rs/1"}))

		if c := e.stored(t, k.Key.ID); c.UseCount != 0 || c.LastUsedAt != nil {
			t.Fatalf("usage written before the flush: %+v", c)
		}
		if err := e.ver.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		c := e.stored(t, k.Key.ID)
		if c.UseCount != 1001 || c.LastUsedAt == nil || !c.LastUsedAt.Equal(last) || c.LastUsedIP != "203.0.113.9" || c.LastUsedUA != "tempo-rs/1" {
			t.Fatalf("after flush: count=%d last=%v ip=%q ua=%q; want 1001 %v 203.0.113.9 tempo-rs/1", c.UseCount, c.LastUsedAt, c.LastUsedIP, c.LastUsedUA, last)
		}
		if !c.UpdatedAt.Equal(created.UpdatedAt) {
			t.Fatalf("usage bumped updated_at (%v -> %v): it would invalidate every replica's cache", created.UpdatedAt, c.UpdatedAt)
		}
		if c := e.stored(t, idle.Key.ID); c.UseCount != 0 || c.LastUsedAt != nil {
			t.Fatalf("unused key got usage: %+v", c)
		}

		// Nothing new: a flush writes nothing; new uses add up.
		if err := e.ver.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		e.verify(k.Secret, "GET", "/4/worklogs")
		if err := e.ver.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if c := e.stored(t, k.Key.ID); c.UseCount != 1002 {
			t.Fatalf("use count %d, want 1002", c.UseCount)
		}
	})
}

// TestFailedUsageFlushIsRetried fails one ApplyUsage: its uses are carried
// into the next flush, not lost and not counted twice.
func TestFailedUsageFlushIsRetried(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		k := e.create(t, owner(tenantA, alice), "k")
		for range 10 {
			e.verify(k.Secret, "GET", "/4/plans")
		}
		e.creds.mu.Lock()
		e.creds.failUsage = 1
		e.creds.mu.Unlock()
		if err := e.ver.FlushUsage(ctx); !errors.Is(err, errInjected) {
			t.Fatalf("flush with a failing store: %v", err)
		}
		if c := e.stored(t, k.Key.ID); c.UseCount != 0 {
			t.Fatalf("use count %d after a failed flush", c.UseCount)
		}
		for range 5 {
			e.verify(k.Secret, "GET", "/4/plans")
		}
		if err := e.ver.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if c := e.stored(t, k.Key.ID); c.UseCount != 15 || c.LastUsedIP != "203.0.113.9" {
			t.Fatalf("after the retry: count=%d ip=%q, want 15", c.UseCount, c.LastUsedIP)
		}
		if err := e.ver.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if c := e.stored(t, k.Key.ID); c.UseCount != 15 {
			t.Fatalf("carried usage written twice: count=%d", c.UseCount)
		}
	})
}

func TestRunUsageFlusherFlushesOnCancel(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		k := e.create(t, owner(tenantA, alice), "k")
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); e.ver.RunUsageFlusher(ctx, time.Hour) }()
		for range 7 {
			e.verify(k.Secret, "GET", "/4/plans")
		}
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("RunUsageFlusher did not return after cancel")
		}
		if c := e.stored(t, k.Key.ID); c.UseCount != 7 {
			t.Fatalf("use count after shutdown: %d, want 7", c.UseCount)
		}
	})
}

// TestUsageSurvivesInvalidate: uses counted on a cache entry that is then
// evicted (revoked, regenerated) are still written.
func TestUsageSurvivesInvalidate(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		k := e.create(t, owner(tenantA, alice), "k")
		for range 3 {
			e.verify(k.Secret, "GET", "/4/plans")
		}
		if _, err := e.svc.RevokeKey(ctx, owner(tenantA, alice), k.Key.ID, ""); err != nil {
			t.Fatal(err)
		}
		e.verify(k.Secret, "GET", "/4/plans") // refused: not a use
		if err := e.ver.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}
		if c := e.stored(t, k.Key.ID); c.UseCount != 3 {
			t.Fatalf("use count %d, want 3", c.UseCount)
		}
	})
}

package store_test

import (
	"context"
	"testing"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
)

// TestJobLockExcludesOtherHolders: the job lock is exclusive on both
// engines (an advisory lock on PostgreSQL, a file lock beside the SQLite
// database, which another process such as run-job beside serve also
// meets), per key, and free again once released.
func TestJobLockExcludesOtherHolders(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		release, ok, err := db.TryAdvisoryLock(ctx, 4242)
		if err != nil || !ok {
			t.Fatalf("first lock: %v, %v", ok, err)
		}
		if _, ok, err := db.TryAdvisoryLock(ctx, 4242); err != nil || ok {
			t.Fatalf("second holder of the same key: ok=%v, %v; want refused", ok, err)
		}
		other, ok, err := db.TryAdvisoryLock(ctx, 4243)
		if err != nil || !ok {
			t.Fatalf("another key: %v, %v", ok, err)
		}
		other()
		release()
		again, ok, err := db.TryAdvisoryLock(ctx, 4242)
		if err != nil || !ok {
			t.Fatalf("after release: %v, %v", ok, err)
		}
		again()
	})
}

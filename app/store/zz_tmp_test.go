package store_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
)

func TestZZTmpTiming(t *testing.T) {
	url := os.Getenv("ZZ_URL")
	if url == "" {
		t.Skip()
	}
	ctx := context.Background()
	db, err := store.Open(ctx, store.Options{PostgresURL: url})
	if err != nil {
		t.Fatal(err)
	}
	inv := store.NewInventory(db)
	f := store.CredentialFilter{TenantID: os.Getenv("ZZ_T"), Search: os.Getenv("ZZ_Q"), Now: time.Now()}
	for i := 0; i < 8; i++ {
		t0 := time.Now()
		rows, err := inv.ListCredentials(ctx, f, store.CredentialPage{Sort: store.SortCreated, Desc: true, Limit: 51})
		t1 := time.Now()
		n, exact, err2 := inv.CountCredentials(ctx, f, 1000, 10*time.Millisecond)
		t2 := time.Now()
		t.Logf("list %d %v %v  count %d %v %v %v", len(rows), t1.Sub(t0), err, n, exact, t2.Sub(t1), err2)
	}
}

package offboard_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// Targets (BENCHMARKS.md): reconciling 1,000,000 credentials owned by
// 100,000 users, 5 % of them inactive, takes at most 10 s against a fake
// Jira on loopback, and at most 15 s with 50 ms added to every Jira call.
//
//	go test ./app/offboard -run '^$' -bench ReconcileMillion -benchtime 1x -timeout 30m
//
// KEYWARD_BENCH_CREDENTIALS and KEYWARD_BENCH_OWNERS change the sizes,
// KEYWARD_BENCH_CONCURRENCY the user/bulk calls in flight (8).
func BenchmarkReconcileMillion(b *testing.B) {
	creds, owners := envInt("KEYWARD_BENCH_CREDENTIALS", 1_000_000), envInt("KEYWARD_BENCH_OWNERS", 100_000)
	for _, latency := range []time.Duration{0, 50 * time.Millisecond} {
		b.Run(fmt.Sprintf("latency=%s", latency), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				env, tn, fj := seedReconcile(b, creds, owners)
				fj.SetLatency(latency)
				b.StartTimer()
				start := time.Now()
				counts, err := env.Svc.Reconcile(context.Background(), offboard.Run{TenantID: tn.ID})
				took := time.Since(start)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				inactive := owners / 20
				want := int64(creds / owners * inactive)
				if counts["revoked"] != want || counts["owners_checked"] != int64(owners) {
					b.Fatalf("counts %v, want %d revoked", counts, want)
				}
				b.ReportMetric(took.Seconds(), "s/run")
				b.ReportMetric(float64(fj.BulkCalls.Load()), "jira-calls")
				b.ReportMetric(float64(fj.MaxConcurrent.Load()), "max-concurrent-calls")
				b.Logf("%d credentials, %d owners, latency %s: %s (%v)", creds, owners, latency, took.Round(time.Millisecond), counts)
			}
		})
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// seedReconcile loads creds credentials spread over owners accounts into a
// fresh PostgreSQL schema with COPY, every 20th owner inactive in Jira.
func seedReconcile(b *testing.B, creds, owners int) (*offboardtest.Env, *models.Tenant, *offboardtest.FakeJira) {
	b.Helper()
	db := storetest.Open(b, storetest.Postgres)
	env := offboardtest.NewEnv(b, db, offboard.Options{ReconcileConcurrency: envInt("KEYWARD_BENCH_CONCURRENCY", 8)})
	fj := offboardtest.NewFakeJira(b)
	tn := env.ConnectSite(b, "bench-site", fj)
	owner := func(i int) string { return fmt.Sprintf("557058:%08d", i) }
	for i := range owners {
		fj.SetUser(owner(i), i%20 != 0)
	}
	now := time.Now().UTC()
	expires := now.Add(365 * 24 * time.Hour)
	recent := now.Add(-time.Hour)
	cols := []string{"id", "tenant_id", "kind", "owner_account_id", "name", "hint", "scopes", "created_at", "updated_at", "expires_at", "last_used_at"}
	copyRows(b, db, "credentials", cols, creds, func(i int) []any {
		return []any{fmt.Sprintf("bench-%08d", i), tn.ID, string(models.KindAPIKey), owner(i % owners), "bench key", "kwk_…", "full", now, now, expires, recent}
	})
	if _, err := db.SQL().Exec("ANALYZE credentials"); err != nil {
		b.Fatal(err)
	}
	return env, tn, fj
}

func copyRows(b *testing.B, db *store.DB, table string, cols []string, n int, row func(i int) []any) {
	b.Helper()
	ctx := context.Background()
	conn, err := db.SQL().Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{table}, cols,
			pgx.CopyFromSlice(n, func(i int) ([]any, error) { return row(i), nil }))
		return err
	})
	if err != nil {
		b.Fatalf("copy %s: %v", table, err)
	}
}

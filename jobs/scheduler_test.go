package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/jobs"
	"github.com/keyward/keyward/models"
)

func newScheduler(t *testing.T, db *store.DB, js ...jobs.Job) *jobs.Scheduler {
	t.Helper()
	s, err := jobs.New(store.NewJobRuns(db), db, store.NewAudit(db), db, offboardtest.QuietLog(), js...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop(context.Background()) })
	return s
}

func TestTickTime(t *testing.T) {
	sched, err := cron.ParseStandard("*/15 * * * *")
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 3, 2, 12, 15, 0, 0, time.UTC)
	for _, c := range []struct {
		now  time.Time
		want time.Time
	}{
		{base.Add(3 * time.Millisecond), base},
		{base.Add(40 * time.Second), base},
		{base, base},
		{base.Add(14 * time.Minute), base.Add(14 * time.Minute)}, // fired far too late: its own minute
	} {
		if got := jobs.TickTime(sched, c.now); !got.Equal(c.want) {
			t.Errorf("TickTime(%s) = %s, want %s", c.now, got, c.want)
		}
	}
}

// TestTwoReplicasRunEachTickOnce starts the same ticks on two schedulers
// sharing one database: each tick runs exactly once and never on both at
// the same time.
func TestTwoReplicasRunEachTickOnce(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		var (
			mu      sync.Mutex
			perTick = map[int64]int{}
			running atomic.Int32
			overlap atomic.Bool
		)
		job := func(replica string) jobs.Job {
			return jobs.Job{Name: "count", Schedule: "*/15 * * * *", Run: func(ctx context.Context, run offboard.Run) (offboard.Counts, error) {
				if running.Add(1) > 1 {
					overlap.Store(true)
				}
				defer running.Add(-1)
				time.Sleep(2 * time.Millisecond) // work long enough for the replicas to collide
				mu.Lock()
				perTick[run.RunID]++
				mu.Unlock()
				return offboard.Counts{"replica_" + replica: 1}, nil
			}}
		}
		a, b := newScheduler(t, db, job("a")), newScheduler(t, db, job("b"))
		a.SetReplica("replica-a")
		b.SetReplica("replica-b")
		start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		const ticks = 20
		for i := range ticks {
			tick := start.Add(time.Duration(i) * 15 * time.Minute)
			var wg sync.WaitGroup
			for _, s := range []*jobs.Scheduler{a, b} {
				wg.Go(func() {
					if _, err := s.Tick(context.Background(), "count", tick); err != nil {
						t.Errorf("tick %d: %v", i, err)
					}
				})
			}
			wg.Wait()
		}
		var runs, distinct int
		row := db.SQL().QueryRow("SELECT COUNT(*), COUNT(DISTINCT scheduled_at) FROM job_runs WHERE job = 'count' AND status = 'succeeded'")
		if err := row.Scan(&runs, &distinct); err != nil {
			t.Fatal(err)
		}
		if runs != ticks || distinct != ticks || len(perTick) != ticks {
			t.Fatalf("%d runs over %d ticks (%d executions), want one per tick", runs, distinct, len(perTick))
		}
		for id, n := range perTick {
			if n != 1 {
				t.Fatalf("run %d executed %d times", id, n)
			}
		}
		if overlap.Load() {
			t.Fatal("the job ran on both replicas at once")
		}
	})
}

// reconcileEnv is a site with owners, some inactive in Jira.
func reconcileEnv(t *testing.T, db *store.DB, owners, inactiveEvery int) (*offboardtest.Env, *models.Tenant, int) {
	t.Helper()
	env := offboardtest.NewEnv(t, db, offboard.Options{ReconcileConcurrency: 1})
	fj := offboardtest.NewFakeJira(t)
	tn := env.ConnectSite(t, "client-a", fj)
	inactive := 0
	for i := range owners {
		id := fmt.Sprintf("owner-%04d", i)
		active := i%inactiveEvery != 0
		if !active {
			inactive++
		}
		fj.SetUser(id, active)
		env.Key(t, tn.ID, id)
	}
	return env, tn, inactive
}

func TestKilledRunIsCaughtUpByTheNextRun(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		env, tn, inactive := reconcileEnv(t, db, 300, 5) // 4 batches, 60 inactive owners
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		// The real reconcile job, stopped (as by a SIGTERM) after its first batch.
		killer := jobs.ReconcileJob(env.Svc, "off")
		inner := killer.Run
		killer.Run = func(c context.Context, run offboard.Run) (offboard.Counts, error) {
			progress := run.Progress
			run.Progress = func(cn offboard.Counts, note string) {
				progress(cn, note)
				if cn["owners_checked"] > 0 {
					cancel()
				}
			}
			return inner(c, run)
		}
		s := newScheduler(t, db, killer)
		first, err := s.RunOnce(ctx, "reconcile", "", jobs.TriggerCLI)
		if err != nil {
			t.Fatal(err)
		}
		revokedFirst := env.Count(t, "SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL")
		if first.Status != models.RunCanceled || revokedFirst == 0 || revokedFirst >= inactive || !strings.Contains(first.Progress, "owners checked") {
			t.Fatalf("first run: %+v, %d of %d revoked", first, revokedFirst, inactive)
		}
		reps, _ := env.Reports.List(context.Background(), tn.ID, models.ReportReconcile, 0, 10)
		if len(reps) != 1 || reps[0].Status != "error" || !strings.Contains(reps[0].Error, "interrupted") {
			t.Fatalf("interrupted report: %+v", reps)
		}

		// A process that died mid-run left a run "running" with an old heartbeat.
		env.Exec(t, "INSERT INTO job_runs (job, tenant_id, triggered_by, status, replica, started_at, heartbeat_at, progress, counts, error) VALUES ('reconcile', '', 'schedule', 'running', 'dead', ?, ?, '{}', '{}', '')",
			time.Now().Add(-time.Hour).UTC(), time.Now().Add(-time.Hour).UTC())
		deadRun := env.Count(t, "SELECT id FROM job_runs WHERE replica = 'dead'")
		env.Exec(t, "INSERT INTO reports (tenant_id, kind, run_id, status, started_at, finished_at) VALUES (?, ?, ?, 'running', ?, ?)",
			tn.ID, models.ReportReconcile, deadRun, time.Now().Add(-time.Hour).UTC(), time.Now().Add(-time.Hour).UTC())

		// The catch-up run (a fresh process with the real job) finishes the work.
		s2 := newScheduler(t, db, jobs.ReconcileJob(env.Svc, "off"))
		second, err := s2.RunOnce(context.Background(), "reconcile", "", jobs.TriggerCLI)
		if err != nil {
			t.Fatal(err)
		}
		if second.Status != models.RunSucceeded || !strings.Contains(second.Counts, `"owners_checked":`) {
			t.Fatalf("catch-up run: %+v", second)
		}
		if n := env.Count(t, "SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL AND revoke_reason = ?", offboard.ReasonReconciled); n != inactive {
			t.Fatalf("after catch-up: %d revoked, want %d", n, inactive)
		}
		if n := env.Count(t, "SELECT COUNT(*) FROM job_runs WHERE status = 'abandoned' AND replica = 'dead'"); n != 1 {
			t.Fatal("the dead process's run was not marked abandoned")
		}
		if n := env.Count(t, "SELECT COUNT(*) FROM reports WHERE run_id = ? AND status = 'error' AND error LIKE 'interrupted%'", deadRun); n != 1 {
			t.Fatal("the dead process's report was not ended with its run")
		}
		if n := env.Count(t, "SELECT COUNT(*) FROM reports WHERE status = 'running'"); n != 0 {
			t.Fatalf("%d reports still running", n)
		}
		if n := env.Count(t, "SELECT COUNT(*) FROM audit_events WHERE action = ?", offboard.ActionOffboard); n != inactive {
			t.Fatalf("audit rows %d, want one per revoked credential (%d): nothing revoked twice", n, inactive)
		}
	})
}

func TestAdminStartedRunBelongsToItsSite(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		env, tn, inactive := reconcileEnv(t, db, 20, 4)
		other := env.ConnectSite(t, "client-b", offboardtest.NewFakeJira(t))
		s := newScheduler(t, db, jobs.ReconcileJob(env.Svc, "*/15 * * * *"))
		run, err := s.StartForTenant(context.Background(), "reconcile", tn.ID, "admin-1")
		if err != nil {
			t.Fatal(err)
		}
		if n := env.Count(t, "SELECT COUNT(*) FROM audit_events WHERE action = 'job.run' AND actor = 'admin-1' AND tenant_id = ?", tn.ID); n != 1 {
			t.Fatal("start not audited")
		}
		deadline := time.Now().Add(20 * time.Second)
		for {
			got, err := s.GetRun(context.Background(), tn.ID, run.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != models.RunRunning {
				if got.Status != models.RunSucceeded {
					t.Fatalf("run: %+v", got)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("run did not finish")
			}
			time.Sleep(20 * time.Millisecond)
		}
		if n := env.Count(t, "SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL AND tenant_id = ?", tn.ID); n != inactive {
			t.Fatalf("revoked %d, want %d", n, inactive)
		}
		if _, err := s.GetRun(context.Background(), other.ID, run.ID); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("another site read the run: %v", err)
		}
		if _, err := s.StartForTenant(context.Background(), "nope", tn.ID, "admin-1"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown job: %v", err)
		}
		infos, err := s.List(context.Background(), tn.ID)
		if err != nil || len(infos) != 1 || infos[0].NextRun == nil || len(infos[0].LastRuns) != 1 {
			t.Fatalf("list: %+v %v", infos, err)
		}
		if infos, _ := s.List(context.Background(), other.ID); len(infos[0].LastRuns) != 0 {
			t.Fatal("another site sees this site's runs")
		}
	})
}

func TestCronClockStartsRuns(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	fired := make(chan struct{}, 10)
	s := newScheduler(t, db, jobs.Job{Name: "tick", Schedule: "@every 1s", Run: func(ctx context.Context, run offboard.Run) (offboard.Counts, error) {
		fired <- struct{}{}
		return offboard.Counts{}, nil
	}})
	s.Start()
	select {
	case <-fired:
	case <-time.After(10 * time.Second):
		t.Fatal("the cron clock never ran the job")
	}
	s.Stop(context.Background())
	var n int
	if err := db.SQL().QueryRow("SELECT COUNT(*) FROM job_runs WHERE job = 'tick' AND triggered_by = 'schedule' AND scheduled_at IS NOT NULL").Scan(&n); err != nil || n < 1 {
		t.Fatalf("scheduled runs recorded: %d %v", n, err)
	}
}

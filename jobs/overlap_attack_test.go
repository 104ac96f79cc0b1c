package jobs_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/jobs"
	"github.com/keyward/keyward/models"
)

// TestAttackRegression_AdminRunOverlapsScheduledRun: a run started for one
// site (the admin API, the Forge scheduled trigger) once took no lock, so
// it ran beside the cron or CLI run of the same site. It now holds the
// lock of its job and site for its whole run: another run of that site is
// refused with ErrBusy, and a run over every site skips that site
// (sites_busy) instead of working on it twice; other sites, and the
// schedule, are not held up. No credential of an active owner is touched.
func TestAttackRegression_AdminRunOverlapsScheduledRun(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		env := offboardtest.NewEnv(t, db, offboard.Options{ReconcileConcurrency: 1})
		fj := offboardtest.NewFakeJira(t)
		site := env.ConnectSite(t, "client-a", fj)
		other := env.ConnectSite(t, "client-b", offboardtest.NewFakeJira(t))
		var active []string
		for _, id := range []string{"active-a", "active-b", "active-c"} {
			fj.SetUser(id, true)
			sec, _ := env.Key(t, site.ID, id)
			active = append(active, sec)
		}
		fj.SetUser("leaver", false)
		env.Key(t, site.ID, "leaver")

		release := make(chan struct{})
		orig := fj.Config.Handler
		fj.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/user/bulk") {
				<-release // the admin run is in progress until the test lets it go
			}
			orig.ServeHTTP(w, r)
		})

		s, err := jobs.New(store.NewJobRuns(db), db, store.NewAudit(db), db, offboardtest.QuietLog(), jobs.ReconcileJob(env.Svc, "off"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop(ctx)

		adminRun, err := s.StartForTenant(ctx, "reconcile", site.ID, "forge-scheduled-trigger")
		if err != nil {
			t.Fatalf("StartForTenant: %v", err)
		}
		if _, err := s.StartForTenant(ctx, "reconcile", site.ID, "admin"); !errors.Is(err, jobs.ErrBusy) {
			t.Errorf("second start for the site: %v, want ErrBusy", err)
		}
		if _, err := s.RunOnce(ctx, "reconcile", site.ID, jobs.TriggerCLI); !errors.Is(err, jobs.ErrBusy) {
			t.Errorf("run-job -tenant for the site: %v, want ErrBusy", err)
		}
		// Another site, and the runs over every site, go on meanwhile.
		if _, err := s.RunOnce(ctx, "reconcile", other.ID, jobs.TriggerCLI); err != nil {
			t.Errorf("run-job for another site: %v", err)
		}
		all, err := s.RunOnce(ctx, "reconcile", "", jobs.TriggerCLI)
		if err != nil || all.Status != models.RunSucceeded || !strings.Contains(all.Counts, `"sites_busy":1`) {
			t.Errorf("run-job over every site while one site runs: %+v, %v; want it to skip the busy site", all, err)
		}
		if run, err := s.Tick(ctx, "reconcile", time.Now()); err != nil || run == nil {
			t.Errorf("tick while a site's run is in progress: %+v, %v; want it to run", run, err)
		} else if r, err := store.NewJobRuns(db).Get(ctx, run.ID); err != nil || !strings.Contains(r.Counts, `"sites_busy":1`) {
			t.Errorf("tick's run: %+v, %v; want it to skip the busy site", r, err)
		}
		close(release)

		waitRun(t, s, site.ID, adminRun.ID)
		for _, sec := range active {
			if v := env.Verify(sec); !v.Active {
				t.Errorf("a key of an active owner was refused: %+v", v)
			}
		}
		// The lock is released with the run.
		if _, err := s.RunOnce(ctx, "reconcile", "", jobs.TriggerCLI); err != nil {
			t.Fatalf("run-job after the site's run: %v", err)
		}
	})
}

// TestAttackRegression_SiteRunsBounded: every one-site run holds a database
// connection for its lock, and a burst of them (Forge scheduled triggers
// of many sites) once took the whole pool, stalling the replica. At most
// MaxSiteRuns run at once in a process; the next is refused until one ends.
func TestAttackRegression_SiteRunsBounded(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		env := offboardtest.NewEnv(t, db, offboard.Options{ReconcileConcurrency: 1})
		release := make(chan struct{})
		var sites []*models.Tenant
		for i := range jobs.MaxSiteRuns + 1 {
			fj := offboardtest.NewFakeJira(t)
			orig := fj.Config.Handler
			fj.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				<-release
				orig.ServeHTTP(w, r)
			})
			site := env.ConnectSite(t, fmt.Sprintf("client-%d", i), fj)
			fj.SetUser("owner", true)
			env.Key(t, site.ID, "owner")
			sites = append(sites, site)
		}
		s, err := jobs.New(store.NewJobRuns(db), db, store.NewAudit(db), db, offboardtest.QuietLog(), jobs.ReconcileJob(env.Svc, "off"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Stop(ctx)
		var runs []*models.JobRun
		for _, site := range sites[:jobs.MaxSiteRuns] {
			run, err := s.StartForTenant(ctx, "reconcile", site.ID, "forge-scheduled-trigger")
			if err != nil {
				t.Fatalf("start %s: %v", site.ID, err)
			}
			runs = append(runs, run)
		}
		last := sites[jobs.MaxSiteRuns]
		if _, err := s.StartForTenant(ctx, "reconcile", last.ID, "forge-scheduled-trigger"); !errors.Is(err, jobs.ErrTooManySiteRuns) {
			t.Fatalf("start beyond the bound: %v, want ErrTooManySiteRuns", err)
		}
		close(release)
		for i, run := range runs {
			waitRun(t, s, sites[i].ID, run.ID)
		}
		run, err := s.StartForTenant(ctx, "reconcile", last.ID, "forge-scheduled-trigger")
		if err != nil {
			t.Fatalf("start after the others ended: %v", err)
		}
		waitRun(t, s, last.ID, run.ID)
	})
}

func waitRun(t *testing.T, s *jobs.Scheduler, tenantID string, id int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		r, err := s.GetRun(context.Background(), tenantID, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != models.RunRunning {
			if r.Status != models.RunSucceeded {
				t.Fatalf("run %d: %s %s", id, r.Status, r.Error)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("run %d did not finish", id)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

package jobs_test

import (
	"context"
	"errors"
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
// site (the admin API, the Forge scheduled trigger) once took neither the
// job's in-process lock nor its advisory lock, so it ran beside the cron
// or CLI run of the same job. It now holds the job's lock for its whole
// run: the other run is refused with ErrBusy until it ends, and no
// credential of an active owner is touched.
func TestAttackRegression_AdminRunOverlapsScheduledRun(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		env := offboardtest.NewEnv(t, db, offboard.Options{ReconcileConcurrency: 1})
		fj := offboardtest.NewFakeJira(t)
		site := env.ConnectSite(t, "client-a", fj)
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
		if _, err := s.RunOnce(ctx, "reconcile", "", jobs.TriggerCLI); !errors.Is(err, jobs.ErrBusy) {
			t.Errorf("run-job while a site's run is in progress: %v, want ErrBusy", err)
		}
		if _, err := s.StartForTenant(ctx, "reconcile", site.ID, "admin"); !errors.Is(err, jobs.ErrBusy) {
			t.Errorf("second start for the site: %v, want ErrBusy", err)
		}
		if run, err := s.Tick(ctx, "reconcile", time.Now()); err != nil || run != nil {
			t.Errorf("tick while a site's run is in progress: %+v, %v; want skipped", run, err)
		}
		close(release)

		deadline := time.Now().Add(10 * time.Second)
		for {
			r, err := s.GetRun(ctx, site.ID, adminRun.ID)
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != models.RunRunning {
				if r.Status != models.RunSucceeded {
					t.Fatalf("admin run: %s %s", r.Status, r.Error)
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("admin run did not finish")
			}
			time.Sleep(10 * time.Millisecond)
		}
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

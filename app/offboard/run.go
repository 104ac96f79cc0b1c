package offboard

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/models"
)

// Counts are a run's counters, e.g. sites, owners_checked, revoked.
type Counts map[string]int64

// Add adds other's counters to c.
func (c Counts) Add(other Counts) {
	for k, v := range other {
		c[k] += v
	}
}

// Run is one invocation of a batch operation by a job.
type Run struct {
	TenantID string // empty: every installed site
	RunID    int64  // the job run, linked from reports
	Force    bool   // personal data reporting: ignore the site's cycle
	// Progress receives the counters so far (called from several
	// goroutines, never concurrently).
	Progress func(c Counts, note string)
	// LockSite, when set, is taken for each site before it is worked on
	// and released after; a site whose lock another run holds (a run
	// started for that site alone) is skipped and counted as sites_busy.
	LockSite func(ctx context.Context, tenantID string) (release func(), ok bool, err error)
}

func (r Run) progress(c Counts, note string) {
	if r.Progress != nil {
		r.Progress(maps.Clone(c), note)
	}
}

// ErrPartial marks a run in which some sites failed while others finished.
var ErrPartial = errors.New("some sites failed")

// sites returns the sites a run covers.
func (s *Service) sites(ctx context.Context, tenantID string) ([]models.Tenant, error) {
	if tenantID == "" {
		return s.Tenants.ListInstalled(ctx)
	}
	t, err := s.Tenants.Get(ctx, tenantID)
	if err != nil {
		return nil, err
	}
	if t.State != models.TenantInstalled {
		return nil, fmt.Errorf("site %s is %s: %w", t.ID, t.State, models.ErrConflict)
	}
	return []models.Tenant{*t}, nil
}

// eachSite runs fn for every site of the run: a failing site is recorded
// and the next one goes on. It stops only when ctx ends.
func (s *Service) eachSite(ctx context.Context, run Run, job string, fn func(ctx context.Context, t *models.Tenant, total Counts) (Counts, error)) (Counts, error) {
	sites, err := s.sites(ctx, run.TenantID)
	if err != nil {
		return nil, err
	}
	total := Counts{"sites": int64(len(sites))}
	var failed []error
	for i := range sites {
		if err := ctx.Err(); err != nil {
			return total, err
		}
		t := &sites[i]
		if t.IsDev() && job != "weekly-report" {
			// The dev site has no Jira to ask.
			total["sites_skipped"]++
			s.Log.WithFields(logrus.Fields{"job": job, "tenant": t.ID}).Info("dev site has no Jira; skipped")
			continue
		}
		release := func() {}
		if run.LockSite != nil {
			r, ok, err := run.LockSite(ctx, t.ID)
			if err != nil {
				total["sites_failed"]++
				failed = append(failed, fmt.Errorf("site %s: lock: %w", t.ID, err))
				continue
			}
			if !ok {
				// A run of this site alone is in progress: it covers it.
				total["sites_busy"]++
				s.Log.WithFields(logrus.Fields{"job": job, "tenant": t.ID}).Info("site is being run on its own; skipped")
				continue
			}
			release = r
		}
		start := time.Now()
		c, err := fn(ctx, t, total)
		release()
		total.Add(c)
		log := s.Log.WithFields(logrus.Fields{"job": job, "tenant": t.ID, "duration_ms": time.Since(start).Milliseconds()}).WithFields(logrus.Fields(countFields(c)))
		if err != nil {
			if ctx.Err() != nil {
				return total, ctx.Err()
			}
			total["sites_failed"]++
			failed = append(failed, fmt.Errorf("site %s: %w", t.ID, err))
			log.WithError(err).Warn("site failed; going on with the next")
			continue
		}
		total["sites_done"]++
		log.Info("site done")
		run.progress(total, fmt.Sprintf("%d of %d sites done", i+1, len(sites)))
	}
	if len(failed) > 0 {
		return total, fmt.Errorf("%w: %w", ErrPartial, errors.Join(failed...))
	}
	return total, nil
}

func countFields(c Counts) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

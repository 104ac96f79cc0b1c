package offboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/jira"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// Reconcile checks the owners of live credentials of every site in the
// run against Jira's user API and revokes what inactive or deleted owners
// hold. Each site gets a report; a failing site is recorded and the others
// go on.
func (s *Service) Reconcile(ctx context.Context, run Run) (Counts, error) {
	return s.eachSite(ctx, run, "reconcile", func(ctx context.Context, t *models.Tenant, total Counts) (Counts, error) {
		rep, err := s.ReconcileSite(ctx, t, run, total)
		if rep == nil {
			return Counts{}, err
		}
		return Counts{"owners_checked": int64(rep.OwnersChecked), "revoked": int64(rep.Revoked), "stale": int64(rep.Stale),
			"expired": int64(rep.Expired), "errors": int64(rep.Errors), "reports": 1}, err
	})
}

// siteRun is the state of one site's reconciliation.
type siteRun struct {
	s        *Service
	t        *models.Tenant
	run      Run
	settings *models.OffboardingSettings
	report   *models.Report
	before   Counts // counters of the sites done earlier in the run

	mu         sync.Mutex
	counts     Counts
	unbelieved []error // batches whose answer was not believed
	batches    int
	lastNote   time.Time
}

// ReconcileSite reconciles one site and stores its report. Work done
// before a failure (or cancellation) stays done; the report says where it
// stopped.
func (s *Service) ReconcileSite(ctx context.Context, t *models.Tenant, run Run, before Counts) (*models.Report, error) {
	start := s.now()
	rep := &models.Report{TenantID: t.ID, Kind: models.ReportReconcile, Status: "running", StartedAt: start, FinishedAt: start}
	if run.RunID > 0 {
		rep.RunID = &run.RunID
	}
	if err := s.Reports.Create(ctx, rep); err != nil {
		return nil, err
	}
	settings, err := s.Deps.Settings.Get(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	r := &siteRun{s: s, t: t, run: run, settings: settings, report: rep, before: before, counts: Counts{}}
	err = r.reconcile(ctx)

	// The outcome is recorded even when the run was cancelled.
	fctx := context.WithoutCancel(ctx)
	rep.FinishedAt = s.now()
	rep.DurationMS = rep.FinishedAt.Sub(start).Milliseconds()
	rep.OwnersChecked, rep.Revoked = int(r.counts["owners_checked"]), int(r.counts["revoked"])
	rep.Stale, rep.Expired = int(r.counts["stale"]), int(r.counts["expired"])
	rep.Status = "ok"
	if err != nil {
		rep.Status, rep.Errors, rep.Error = "error", 1, clipError(err)
		if ctx.Err() != nil {
			rep.Error = "interrupted: " + rep.Error
		}
		_ = s.Reports.AddItems(fctx, []models.ReportItem{{ReportID: rep.ID, TenantID: t.ID, Kind: models.ItemError, Detail: rep.Error}})
	}
	summary, _ := json.Marshal(r.counts)
	rep.Summary = string(summary)
	if ferr := s.Reports.Finish(fctx, rep); ferr != nil {
		return rep, errors.Join(err, ferr)
	}
	if ctx.Err() == nil {
		s.deliver(fctx, t, settings, rep)
	}
	return rep, err
}

// reconcileWriters is how many checked batches are written at once. The
// writes are database work bound by its CPU, so a few writers keep it
// busy; Jira calls run apart from them (ReconcileConcurrency), so the
// calls in flight do not wait for the database, nor it for Jira.
const reconcileWriters = 3

// checked is one user/bulk batch with Jira's answer, dated when keyward
// asked: a state keyward learnt after that (a reactivation event applied
// while the call ran or the batch waited for a writer) wins over it.
type checked struct {
	ids   []string
	found map[string]jira.User
	at    time.Time
}

func (r *siteRun) reconcile(ctx context.Context) error {
	s := r.s
	if err := s.mayBrowseUsers(ctx, r.t); err != nil {
		return err
	}
	s.Log.WithField("tenant", r.t.ID).Info("reconcile: checking owners")
	bctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan []string)
	results := make(chan checked, s.opts.ReconcileConcurrency)
	var fetchers, writers sync.WaitGroup
	for range s.opts.ReconcileConcurrency {
		fetchers.Go(func() {
			for ids := range work {
				if bctx.Err() != nil {
					continue
				}
				asked := s.now() // Jira's answer is at least this old
				found, err := s.Jira.BulkUsers(bctx, r.t, ids)
				if err != nil {
					cancel(fmt.Errorf("jira user/bulk: %w", err))
					continue
				}
				results <- checked{ids: ids, found: found, at: asked}
			}
		})
	}
	for range min(reconcileWriters, s.opts.ReconcileConcurrency) {
		writers.Go(func() {
			for b := range results {
				if bctx.Err() != nil {
					continue
				}
				if err := r.apply(bctx, b); err != nil {
					cancel(err)
				}
			}
		})
	}
	// Owners are read a page at a time while earlier batches are checked.
	err := r.feed(bctx, work)
	close(work)
	fetchers.Wait()
	close(results)
	writers.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := context.Cause(bctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	if err != nil {
		return err
	}
	r.progressNow()
	if err := r.credentialsPhase(ctx); err != nil {
		return err
	}
	if n := len(r.unbelieved); n > 0 {
		return fmt.Errorf("%d of the site's batches were not changed: %w", n, r.unbelieved[0])
	}
	return nil
}

// ownersPage is how many owners are read at once: ten user/bulk batches.
const ownersPage = 10 * jira.MaxBulkUsers

func (r *siteRun) feed(ctx context.Context, work chan<- []string) error {
	s := r.s
	now := s.now()
	after, analyzed := "", false
	for {
		owners, err := s.Users.ActiveOwnersPage(ctx, r.t.ID, now, after, ownersPage)
		if err != nil || len(owners) == 0 {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		after = owners[len(owners)-1]
		created, err := s.Users.EnsureAccounts(ctx, r.t.ID, owners)
		if err != nil {
			return err
		}
		if created >= 500 && !analyzed {
			analyzed = true
			if err := s.Users.RefreshStats(ctx); err != nil {
				return err
			}
		}
		r.add(Counts{"owners_total": int64(len(owners))})
		for _, ids := range chunk(owners, jira.MaxBulkUsers) {
			select {
			case work <- ids:
			case <-ctx.Done():
				return nil
			}
		}
	}
}

// apply records what Jira said about a batch of up to 90 owners and
// revokes what the inactive ones hold.
func (r *siteRun) apply(ctx context.Context, b checked) error {
	s := r.s
	ids, found, now := b.ids, b.found, b.at
	if unbelievable(len(ids), len(found)) {
		return r.unconfirmed(ctx, ids, found, now)
	}
	c := Counts{"owners_checked": int64(len(ids))}
	var items []models.ReportItem
	item := func(kind, owner, credID, reason, detail string) {
		items = append(items, models.ReportItem{ReportID: r.report.ID, TenantID: r.t.ID, Kind: kind, OwnerAccountID: owner, CredentialID: credID, Reason: reason, Detail: detail, At: &now})
	}
	var inactive []string
	for _, id := range ids {
		if u, ok := found[id]; ok && !u.Active {
			inactive = append(inactive, id)
		}
	}
	held, err := r.withinGrace(ctx, inactive, now)
	if err != nil {
		return err
	}
	checks := make([]store.UserCheck, len(ids))
	detail := map[string]string{}
	var revoke []string
	for i, id := range ids {
		u, ok := found[id]
		checks[i] = store.UserCheck{AccountID: id, Found: ok, Active: u.Active, DisplayName: u.DisplayName,
			AccountType: u.AccountType, Email: u.EmailAddress, KeepAccess: r.settings.IsExempt(id)}
		switch {
		case ok && u.Active:
			continue
		case !ok:
			detail[id] = "unknown to Jira (deleted)"
			c["owners_missing"]++
		default:
			detail[id] = "inactive in Jira"
			c["owners_inactive"]++
		}
		switch {
		case r.settings.IsExempt(id):
			item(models.ItemExempt, id, "", ReasonReconciled, detail[id]+"; exempt from auto-revoke")
			c["owners_exempt"]++
		case !r.settings.AutoRevoke:
			item(models.ItemInactive, id, "", ReasonReconciled, detail[id]+"; auto-revoke is off")
		case !held[id].IsZero():
			item(models.ItemInactive, id, "", ReasonReconciled, detail[id]+"; grace period until "+held[id].Format(time.RFC3339))
			c["owners_in_grace"]++
		default:
			checks[i].Revoking = true
			revoke = append(revoke, id)
		}
	}
	// The batch's writes are one transaction: the users' new state, the
	// revocations with an audit row per credential and the report items
	// stand or fall together, and the batch costs one commit.
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		_, superseded, err := s.Users.ApplyChecks(ctx, r.t.ID, checks, now)
		if err != nil {
			return err
		}
		if len(superseded) > 0 {
			// Newer news about these owners arrived after Jira answered.
			revoke = slices.DeleteFunc(revoke, func(id string) bool { return slices.Contains(superseded, id) })
			c["owners_superseded"] += int64(len(superseded))
		}
		if len(revoke) > 0 {
			revoked, err := s.Revoker.Revoke(ctx, store.RevokeFilter{TenantID: r.t.ID, Owners: revoke}, credentials.Revocation{
				Actor: credentials.ActorSystem, Reason: ReasonReconciled, Action: ActionOffboard,
				Details: map[string]any{"runId": r.run.RunID, "reportId": r.report.ID, "source": "reconciliation"},
			})
			if err != nil {
				return fmt.Errorf("revoke credentials of inactive owners: %w", err)
			}
			for i := range revoked {
				item(models.ItemRevoked, revoked[i].OwnerAccountID, revoked[i].ID, ReasonReconciled, detail[revoked[i].OwnerAccountID])
			}
			c["revoked"] += int64(len(revoked))
		}
		return s.Reports.AddItems(ctx, items)
	})
	if err != nil {
		return err
	}
	r.add(c)
	return nil
}

// unconfirmed records a batch whose answer missed too many owners to be
// believed (see unbelievable): nothing about them changes, the report
// says so, and the site's run ends with an error once its other batches
// are done.
func (r *siteRun) unconfirmed(ctx context.Context, ids []string, found map[string]jira.User, now time.Time) error {
	err := errUnbelievable(len(ids), len(found))
	item := models.ReportItem{ReportID: r.report.ID, TenantID: r.t.ID, Kind: models.ItemError, Detail: clipError(err), At: &now}
	if err := r.s.Reports.AddItems(ctx, []models.ReportItem{item}); err != nil {
		return err
	}
	r.mu.Lock()
	r.unbelieved = append(r.unbelieved, err)
	r.mu.Unlock()
	r.add(Counts{"owners_checked": 0, "owners_unconfirmed": int64(len(ids))})
	return nil
}

// withinGrace returns, for inactive owners still inside the site's grace
// period, when it ends. Deleted owners get no grace.
func (r *siteRun) withinGrace(ctx context.Context, inactive []string, now time.Time) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	if r.settings.GraceSeconds <= 0 || len(inactive) == 0 {
		return out, nil
	}
	since, err := r.s.Users.InactiveSince(ctx, r.t.ID, inactive)
	if err != nil {
		return nil, err
	}
	grace := time.Duration(r.settings.GraceSeconds) * time.Second
	for _, id := range inactive {
		t, ok := since[id]
		if !ok {
			t = now
		}
		if due := t.Add(grace); now.Before(due) {
			out[id] = due
		}
	}
	return out, nil
}

// add merges counters and reports progress after each batch (at most
// every 200 ms).
func (r *siteRun) add(c Counts) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts.Add(c)
	if _, ok := c["owners_checked"]; !ok {
		return
	}
	r.batches++
	if time.Since(r.lastNote) >= 200*time.Millisecond {
		r.noteLocked()
	}
}

// progressNow reports the counters as they are.
func (r *siteRun) progressNow() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.noteLocked()
}

func (r *siteRun) noteLocked() {
	r.lastNote = time.Now()
	total := Counts{}
	total.Add(r.before)
	total.Add(r.counts)
	note := fmt.Sprintf("site %s: %d owners checked, %d credentials revoked", r.t.ID, r.counts["owners_checked"], r.counts["revoked"])
	r.run.progress(total, note)
	r.s.Log.WithFields(logrus.Fields{"tenant": r.t.ID, "checked": r.counts["owners_checked"], "revoked": r.counts["revoked"]}).Info("reconcile: progress")
}

func chunk(ids []string, n int) [][]string {
	var out [][]string
	for start := 0; start < len(ids); start += n {
		out = append(out, ids[start:min(start+n, len(ids))])
	}
	return out
}

package offboard

import (
	"context"
	"encoding/json"
	"time"

	"github.com/keyward/keyward/models"
)

// WeeklySummary is the body of a weekly report.
type WeeklySummary struct {
	From            time.Time      `json:"from"`
	To              time.Time      `json:"to"`
	Runs            int            `json:"reconcileRuns"`
	FailedRuns      int            `json:"failedRuns"`
	RevokedByRuns   int            `json:"revokedByReconciliation"`
	LatestStale     int            `json:"staleCredentials"`
	LatestExpired   int            `json:"expiredCredentials"`
	OwnersChecked   int            `json:"ownersChecked"`
	Events          map[string]int `json:"webhookEvents"`
	LastReportID    int64          `json:"lastReconcileReportId,omitempty"`
	LastReconcileAt *time.Time     `json:"lastReconcileAt,omitempty"`
}

// Weekly stores a summary of the past seven days for every site of the
// run: reconciliation runs and their revocations, the latest stale and
// expired counts, and the user events by status.
func (s *Service) Weekly(ctx context.Context, run Run) (Counts, error) {
	return s.eachSite(ctx, run, "weekly-report", func(ctx context.Context, t *models.Tenant, _ Counts) (Counts, error) {
		_, err := s.WeeklySite(ctx, t, run)
		return Counts{"reports": 1}, err
	})
}

// WeeklySite stores (and delivers) one site's weekly summary.
func (s *Service) WeeklySite(ctx context.Context, t *models.Tenant, run Run) (*models.Report, error) {
	now := s.now()
	from := now.Add(-7 * 24 * time.Hour)
	reps, err := s.Reports.Since(ctx, t.ID, models.ReportReconcile, from)
	if err != nil {
		return nil, err
	}
	sum := WeeklySummary{From: from, To: now, Events: map[string]int{}}
	for i := range reps {
		r := &reps[i]
		sum.Runs++
		sum.RevokedByRuns += r.Revoked
		if r.Status != "ok" {
			sum.FailedRuns++
			continue
		}
		sum.LatestStale, sum.LatestExpired, sum.OwnersChecked = r.Stale, r.Expired, r.OwnersChecked
		sum.LastReportID, sum.LastReconcileAt = r.ID, &r.FinishedAt
	}
	events, err := s.Events.CountByStatus(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	for k, v := range events {
		sum.Events[string(k)] = v
	}
	body, _ := json.Marshal(sum)
	rep := &models.Report{
		TenantID: t.ID, Kind: models.ReportWeekly, Status: "ok", StartedAt: now, FinishedAt: s.now(),
		OwnersChecked: sum.OwnersChecked, Revoked: sum.RevokedByRuns, Stale: sum.LatestStale, Expired: sum.LatestExpired,
		Errors: sum.FailedRuns, Summary: string(body),
	}
	if run.RunID > 0 {
		rep.RunID = &run.RunID
	}
	rep.DurationMS = rep.FinishedAt.Sub(now).Milliseconds()
	if err := s.Reports.Create(ctx, rep); err != nil {
		return nil, err
	}
	settings, err := s.Deps.Settings.Get(ctx, t.ID)
	if err != nil {
		return rep, err
	}
	s.deliver(ctx, t, settings, rep)
	return rep, nil
}

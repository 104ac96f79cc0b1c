package offboard

import (
	"context"
	"time"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// credentialsPhase lists the site's expired credentials and those unused
// for longer than its stale threshold, revoking the stale ones when the
// site opted in. Lists in the report are capped; the counters are not.
func (r *siteRun) credentialsPhase(ctx context.Context) error {
	s := r.s
	now := s.now()
	expired, nExpired, err := s.Reports.ExpiredCredentials(ctx, r.t.ID, now, s.opts.ReportItemCap)
	if err != nil {
		return err
	}
	items := make([]models.ReportItem, 0, len(expired))
	for _, c := range expired {
		items = append(items, models.ReportItem{ReportID: r.report.ID, TenantID: r.t.ID, Kind: models.ItemExpired,
			CredentialID: c.ID, OwnerAccountID: c.OwnerAccountID, Detail: c.Name, At: c.ExpiresAt})
	}
	c := Counts{"expired": int64(nExpired)}
	if days := r.settings.StaleAfterDays; days > 0 {
		cutoff := now.Add(-time.Duration(days) * 24 * time.Hour)
		stale, nStale, err := s.Reports.StaleCredentials(ctx, r.t.ID, now, cutoff, s.opts.ReportItemCap)
		if err != nil {
			return err
		}
		c["stale"] = int64(nStale)
		for _, cr := range stale {
			at := cr.LastUsedAt
			if at == nil {
				at = &cr.CreatedAt
			}
			items = append(items, models.ReportItem{ReportID: r.report.ID, TenantID: r.t.ID, Kind: models.ItemStale,
				CredentialID: cr.ID, OwnerAccountID: cr.OwnerAccountID, Detail: cr.Name, At: at})
		}
		if r.settings.RevokeStale && nStale > 0 {
			n, revokedItems, err := r.revokeStale(ctx, now, cutoff)
			items = append(items, revokedItems...)
			c["revoked"] += n
			if err != nil {
				_ = s.Reports.AddItems(ctx, items)
				r.add(c)
				return err
			}
		}
	}
	if err := s.Reports.AddItems(ctx, items); err != nil {
		return err
	}
	r.add(c)
	return nil
}

// revokeStale revokes every stale credential of the site, a page at a time.
func (r *siteRun) revokeStale(ctx context.Context, now, cutoff time.Time) (int64, []models.ReportItem, error) {
	s := r.s
	var (
		n     int64
		items []models.ReportItem
	)
	for {
		page, _, err := s.Reports.StaleCredentials(ctx, r.t.ID, now, cutoff, 500)
		if err != nil || len(page) == 0 {
			return n, items, err
		}
		ids := make([]string, len(page))
		for i := range page {
			ids[i] = page[i].ID
		}
		revoked, err := s.Revoker.Revoke(ctx, store.RevokeFilter{TenantID: r.t.ID, IDs: ids}, credentials.Revocation{
			Actor: credentials.ActorSystem, Reason: ReasonStale, Action: "credential.revoke_stale",
			Details: map[string]any{"runId": r.run.RunID, "reportId": r.report.ID, "staleAfterDays": r.settings.StaleAfterDays},
		})
		if err != nil {
			return n, items, err
		}
		if len(revoked) == 0 {
			return n, items, nil
		}
		for _, c := range revoked {
			items = append(items, models.ReportItem{ReportID: r.report.ID, TenantID: r.t.ID, Kind: models.ItemRevoked,
				CredentialID: c.ID, OwnerAccountID: c.OwnerAccountID, Reason: ReasonStale, Detail: c.Name, At: &now})
		}
		n += int64(len(revoked))
	}
}

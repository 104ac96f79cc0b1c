package offboard

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/jira"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// PersonalData reports every stored accountId of the run's sites to
// Atlassian's Personal Data Reporting API, each site on its own cycle (7
// days unless Atlassian's Cycle-Period header says otherwise; run.Force
// ignores it). A "closed" account has everything it owns revoked and its
// personal data erased (see store.Users.ErasePersonalData for what is kept);
// an "updated" account has its profile fetched again.
func (s *Service) PersonalData(ctx context.Context, run Run) (Counts, error) {
	return s.eachSite(ctx, run, "personal-data", func(ctx context.Context, t *models.Tenant, _ Counts) (Counts, error) {
		return s.PersonalDataSite(ctx, t, run)
	})
}

// PersonalDataSite reports one site's accounts when its cycle is due.
func (s *Service) PersonalDataSite(ctx context.Context, t *models.Tenant, run Run) (Counts, error) {
	c := Counts{}
	settings, err := s.Deps.Settings.Get(ctx, t.ID)
	if err != nil {
		return c, err
	}
	if !run.Force && settings.PDRNextAt != nil && s.now().Before(*settings.PDRNextAt) {
		c["sites_not_due"]++
		return c, nil
	}
	if err := s.Users.EnsureOwners(ctx, t.ID); err != nil {
		return c, err
	}
	cycle := jira.DefaultReportCycle
	after := ""
	for {
		page, err := s.Users.ForReporting(ctx, t.ID, after, jira.MaxReportAccounts)
		if err != nil || len(page) == 0 {
			if err != nil {
				return c, err
			}
			break
		}
		after = page[len(page)-1].AccountID
		accounts := make([]jira.ReportedAccount, len(page))
		for i, a := range page {
			accounts[i] = jira.ReportedAccount{AccountID: a.AccountID, UpdatedAt: a.UpdatedAt}
		}
		res, err := s.Jira.ReportAccounts(ctx, t, s.opts.ForgeAPIBase, accounts)
		if err != nil {
			return c, fmt.Errorf("report accounts: %w", err)
		}
		c["accounts_reported"] += int64(len(page))
		if res.Cycle > 0 {
			cycle = res.Cycle
		}
		if err := s.applyStatuses(ctx, t, settings, reportedOnly(res.Accounts, page), c); err != nil {
			return c, err
		}
		run.progress(c, fmt.Sprintf("site %s: %d accounts reported", t.ID, c["accounts_reported"]))
	}
	next := s.now().Add(cycle)
	return c, s.Deps.Settings.SetPDRSchedule(ctx, t.ID, next, int(cycle.Seconds()))
}

// reportedOnly keeps the statuses of accounts of the reported page, once
// each: an answer naming an account keyward did not report in that call is
// not acted upon.
func reportedOnly(statuses []jira.AccountStatus, page []store.ReportableAccount) []jira.AccountStatus {
	reported := make(map[string]bool, len(page))
	for _, a := range page {
		reported[a.AccountID] = true
	}
	out := make([]jira.AccountStatus, 0, len(statuses))
	for _, st := range statuses {
		if reported[st.AccountID] {
			reported[st.AccountID] = false
			out = append(out, st)
		}
	}
	return out
}

// applyStatuses acts on Atlassian's answer: a closed account is revoked and
// erased, an updated one fetched again through user/bulk. A user/bulk
// answer that is not a page of users (jira.Client.BulkUsers), or misses
// too many of a batch to be believed (unbelievable), fails the site
// instead of marking the updated accounts deleted.
func (s *Service) applyStatuses(ctx context.Context, t *models.Tenant, settings *models.OffboardingSettings, statuses []jira.AccountStatus, c Counts) error {
	var updated []string
	for _, st := range statuses {
		switch st.Status {
		case "closed":
			if err := s.closeAccount(ctx, t.ID, st.AccountID, c); err != nil {
				return err
			}
		case "updated":
			updated = append(updated, st.AccountID)
		}
	}
	if len(updated) == 0 {
		return nil
	}
	c["accounts_updated"] += int64(len(updated))
	if err := s.mayBrowseUsers(ctx, t); err != nil {
		return fmt.Errorf("refresh updated accounts: %w", err)
	}
	for _, ids := range chunk(updated, jira.MaxBulkUsers) {
		found, err := s.Jira.BulkUsers(ctx, t, ids)
		if err != nil {
			return fmt.Errorf("refresh updated accounts: %w", err)
		}
		if unbelievable(len(ids), len(found)) {
			return fmt.Errorf("refresh updated accounts: %w", errUnbelievable(len(ids), len(found)))
		}
		checks := make([]store.UserCheck, 0, len(ids))
		for _, id := range ids {
			u, ok := found[id]
			checks = append(checks, store.UserCheck{AccountID: id, Found: ok, Active: u.Active, DisplayName: u.DisplayName,
				AccountType: u.AccountType, Email: u.EmailAddress, KeepAccess: settings.IsExempt(id)})
		}
		if _, _, err := s.Users.ApplyChecks(ctx, t.ID, checks, s.now()); err != nil {
			return err
		}
	}
	return nil
}

// closeAccount revokes what a closed account owns and erases its personal
// data, with an audit record of the erasure.
func (s *Service) closeAccount(ctx context.Context, tenantID, accountID string, c Counts) error {
	revoked, err := s.Revoker.RevokeOwner(ctx, tenantID, accountID, credentials.Revocation{
		Actor: credentials.ActorSystem, Reason: ReasonClosed, Action: ActionOffboard,
		Details: map[string]any{"source": "personal-data-reporting"},
	})
	if err != nil {
		return err
	}
	now := s.now()
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Users.ErasePersonalData(ctx, tenantID, accountID, now); err != nil {
			return err
		}
		details, _ := json.Marshal(map[string]any{"revoked": len(revoked)})
		return s.Audit.Record(ctx, models.AuditEvent{TenantID: tenantID, At: now, Actor: credentials.ActorSystem,
			Action: "user.personal_data_erased", TargetType: "user", TargetID: accountID, Reason: ReasonClosed, Details: string(details)})
	})
	if err != nil {
		return err
	}
	c["accounts_closed"]++
	c["revoked"] += int64(len(revoked))
	return nil
}

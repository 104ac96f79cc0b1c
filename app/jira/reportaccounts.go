package jira

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/models"
)

// MaxReportAccounts is the most accounts one personal data report carries.
const MaxReportAccounts = 90

// DefaultReportCycle is how often accounts are reported when Atlassian
// names no Cycle-Period.
const DefaultReportCycle = 7 * 24 * time.Hour

// ReportedAccount is one account in a personal data report.
type ReportedAccount struct {
	AccountID string    `json:"accountId"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// AccountStatus is Atlassian's answer about one reported account: "closed"
// (erase its personal data) or "updated" (refresh it).
type AccountStatus struct {
	AccountID string `json:"accountId"`
	Status    string `json:"status"`
}

// ReportResult is the answer to one report: the accounts that need action
// (none on 204) and the cycle Atlassian asks for (0 when it named none).
type ReportResult struct {
	Accounts []AccountStatus
	Cycle    time.Duration
}

// ReportAccounts calls the Personal Data Reporting API for a tenant: POST
// {baseUrl}/rest/atlassian-connect/latest/report-accounts with a Connect
// JWT, or for Forge sites POST {forgeBase}/app/report-accounts/ with the
// app system token (forgeBase is https://api.atlassian.com in production).
func (c *Client) ReportAccounts(ctx context.Context, t *models.Tenant, forgeBase string, accounts []ReportedAccount) (*ReportResult, error) {
	if len(accounts) == 0 || len(accounts) > MaxReportAccounts {
		return nil, fmt.Errorf("report accounts: %d accounts, want 1 to %d: %w", len(accounts), MaxReportAccounts, models.ErrInvalid)
	}
	body := struct {
		Accounts []ReportedAccount `json:"accounts"`
	}{Accounts: make([]ReportedAccount, len(accounts))}
	for i, a := range accounts {
		body.Accounts[i] = ReportedAccount{AccountID: a.AccountID, UpdatedAt: a.UpdatedAt.UTC().Truncate(time.Millisecond)}
	}
	target, path := t, "/rest/atlassian-connect/latest/report-accounts"
	if t.IsForge() && len(t.ForgeSystemTokenEnc) > 0 {
		// The Forge endpoint is not under the site's apiBaseUrl: aim the
		// same authenticated call at the platform's API host.
		cp := *t
		cp.APIBaseURL = strings.TrimRight(forgeBase, "/")
		target, path = &cp, "/app/report-accounts/"
	}
	resp, err := c.Do(ctx, target, http.MethodPost, path, nil, body)
	if err != nil {
		return nil, err
	}
	out := &ReportResult{Cycle: parseCycle(resp.Header.Get("Cycle-Period"))}
	if resp.Status == http.StatusNoContent || len(strings.TrimSpace(string(resp.Body))) == 0 {
		return out, nil
	}
	var answer struct {
		Accounts []AccountStatus `json:"accounts"`
	}
	if err := json.Unmarshal(resp.Body, &answer); err != nil {
		return nil, fmt.Errorf("decode report-accounts answer: %w", err)
	}
	out.Accounts = answer.Accounts
	return out, nil
}

// parseCycle reads a Cycle-Period header: seconds, or a Go duration such
// as "168h". Anything else, or less than a minute, means no preference.
func parseCycle(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		d = time.Duration(n) * time.Second
	} else if pd, err := time.ParseDuration(v); err == nil {
		d = pd
	}
	if d < time.Minute || d > 365*24*time.Hour {
		return 0
	}
	return d
}

package config

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// validateOffboarding checks the job schedules (five-field cron in UTC,
// a descriptor such as @daily, or "off"), the webhook worker settings and
// the Atlassian API base.
func (c *Config) validateOffboarding() []error {
	var errs []error
	for name, v := range map[string]string{
		"KEYWARD_RECONCILE_SCHEDULE":     c.ReconcileSchedule,
		"KEYWARD_PDR_SCHEDULE":           c.PDRSchedule,
		"KEYWARD_WEEKLY_REPORT_SCHEDULE": c.WeeklyReportSchedule,
	} {
		if strings.EqualFold(v, "off") {
			continue
		}
		if _, err := cron.ParseStandard(v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %q is not a cron schedule like \"*/15 * * * *\" or \"off\": %w", name, v, err))
		}
	}
	if c.WebhookPoll < 10*time.Millisecond || c.WebhookPoll > time.Minute {
		errs = append(errs, fmt.Errorf("KEYWARD_WEBHOOK_POLL: %s must be from 10ms to 1m", c.WebhookPoll))
	}
	if u, err := url.Parse(c.AtlassianAPIURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		errs = append(errs, fmt.Errorf("KEYWARD_ATLASSIAN_API_URL: %q is not an absolute http(s) URL", c.AtlassianAPIURL))
	}
	return errs
}

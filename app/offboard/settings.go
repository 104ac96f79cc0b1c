package offboard

import (
	"context"
	"encoding/json"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/keyward/keyward/models"
)

// SettingsInput changes a site's offboarding rules; nil fields keep their
// value.
type SettingsInput struct {
	AutoRevoke          *bool
	GraceSeconds        *int
	ExemptAccountIDs    []string // nil: unchanged; empty: nobody exempt
	StaleAfterDays      *int
	RevokeStale         *bool
	ReportWebhookURL    *string // "" turns delivery off
	ReportWebhookSecret *string // write-only; "" removes it
}

// Limits of the settings.
const (
	MaxGraceSeconds   = 30 * 24 * 3600
	MaxExemptAccounts = 1000
	MaxStaleDays      = 3650
)

// GetSettings returns a site's offboarding rules (defaults until saved).
func (s *Service) GetSettings(ctx context.Context, tenantID string) (*models.OffboardingSettings, error) {
	return s.Deps.Settings.Get(ctx, tenantID)
}

// UpdateSettings validates and saves a site's rules, with an audit record
// in the same transaction. The webhook secret is stored sealed and never
// returned.
func (s *Service) UpdateSettings(ctx context.Context, tenantID, actor string, in SettingsInput) (*models.OffboardingSettings, error) {
	var out *models.OffboardingSettings
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		cur, err := s.Deps.Settings.Get(ctx, tenantID)
		if err != nil {
			return err
		}
		next := *cur
		changed := map[string]any{}
		if err := applySettings(&next, in, changed, s.opts.AllowPrivateWebhooks); err != nil {
			return err
		}
		if in.ReportWebhookSecret != nil {
			changed["reportWebhookSecret"] = "changed"
			next.ReportWebhookSecretEnc = nil
			if *in.ReportWebhookSecret != "" {
				sealed, err := s.Sealer.Seal([]byte(*in.ReportWebhookSecret), secretContext(tenantID))
				if err != nil {
					return err
				}
				next.ReportWebhookSecretEnc = sealed
			}
		}
		if next.ReportWebhookURL != "" && len(next.ReportWebhookSecretEnc) == 0 {
			return models.Invalid("reportWebhookSecret", "required when a report webhook URL is set")
		}
		next.UpdatedAt, next.UpdatedBy = s.now(), actor
		if err := s.Deps.Settings.Save(ctx, &next); err != nil {
			return err
		}
		details, _ := json.Marshal(changed)
		out = &next
		return s.Audit.Record(ctx, models.AuditEvent{
			TenantID: tenantID, At: next.UpdatedAt, Actor: actor, Action: "settings.offboarding.update",
			TargetType: "settings", TargetID: "offboarding", Details: string(details),
		})
	})
	return out, err
}

func applySettings(next *models.OffboardingSettings, in SettingsInput, changed map[string]any, allowPrivate bool) error {
	v := &models.ValidationError{}
	if in.AutoRevoke != nil {
		next.AutoRevoke, changed["autoRevoke"] = *in.AutoRevoke, *in.AutoRevoke
	}
	if in.GraceSeconds != nil {
		if *in.GraceSeconds < 0 || *in.GraceSeconds > MaxGraceSeconds {
			v.Add("gracePeriodSeconds", "must be from 0 to 2592000 (30 days)")
		}
		next.GraceSeconds, changed["gracePeriodSeconds"] = *in.GraceSeconds, *in.GraceSeconds
	}
	if in.ExemptAccountIDs != nil {
		ids := make([]string, 0, len(in.ExemptAccountIDs))
		for _, id := range in.ExemptAccountIDs {
			id = strings.TrimSpace(id)
			if id == "" || len(id) > 128 || !utf8.ValidString(id) || strings.ContainsAny(id, "\x00\r\n\t ") {
				v.Add("exemptAccountIds", "each entry must be an accountId")
				break
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
		if len(ids) > MaxExemptAccounts {
			v.Add("exemptAccountIds", "at most 1000 accounts")
		}
		next.ExemptAccountIDs, changed["exemptAccountIds"] = ids, ids
	}
	if in.StaleAfterDays != nil {
		if *in.StaleAfterDays < 0 || *in.StaleAfterDays > MaxStaleDays {
			v.Add("staleAfterDays", "must be from 0 (off) to 3650")
		}
		next.StaleAfterDays, changed["staleAfterDays"] = *in.StaleAfterDays, *in.StaleAfterDays
	}
	if in.RevokeStale != nil {
		next.RevokeStale, changed["revokeStale"] = *in.RevokeStale, *in.RevokeStale
	}
	if in.ReportWebhookURL != nil {
		u := strings.TrimSpace(*in.ReportWebhookURL)
		if u != "" {
			p, err := url.Parse(u)
			switch {
			case err != nil || p.Scheme != "https" || p.Host == "" || p.User != nil || len(u) > 2000:
				v.Add("reportWebhookUrl", "must be an absolute https URL without credentials")
			case !allowPrivate && !publicHost(p.Hostname()):
				v.Add("reportWebhookUrl", "must point at a public host, not this machine or a private network")
			}
		}
		next.ReportWebhookURL, changed["reportWebhookUrl"] = u, u
	}
	if in.ReportWebhookSecret != nil && *in.ReportWebhookSecret != "" {
		if n := len(*in.ReportWebhookSecret); n < 16 || n > 1024 {
			v.Add("reportWebhookSecret", "must be 16 to 1024 characters")
		}
	}
	if next.RevokeStale && next.StaleAfterDays == 0 {
		v.Add("revokeStale", "needs staleAfterDays above 0")
	}
	return v.Err()
}

func secretContext(tenantID string) string { return "tenant/" + tenantID + "/report_webhook_secret" }

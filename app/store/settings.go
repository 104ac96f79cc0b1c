package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/keyward/keyward/models"
)

// OffboardingSettings stores each site's offboarding rules.
type OffboardingSettings struct{ db *DB }

// NewOffboardingSettings returns the settings store.
func NewOffboardingSettings(db *DB) *OffboardingSettings { return &OffboardingSettings{db: db} }

type settingsRow struct {
	TenantID               string
	AutoRevoke             bool
	GraceSeconds           int
	ExemptAccountIDs       string `gorm:"column:exempt_account_ids"`
	StaleAfterDays         int
	RevokeStale            bool
	ReportWebhookURL       string `gorm:"column:report_webhook_url"`
	ReportWebhookSecretEnc []byte
	PDRNextAt              *time.Time `gorm:"column:pdr_next_at"`
	PDRCycleSeconds        int        `gorm:"column:pdr_cycle_seconds"`
	UpdatedAt              time.Time
	UpdatedBy              string
}

// DefaultOffboardingSettings are the rules of a site that saved none:
// auto-revoke on, no grace period, nobody exempt, stale after 90 days
// (listed, not revoked).
func DefaultOffboardingSettings(tenantID string) *models.OffboardingSettings {
	return &models.OffboardingSettings{TenantID: tenantID, AutoRevoke: true, StaleAfterDays: 90, ExemptAccountIDs: []string{}}
}

// Get returns the tenant's settings, or the defaults when it saved none.
func (s *OffboardingSettings) Get(ctx context.Context, tenantID string) (*models.OffboardingSettings, error) {
	var r settingsRow
	err := s.db.conn(ctx).Table("offboarding_settings").Where("tenant_id = ?", tenantID).Take(&r).Error
	if err != nil {
		err = translate(err, "get offboarding settings")
		if errors.Is(err, errNotFound) {
			return DefaultOffboardingSettings(tenantID), nil
		}
		return nil, err
	}
	out := &models.OffboardingSettings{
		TenantID: r.TenantID, AutoRevoke: r.AutoRevoke, GraceSeconds: r.GraceSeconds, StaleAfterDays: r.StaleAfterDays,
		RevokeStale: r.RevokeStale, ReportWebhookURL: r.ReportWebhookURL, ReportWebhookSecretEnc: r.ReportWebhookSecretEnc,
		PDRNextAt: r.PDRNextAt, PDRCycleSeconds: r.PDRCycleSeconds, UpdatedAt: r.UpdatedAt, UpdatedBy: r.UpdatedBy,
	}
	if err := json.Unmarshal([]byte(r.ExemptAccountIDs), &out.ExemptAccountIDs); err != nil || out.ExemptAccountIDs == nil {
		out.ExemptAccountIDs = []string{}
	}
	return out, nil
}

// Save writes the tenant's rules (not the personal data reporting
// schedule, which SetPDRSchedule owns).
func (s *OffboardingSettings) Save(ctx context.Context, st *models.OffboardingSettings) error {
	exempt, err := json.Marshal(st.ExemptAccountIDs)
	if err != nil {
		return err
	}
	if st.ExemptAccountIDs == nil {
		exempt = []byte("[]")
	}
	err = s.db.conn(ctx).Exec(`INSERT INTO offboarding_settings (tenant_id, auto_revoke, grace_seconds, exempt_account_ids,
		stale_after_days, revoke_stale, report_webhook_url, report_webhook_secret_enc, updated_at, updated_by)
		VALUES (?,?,?,?,?,?,?,?,?,?)
		ON CONFLICT (tenant_id) DO UPDATE SET auto_revoke = excluded.auto_revoke, grace_seconds = excluded.grace_seconds,
		exempt_account_ids = excluded.exempt_account_ids, stale_after_days = excluded.stale_after_days,
		revoke_stale = excluded.revoke_stale, report_webhook_url = excluded.report_webhook_url,
		report_webhook_secret_enc = excluded.report_webhook_secret_enc, updated_at = excluded.updated_at,
		updated_by = excluded.updated_by`,
		st.TenantID, st.AutoRevoke, st.GraceSeconds, string(exempt), st.StaleAfterDays, st.RevokeStale,
		st.ReportWebhookURL, st.ReportWebhookSecretEnc, st.UpdatedAt.UTC(), st.UpdatedBy).Error
	return translate(err, "save offboarding settings")
}

// SetPDRSchedule records when the tenant's accounts are next due for
// personal data reporting and the cycle Atlassian asked for.
func (s *OffboardingSettings) SetPDRSchedule(ctx context.Context, tenantID string, next time.Time, cycleSeconds int) error {
	d := DefaultOffboardingSettings(tenantID)
	err := s.db.conn(ctx).Exec(`INSERT INTO offboarding_settings (tenant_id, auto_revoke, stale_after_days, pdr_next_at, pdr_cycle_seconds, updated_at)
		VALUES (?,?,?,?,?,?)
		ON CONFLICT (tenant_id) DO UPDATE SET pdr_next_at = excluded.pdr_next_at, pdr_cycle_seconds = excluded.pdr_cycle_seconds`,
		tenantID, d.AutoRevoke, d.StaleAfterDays, next.UTC(), cycleSeconds, time.Now().UTC()).Error
	return translate(err, "set personal data reporting schedule")
}

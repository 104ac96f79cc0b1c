package store

import (
	"context"
	"time"

	"github.com/keyward/keyward/models"
)

// Reports stores reconciliation reports and weekly summaries with their
// items, and answers the credential queries reports are made of.
type Reports struct{ db *DB }

// NewReports returns the report store.
func NewReports(db *DB) *Reports { return &Reports{db: db} }

// Create inserts a report and sets its id.
func (s *Reports) Create(ctx context.Context, r *models.Report) error {
	if r.Summary == "" {
		r.Summary = "{}"
	}
	return translate(s.db.conn(ctx).Table("reports").Omit("id").Create(r).Error, "create report")
}

// Finish writes a report's outcome and counters.
func (s *Reports) Finish(ctx context.Context, r *models.Report) error {
	res := s.db.conn(ctx).Table("reports").Where("tenant_id = ? AND id = ?", r.TenantID, r.ID).
		Select("status", "finished_at", "duration_ms", "owners_checked", "revoked", "stale", "expired", "errors", "error", "summary").
		Updates(r)
	if res.Error == nil && res.RowsAffected == 0 {
		return translate(errNotFound, "finish report")
	}
	return translate(res.Error, "finish report")
}

var reportItemColumns = []string{"report_id", "tenant_id", "kind", "credential_id", "owner_account_id", "reason", "detail", "at"}

// AddItems appends items to reports with multi-row inserts.
func (s *Reports) AddItems(ctx context.Context, items []models.ReportItem) error {
	if len(items) == 0 {
		return nil
	}
	return translate(s.db.insertRows(ctx, "report_items", reportItemColumns, len(items), func(i int) []any {
		it := &items[i]
		var at any
		if it.At != nil {
			at = it.At.UTC()
		}
		return []any{it.ReportID, it.TenantID, it.Kind, it.CredentialID, it.OwnerAccountID, it.Reason, it.Detail, at}
	}), "add report items")
}

// SetDelivery records the outcome of delivering a report to the site's
// webhook.
func (s *Reports) SetDelivery(ctx context.Context, tenantID string, id int64, at *time.Time, errMsg string) error {
	var when any
	if at != nil {
		when = at.UTC()
	}
	err := s.db.conn(ctx).Table("reports").Where("tenant_id = ? AND id = ?", tenantID, id).
		Updates(map[string]any{"delivered_at": when, "delivery_error": errMsg}).Error
	return translate(err, "record report delivery")
}

// Get returns a report of the tenant.
func (s *Reports) Get(ctx context.Context, tenantID string, id int64) (*models.Report, error) {
	var r models.Report
	if err := s.db.conn(ctx).Table("reports").Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error; err != nil {
		return nil, translate(err, "get report")
	}
	return &r, nil
}

// List returns the tenant's reports of a kind (any when empty), newest
// first, before the id cursor when it is positive.
func (s *Reports) List(ctx context.Context, tenantID, kind string, before int64, limit int) ([]models.Report, error) {
	q := s.db.conn(ctx).Table("reports").Where("tenant_id = ?", tenantID)
	if kind != "" {
		q = q.Where("kind = ?", kind)
	}
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var out []models.Report
	err := q.Order("id DESC").Limit(limit).Find(&out).Error
	return out, translate(err, "list reports")
}

// Since returns the tenant's reports of a kind started at or after t.
func (s *Reports) Since(ctx context.Context, tenantID, kind string, t time.Time) ([]models.Report, error) {
	var out []models.Report
	err := s.db.conn(ctx).Table("reports").Where("tenant_id = ? AND kind = ? AND started_at >= ?", tenantID, kind, t.UTC()).
		Order("id").Find(&out).Error
	return out, translate(err, "list reports since")
}

// Items pages through a report's items of the tenant in order, after the
// item id cursor.
func (s *Reports) Items(ctx context.Context, tenantID string, reportID, after int64, limit int) ([]models.ReportItem, error) {
	var out []models.ReportItem
	err := s.db.conn(ctx).Table("report_items").Where("tenant_id = ? AND report_id = ? AND id > ?", tenantID, reportID, after).
		Order("id").Limit(limit).Find(&out).Error
	return out, translate(err, "list report items")
}

// ExpiredCredentials counts the tenant's credentials that expired without
// being revoked and returns up to limit of them, oldest expiry first.
func (s *Reports) ExpiredCredentials(ctx context.Context, tenantID string, now time.Time, limit int) ([]models.Credential, int, error) {
	where := "tenant_id = ? AND revoked_at IS NULL AND expires_at IS NOT NULL AND expires_at <= ?"
	return s.credentials(ctx, "list expired credentials", where, "expires_at, id", limit, tenantID, now.UTC())
}

// StaleCredentials counts the tenant's live credentials unused since
// before (or never used and created before it) and returns up to limit of
// them, least recently used first.
func (s *Reports) StaleCredentials(ctx context.Context, tenantID string, now, before time.Time, limit int) ([]models.Credential, int, error) {
	where := "tenant_id = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) AND COALESCE(last_used_at, created_at) < ?"
	return s.credentials(ctx, "list stale credentials", where, "COALESCE(last_used_at, created_at), id", limit, tenantID, now.UTC(), before.UTC())
}

func (s *Reports) credentials(ctx context.Context, what, where, order string, limit int, args ...any) ([]models.Credential, int, error) {
	var n int64
	if err := s.db.conn(ctx).Table("credentials").Where(where, args...).Count(&n).Error; err != nil {
		return nil, 0, translate(err, what)
	}
	var out []models.Credential
	if n > 0 && limit > 0 {
		if err := s.db.conn(ctx).Table("credentials").Where(where, args...).Order(order).Limit(limit).Find(&out).Error; err != nil {
			return nil, 0, translate(err, what)
		}
	}
	return out, int(n), nil
}

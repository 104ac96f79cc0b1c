package store

import (
	"context"
	"strings"
	"time"

	"github.com/keyward/keyward/models"
)

// AccessLog stores verification records.
type AccessLog struct{ db *DB }

// NewAccessLog returns the access log store.
func NewAccessLog(db *DB) *AccessLog { return &AccessLog{db: db} }

var accessLogColumns = []string{"tenant_id", "at", "credential_id", "credential_kind", "owner_account_id", "method", "path", "decision", "reason", "ip", "user_agent"}

func accessLogRow(e *models.AccessLogEntry) []any {
	return []any{e.TenantID, e.At.UTC(), e.CredentialID, string(e.CredentialKind), e.OwnerAccountID, e.Method, e.Path, string(e.Decision), e.Reason, e.IP, e.UserAgent}
}

// Append writes a batch of records: COPY on PostgreSQL, multi-row inserts in
// one transaction on SQLite.
func (s *AccessLog) Append(ctx context.Context, entries []models.AccessLogEntry) error {
	if len(entries) == 0 {
		return nil
	}
	if s.db.IsPostgres() {
		return translate(s.db.copyRows(ctx, "access_log", accessLogColumns, len(entries), func(i int) []any { return accessLogRow(&entries[i]) }), "append access log")
	}
	return translate(s.db.InTx(ctx, func(ctx context.Context) error {
		return s.db.insertRows(ctx, "access_log", accessLogColumns, len(entries), func(i int) []any { return accessLogRow(&entries[i]) })
	}), "append access log")
}

// AccessLogFilter selects access log records of one tenant.
type AccessLogFilter struct {
	TenantID     string
	CredentialID string
	OwnerID      string
	Decision     string
	PathPrefix   string
	From, To     *time.Time
	BeforeID     int64 // keyset cursor: records with a smaller id
	Limit        int
}

// List returns matching records, newest first.
func (s *AccessLog) List(ctx context.Context, f AccessLogFilter) ([]models.AccessLogEntry, error) {
	q := s.db.conn(ctx).Table("access_log").Where("tenant_id = ?", f.TenantID)
	if f.CredentialID != "" {
		q = q.Where("credential_id = ?", f.CredentialID)
	}
	if f.OwnerID != "" {
		q = q.Where("owner_account_id = ?", f.OwnerID)
	}
	if f.Decision != "" {
		q = q.Where("decision = ?", f.Decision)
	}
	if f.PathPrefix != "" {
		q = q.Where("path LIKE ? ESCAPE '\\'", escapeLike(f.PathPrefix)+"%")
	}
	if f.From != nil {
		q = q.Where("at >= ?", f.From.UTC())
	}
	if f.To != nil {
		q = q.Where("at < ?", f.To.UTC())
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	switch {
	case f.Limit <= 0:
		f.Limit = 100
	case f.Limit > 1000:
		f.Limit = 1000
	}
	var out []models.AccessLogEntry
	err := q.Order("id DESC").Limit(f.Limit).Find(&out).Error
	return out, translate(err, "list access log")
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

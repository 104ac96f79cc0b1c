package store

import (
	"context"

	"github.com/keyward/keyward/models"
)

// Audit stores the audit trail of administrative and system actions.
type Audit struct{ db *DB }

// NewAudit returns the audit store.
func NewAudit(db *DB) *Audit { return &Audit{db: db} }

// Record appends one audit event; pass the ctx of the change's transaction
// so the event commits (or rolls back) with it.
func (s *Audit) Record(ctx context.Context, e models.AuditEvent) error {
	if e.Details == "" {
		e.Details = "{}"
	}
	return translate(s.db.conn(ctx).Table("audit_events").Omit("id").Create(&e).Error, "record audit event")
}

// RecordMany appends several audit events in one statement.
func (s *Audit) RecordMany(ctx context.Context, events []models.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	for i := range events {
		if events[i].Details == "" {
			events[i].Details = "{}"
		}
	}
	return translate(s.db.conn(ctx).Table("audit_events").Omit("id").CreateInBatches(events, 500).Error, "record audit events")
}

// List returns a tenant's newest audit events, before the id cursor when it
// is positive.
func (s *Audit) List(ctx context.Context, tenantID string, before int64, limit int) ([]models.AuditEvent, error) {
	q := s.db.conn(ctx).Table("audit_events").Where("tenant_id = ?", tenantID)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var out []models.AuditEvent
	err := q.Order("id DESC").Limit(limit).Find(&out).Error
	return out, translate(err, "list audit events")
}

package store

import (
	"context"
	"fmt"
	"time"

	"github.com/keyward/keyward/models"
)

// WebhookEvents stores user events from Jira until workers have processed
// them: an inbox with per-tenant deduplication, leases and retries.
type WebhookEvents struct{ db *DB }

// NewWebhookEvents returns the webhook event store.
func NewWebhookEvents(db *DB) *WebhookEvents { return &WebhookEvents{db: db} }

const webhookInsert = `INSERT INTO webhook_events (tenant_id, dedupe_key, source, event_type, account_id, active,
	display_name, account_type, email, event_at, received_at, status, attempts, next_attempt_at)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?)
	ON CONFLICT (tenant_id, dedupe_key) DO NOTHING RETURNING id`

// Insert stores a new event and sets its id. An event whose dedupe key the
// tenant already has is not stored again: duplicate is true and e.ID is the
// stored event's id.
func (s *WebhookEvents) Insert(ctx context.Context, e *models.WebhookEvent) (duplicate bool, err error) {
	var ids []int64
	err = s.db.conn(ctx).Raw(webhookInsert, e.TenantID, e.DedupeKey, e.Source, e.EventType, e.AccountID, e.Active,
		e.DisplayName, e.AccountType, e.Email, e.EventAt.UTC(), e.ReceivedAt.UTC(), e.Status, e.NextAttemptAt.UTC()).Scan(&ids).Error
	if err != nil {
		return false, translate(err, "store webhook event")
	}
	if len(ids) == 1 {
		e.ID = ids[0]
		return false, nil
	}
	err = s.db.conn(ctx).Table("webhook_events").Where("tenant_id = ? AND dedupe_key = ?", e.TenantID, e.DedupeKey).Pluck("id", &ids).Error
	if err != nil || len(ids) == 0 {
		return false, translate(err, "find duplicate webhook event")
	}
	e.ID = ids[0]
	return true, nil
}

// Claim leases up to limit due events to worker until now+lease and counts
// the attempt. Events leased by a worker that died become due again when
// their lease expires. On PostgreSQL concurrent workers skip each other's
// rows (FOR UPDATE SKIP LOCKED); SQLite runs the statement atomically.
func (s *WebhookEvents) Claim(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]models.WebhookEvent, error) {
	now = now.UTC()
	lock := ""
	if s.db.IsPostgres() {
		lock = " FOR UPDATE SKIP LOCKED"
	}
	q := `UPDATE webhook_events SET claimed_until = ?, claimed_by = ?, attempts = attempts + 1
		WHERE id IN (SELECT id FROM webhook_events WHERE status = 'pending' AND next_attempt_at <= ?
			AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_attempt_at, id LIMIT ?` + lock + `)
		RETURNING *`
	var out []models.WebhookEvent
	err := s.db.conn(ctx).Raw(q, now.Add(lease), worker, now, now, limit).Scan(&out).Error
	return out, translate(err, "claim webhook events")
}

// Finish marks an event processed with what it did.
func (s *WebhookEvents) Finish(ctx context.Context, tenantID string, id int64, outcome string, at time.Time) error {
	return s.set(ctx, tenantID, id, "finish webhook event", map[string]any{
		"status": models.EventDone, "outcome": outcome, "processed_at": at.UTC(), "claimed_until": nil, "last_error": "",
	})
}

// Retry releases a failed event for another attempt at next.
func (s *WebhookEvents) Retry(ctx context.Context, tenantID string, id int64, next time.Time, reason string) error {
	return s.set(ctx, tenantID, id, "retry webhook event", map[string]any{
		"status": models.EventPending, "next_attempt_at": next.UTC(), "claimed_until": nil, "last_error": reason,
	})
}

// Defer puts an event back without counting the attempt, to be processed
// at next (a grace period).
func (s *WebhookEvents) Defer(ctx context.Context, tenantID string, id int64, next time.Time, note string) error {
	err := s.db.conn(ctx).Exec(`UPDATE webhook_events SET attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
		next_attempt_at = ?, claimed_until = NULL, outcome = ? WHERE tenant_id = ? AND id = ?`, next.UTC(), note, tenantID, id).Error
	return translate(err, "defer webhook event")
}

// Park stops retrying an event; an admin can see the reason and retry it.
func (s *WebhookEvents) Park(ctx context.Context, tenantID string, id int64, reason string) error {
	return s.set(ctx, tenantID, id, "park webhook event", map[string]any{"status": models.EventParked, "claimed_until": nil, "last_error": reason})
}

func (s *WebhookEvents) set(ctx context.Context, tenantID string, id int64, what string, fields map[string]any) error {
	res := s.db.conn(ctx).Table("webhook_events").Where("tenant_id = ? AND id = ?", tenantID, id).Updates(fields)
	if res.Error == nil && res.RowsAffected == 0 {
		return translate(errNotFound, what)
	}
	return translate(res.Error, what)
}

// Get returns an event of the tenant.
func (s *WebhookEvents) Get(ctx context.Context, tenantID string, id int64) (*models.WebhookEvent, error) {
	var e models.WebhookEvent
	if err := s.db.conn(ctx).Table("webhook_events").Where("tenant_id = ? AND id = ?", tenantID, id).Take(&e).Error; err != nil {
		return nil, translate(err, "get webhook event")
	}
	return &e, nil
}

// List returns the tenant's events with a status (any when empty), newest
// first, before the id cursor when it is positive.
func (s *WebhookEvents) List(ctx context.Context, tenantID string, status models.WebhookEventStatus, before int64, limit int) ([]models.WebhookEvent, error) {
	q := s.db.conn(ctx).Table("webhook_events").Where("tenant_id = ?", tenantID)
	if status != "" {
		q = q.Where("status = ?", status)
	}
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	var out []models.WebhookEvent
	err := q.Order("id DESC").Limit(limit).Find(&out).Error
	return out, translate(err, "list webhook events")
}

// Requeue makes a parked event of the tenant due now with fresh attempts.
// An event that is not parked gives models.ErrConflict.
func (s *WebhookEvents) Requeue(ctx context.Context, tenantID string, id int64, now time.Time) error {
	res := s.db.conn(ctx).Table("webhook_events").Where("tenant_id = ? AND id = ? AND status = ?", tenantID, id, models.EventParked).
		Updates(map[string]any{"status": models.EventPending, "attempts": 0, "next_attempt_at": now.UTC(), "claimed_until": nil})
	if res.Error != nil {
		return translate(res.Error, "requeue webhook event")
	}
	if res.RowsAffected == 0 {
		if _, err := s.Get(ctx, tenantID, id); err != nil {
			return err
		}
		return fmt.Errorf("requeue webhook event %d: not parked: %w", id, errConflict)
	}
	return nil
}

// CountByStatus counts the tenant's events per status.
func (s *WebhookEvents) CountByStatus(ctx context.Context, tenantID string) (map[models.WebhookEventStatus]int, error) {
	var rows []struct {
		Status models.WebhookEventStatus
		N      int
	}
	err := s.db.conn(ctx).Table("webhook_events").Select("status, COUNT(*) AS n").Where("tenant_id = ?", tenantID).Group("status").Scan(&rows).Error
	out := map[models.WebhookEventStatus]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out, translate(err, "count webhook events")
}

package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/keyward/keyward/models"
)

// WebhookEvents stores user events from Jira until workers have processed
// them: an inbox with per-tenant deduplication, leases and retries.
type WebhookEvents struct{ db *DB }

// NewWebhookEvents returns the webhook event store.
func NewWebhookEvents(db *DB) *WebhookEvents { return &WebhookEvents{db: db} }

// EventSkew is how far past its receipt an event's own timestamp may lie
// (the sender's clock may run a little ahead); a later timestamp counts as
// the receipt time. A user state stored with a time later than now plus
// EventSkew is not taken as newer than later events and checks (see
// Users.ApplyEvent).
const EventSkew = 5 * time.Minute

// MinEventTime bounds event timestamps from below: one at or before it (the
// Unix epoch: zero, negative or pre-1970 values) counts as the receipt time.
// An old but valid timestamp only makes its event lose against newer
// states, so it is kept as sent.
var MinEventTime = time.Unix(0, 0).UTC()

// EventTime is the time an event received at received counts as happening
// at: its own timestamp at, unless that is at or before MinEventTime or
// later than received plus EventSkew, when it is received. So no event can
// claim to be newer than what keyward learns later, and every stored time
// reads back on both engines. A zero received means now.
func EventTime(at, received time.Time) time.Time {
	if received.IsZero() {
		received = time.Now().UTC()
	}
	if !at.After(MinEventTime) || at.After(received.Add(EventSkew)) {
		return received.UTC()
	}
	return at.UTC()
}

const webhookInsert = `INSERT INTO webhook_events (tenant_id, dedupe_key, source, event_type, account_id, active,
	display_name, account_type, email, event_at, received_at, status, attempts, next_attempt_at)
	VALUES (?,?,?,?,?,?,?,?,?,?,?,?,0,?)
	ON CONFLICT (tenant_id, dedupe_key) DO NOTHING RETURNING id`

// Insert stores a new event and sets its id. Its EventAt is first bounded
// by EventTime (a zero ReceivedAt becomes now). An event whose dedupe key
// the tenant already has is not stored again: duplicate is true and e.ID is
// the stored event's id.
func (s *WebhookEvents) Insert(ctx context.Context, e *models.WebhookEvent) (duplicate bool, err error) {
	if e.ReceivedAt.IsZero() {
		e.ReceivedAt = time.Now().UTC()
	}
	e.EventAt = EventTime(e.EventAt, e.ReceivedAt)
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
// Each event's EventAt is bounded by EventTime; a stored event_at the
// driver cannot read (a time past year 9999 written before EventTime
// bounded inserts) or out of bounds counts as the receipt time rather than
// failing the batch, and the row is repaired (best effort: a failed repair
// is tried again at the next claim of the event).
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
	var rows []eventRow
	if err := s.db.conn(ctx).Raw(q, now.Add(lease), worker, now, now, limit).Scan(&rows).Error; err != nil {
		return nil, translate(err, "claim webhook events")
	}
	out := make([]models.WebhookEvent, len(rows))
	for i := range rows {
		out[i] = rows[i].event()
		if !rows[i].EventAt.Valid || !rows[i].EventAt.Time.Equal(out[i].EventAt) {
			// The event in hand is right already; the row follows.
			_ = s.repairEventAt(ctx, &out[i])
		}
	}
	return out, nil
}

// repairEventAt stores the bounded EventAt of an event whose stored one was
// unreadable or out of range.
func (s *WebhookEvents) repairEventAt(ctx context.Context, e *models.WebhookEvent) error {
	err := s.db.conn(ctx).Exec("UPDATE webhook_events SET event_at = ? WHERE tenant_id = ? AND id = ?", e.EventAt, e.TenantID, e.ID).Error
	return translate(err, "repair webhook event time")
}

// eventRow is a stored event as read back: event_at, the one time that
// comes from outside, is read leniently so that one bad value cannot fail a
// whole batch.
type eventRow struct {
	models.WebhookEvent
	EventAt looseTime `gorm:"column:event_at"`
}

// event returns the model with EventAt bounded by EventTime (an unreadable
// one is the receipt time).
func (r *eventRow) event() models.WebhookEvent {
	e := r.WebhookEvent
	e.EventAt = EventTime(r.EventAt.Time, e.ReceivedAt)
	return e
}

func events(rows []eventRow) []models.WebhookEvent {
	out := make([]models.WebhookEvent, len(rows))
	for i := range rows {
		out[i] = rows[i].event()
	}
	return out
}

// looseTime reads a time column without failing on a value the driver
// returns as text it could not parse (SQLite keeps times as text, and a
// year past 9999 does not read back): Valid is false then, as for NULL, and
// Unreadable tells it from NULL.
type looseTime struct {
	Time       time.Time
	Valid      bool
	Unreadable bool
}

// Scan implements sql.Scanner.
func (t *looseTime) Scan(src any) error {
	*t = looseTime{}
	switch v := src.(type) {
	case nil:
	case time.Time:
		*t = looseTime{Time: v.UTC(), Valid: true}
	case string:
		t.parse(v)
	case []byte:
		t.parse(string(v))
	default:
		t.Unreadable = true
	}
	return nil
}

func (t *looseTime) parse(s string) {
	for _, f := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if v, err := time.Parse(f, s); err == nil {
			*t = looseTime{Time: v.UTC(), Valid: true}
			return
		}
	}
	t.Unreadable = true
}

// Value implements driver.Valuer.
func (t looseTime) Value() (driver.Value, error) {
	if !t.Valid {
		return nil, nil
	}
	return t.Time, nil
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
	var r eventRow
	if err := s.db.conn(ctx).Table("webhook_events").Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error; err != nil {
		return nil, translate(err, "get webhook event")
	}
	e := r.event()
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
	var rows []eventRow
	err := q.Order("id DESC").Limit(limit).Find(&rows).Error
	return events(rows), translate(err, "list webhook events")
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

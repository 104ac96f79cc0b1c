package offboard

import (
	"context"
	"strconv"

	"github.com/keyward/keyward/models"
)

// ListEvents returns a site's user events with a status (any when empty),
// newest first; parked events carry the reason in LastError.
func (s *Service) ListEvents(ctx context.Context, tenantID string, status models.WebhookEventStatus, before int64, limit int) ([]models.WebhookEvent, error) {
	switch status {
	case "", models.EventPending, models.EventDone, models.EventParked:
	default:
		return nil, models.Invalid("status", "must be pending, done or parked")
	}
	return s.Events.List(ctx, tenantID, status, before, limit)
}

// RetryEvent makes a parked event of the site due again, with an audit
// record in the same transaction, and wakes the workers.
func (s *Service) RetryEvent(ctx context.Context, tenantID, actor string, id int64) (*models.WebhookEvent, error) {
	var out *models.WebhookEvent
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		now := s.now()
		if err := s.Events.Requeue(ctx, tenantID, id, now); err != nil {
			return err
		}
		ev, err := s.Events.Get(ctx, tenantID, id)
		if err != nil {
			return err
		}
		out = ev
		return s.Audit.Record(ctx, models.AuditEvent{TenantID: tenantID, At: now, Actor: actor, Action: "webhook_event.retry",
			TargetType: "webhook_event", TargetID: strconv.FormatInt(id, 10), Reason: ev.LastError})
	})
	if err != nil {
		return nil, err
	}
	s.Wake()
	return out, nil
}

package offboard

import (
	"context"
	"strings"

	"github.com/keyward/keyward/models"
)

// Event sources.
const (
	SourceConnect = "connect"
	SourceForge   = "forge"
)

// Delivery is one verified user event as it arrived.
type Delivery struct {
	TenantID   string
	Source     string // SourceConnect or SourceForge
	Identifier string // X-Atlassian-Webhook-Identifier (Connect); empty for Forge
	Body       []byte
}

// Ingest parses a delivery and stores it for the workers; it never
// processes it inline, so Jira gets its answer at once. A malformed body is
// refused (models.ErrInvalid) and nothing is stored. A delivery whose
// dedupe key the site already has is reported as a duplicate and has no
// further effect.
func (s *Service) Ingest(ctx context.Context, d Delivery) (ev *models.WebhookEvent, duplicate bool, err error) {
	var ue *UserEvent
	if d.Source == SourceForge {
		ue, err = ParseForgeEvent(d.Body)
	} else {
		ue, err = ParseConnectEvent(d.Body)
	}
	if err != nil {
		return nil, false, err
	}
	now := s.now()
	ev = &models.WebhookEvent{
		TenantID: d.TenantID, Source: d.Source, DedupeKey: dedupeKey(d, ue), EventType: ue.Type,
		AccountID: ue.AccountID, Active: ue.Active, DisplayName: ue.DisplayName, AccountType: ue.AccountType, Email: ue.Email,
		EventAt: ue.At, ReceivedAt: now, Status: models.EventPending, NextAttemptAt: now,
	}
	if ev.EventAt.IsZero() {
		ev.EventAt = now
	}
	duplicate, err = s.Events.Insert(ctx, ev)
	if err != nil {
		return nil, false, err
	}
	if !duplicate {
		s.Wake()
	}
	return ev, duplicate, nil
}

// dedupeKey is Jira's webhook identifier, else the Forge event's own id,
// else a hash of the body.
func dedupeKey(d Delivery, ue *UserEvent) string {
	if id := strings.TrimSpace(d.Identifier); id != "" && len(id) <= 200 {
		return "id:" + id
	}
	if ue.ID != "" {
		return "forge:" + ue.ID
	}
	return BodyKey(d.Body)
}

// Wake tells this process's workers that an event is due.
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

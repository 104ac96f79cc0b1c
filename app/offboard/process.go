package offboard

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// Process applies one stored event: it records what the event says about
// the user and, when the user is deleted or inactive, revokes everything
// they own (unless the site exempts them or turned auto-revoke off). A
// deactivation inside the site's grace period returns a time to process it
// again; until then the user's credentials are refused as owner_inactive
// and a reactivation makes them work again. Processing is idempotent and
// order-independent: revocation is never undone, deletion sticks, and an
// event older than the last one applied does not change the user's state.
// The event's time is bounded by its receipt (store.EventTime), so an event
// stored with a far-future timestamp cannot pin the state.
func (s *Service) Process(ctx context.Context, ev *models.WebhookEvent) (outcome string, again time.Time, err error) {
	settings, err := s.Settings.Get(ctx, ev.TenantID)
	if err != nil {
		return "", time.Time{}, err
	}
	exempt := settings.IsExempt(ev.AccountID)
	deleted := ev.EventType == models.UserDeleted
	st := store.UserState{DisplayName: ev.DisplayName, AccountType: ev.AccountType, Email: ev.Email, At: store.EventTime(ev.EventAt, ev.ReceivedAt)}
	if !exempt {
		st.Active, st.Deleted = ev.Active, deleted
	}
	if _, err := s.Users.ApplyEvent(ctx, ev.TenantID, ev.AccountID, st); err != nil {
		return "", time.Time{}, err
	}
	if !deleted && (ev.Active == nil || *ev.Active) {
		return "user active: nothing to revoke", time.Time{}, nil
	}
	reason := ReasonDeactivated
	if deleted {
		reason = ReasonDeleted
	}
	switch {
	case exempt:
		return "exempt: not revoked", time.Time{}, s.recordSkip(ctx, ev, reason, "exempt")
	case !settings.AutoRevoke:
		return "auto-revoke off: not revoked", time.Time{}, s.recordSkip(ctx, ev, reason, "auto_revoke_off")
	}
	if !deleted && settings.GraceSeconds > 0 {
		due, wait, err := s.graceDue(ctx, ev.TenantID, ev.AccountID, time.Duration(settings.GraceSeconds)*time.Second)
		if err != nil || wait {
			return "suspended until the grace period ends", due, err
		}
		if due.IsZero() {
			return "reactivated within the grace period: nothing revoked", time.Time{}, nil
		}
	}
	revoked, err := s.Revoker.RevokeOwner(ctx, ev.TenantID, ev.AccountID, credentials.Revocation{
		Actor: credentials.ActorSystem, Reason: reason, Action: ActionOffboard,
		Details: map[string]any{"eventId": ev.ID, "source": ev.Source, "event": ev.EventType},
	})
	if err != nil {
		return "", time.Time{}, err
	}
	return fmt.Sprintf("%s: revoked %d", reason, len(revoked)), time.Time{}, nil
}

// graceDue tells whether an inactive user is still inside the grace period
// (wait, with the time it ends) or past it (a non-zero due). A zero due
// without wait means the user is active again.
func (s *Service) graceDue(ctx context.Context, tenantID, accountID string, grace time.Duration) (due time.Time, wait bool, err error) {
	since, err := s.Users.InactiveSince(ctx, tenantID, []string{accountID})
	if err != nil {
		return time.Time{}, false, err
	}
	t, ok := since[accountID]
	if !ok {
		return time.Time{}, false, nil
	}
	due = t.Add(grace)
	return due, s.now().Before(due), nil
}

// recordSkip audits an offboarding that the site's settings held back, so
// the admin sees who kept access and why.
func (s *Service) recordSkip(ctx context.Context, ev *models.WebhookEvent, reason, why string) error {
	details, _ := json.Marshal(map[string]any{"eventId": ev.ID, "source": ev.Source, "event": ev.EventType, "skipped": why})
	return s.Audit.Record(ctx, models.AuditEvent{
		TenantID: ev.TenantID, At: s.now(), Actor: credentials.ActorSystem, Action: "owner.offboard.skipped",
		TargetType: "user", TargetID: ev.AccountID, Reason: reason, Details: string(details),
	})
}

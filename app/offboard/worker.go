package offboard

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/models"
)

// RunWorkers processes due events with n workers until ctx ends, then
// waits for the events in hand. Run one worker on SQLite; on PostgreSQL any
// number of workers in any number of processes share the inbox.
func (s *Service) RunWorkers(ctx context.Context, n int) {
	host, _ := os.Hostname()
	var wg sync.WaitGroup
	for i := range max(n, 1) {
		name := fmt.Sprintf("%s/%d/%d", host, os.Getpid(), i)
		wg.Go(func() { s.work(ctx, name) })
	}
	wg.Wait()
}

func (s *Service) work(ctx context.Context, name string) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-s.wake:
		}
		for ctx.Err() == nil {
			n, err := s.ProcessDue(ctx, name)
			if err != nil {
				s.Log.WithError(err).Warn("webhook worker: claim failed")
				break
			}
			if n == 0 {
				break
			}
		}
		timer.Reset(s.opts.Poll)
	}
}

// ProcessDue claims one batch of due events for worker and processes them;
// it returns how many it claimed.
func (s *Service) ProcessDue(ctx context.Context, worker string) (int, error) {
	events, err := s.Events.Claim(ctx, worker, s.now(), s.opts.Lease, s.opts.ClaimBatch)
	if err != nil {
		return 0, err
	}
	// An event in hand is finished even when shutdown begins: its
	// transaction is short, and an unfinished claim would wait for its
	// lease to expire.
	pctx := context.WithoutCancel(ctx)
	for i := range events {
		s.handle(pctx, &events[i])
	}
	return len(events), nil
}

func (s *Service) handle(ctx context.Context, ev *models.WebhookEvent) {
	log := s.Log.WithFields(logrus.Fields{"tenant": ev.TenantID, "event_id": ev.ID, "event": ev.EventType, "attempt": ev.Attempts})
	outcome, again, err := s.Process(ctx, ev)
	now := s.now()
	var serr error
	switch {
	case err == nil && again.IsZero():
		serr = s.Events.Finish(ctx, ev.TenantID, ev.ID, outcome, now)
		log.WithField("outcome", outcome).Info("user event processed")
	case err == nil:
		serr = s.Events.Defer(ctx, ev.TenantID, ev.ID, again, outcome)
	case ev.Attempts >= s.opts.MaxAttempts:
		serr = s.Events.Park(ctx, ev.TenantID, ev.ID, clipError(err))
		log.WithError(err).Error("user event parked after repeated failures")
	default:
		next := now.Add(s.backoff(ev.Attempts))
		serr = s.Events.Retry(ctx, ev.TenantID, ev.ID, next, clipError(err))
		log.WithError(err).WithField("next_attempt", next).Warn("user event failed; will retry")
	}
	if serr != nil {
		// The lease expires and another attempt follows: processing is
		// idempotent.
		log.WithError(serr).Error("user event: could not record the outcome")
	}
	if s.processed != nil {
		s.processed(ev, outcome, err)
	}
}

// backoff doubles from RetryBase per attempt, capped at 15 minutes, with
// up to 20 % jitter.
func (s *Service) backoff(attempt int) time.Duration {
	d := s.opts.RetryBase << min(max(attempt-1, 0), 20)
	d = min(d, 15*time.Minute)
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

func clipError(err error) string {
	msg := err.Error()
	if len(msg) > 1000 {
		msg = msg[:1000]
	}
	return msg
}

package oauth

import (
	"context"
	"time"
)

// PurgeExpired deletes authorization requests whose consent window and code
// life both ended (a day ago, so replays are still recognised meanwhile) and
// returns how many. It is idempotent; run it from a periodic job.
func (s *Service) PurgeExpired(ctx context.Context) (int64, error) {
	return s.Store.DeleteExpiredRequests(ctx, s.now().Add(-24*time.Hour))
}

package jobs

import (
	"context"

	"github.com/keyward/keyward/app/offboard"
)

// OAuthPurger deletes OAuth authorization requests and codes that expired.
type OAuthPurger interface {
	PurgeExpired(ctx context.Context) (int64, error)
}

// OAuthPurgeJob deletes expired OAuth authorization requests and codes, so
// abandoned authorizations don't pile up.
func OAuthPurgeJob(svc OAuthPurger, schedule string) Job {
	return Job{
		Name:        "oauth-purge",
		Description: "Delete OAuth authorization requests and codes that expired more than a day ago.",
		Schedule:    schedule,
		Global:      true,
		Run: func(ctx context.Context, _ offboard.Run) (offboard.Counts, error) {
			n, err := svc.PurgeExpired(ctx)
			return offboard.Counts{"purged": n}, err
		},
	}
}

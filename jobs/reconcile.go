package jobs

import (
	"context"

	"github.com/keyward/keyward/app/offboard"
)

// Reconciler checks credential owners against Jira.
type Reconciler interface {
	Reconcile(ctx context.Context, run offboard.Run) (offboard.Counts, error)
}

// ReconcileJob checks the owners of every live credential against Jira's
// user API and revokes what inactive or deleted owners hold.
func ReconcileJob(svc Reconciler, schedule string) Job {
	return Job{
		Name:        "reconcile",
		Description: "Check credential owners against Jira and revoke what inactive or deleted people hold; report expired and stale credentials.",
		Schedule:    schedule,
		Run:         svc.Reconcile,
	}
}

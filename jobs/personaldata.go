package jobs

import (
	"context"

	"github.com/keyward/keyward/app/offboard"
)

// PersonalDataReporter reports stored accounts to Atlassian.
type PersonalDataReporter interface {
	PersonalData(ctx context.Context, run offboard.Run) (offboard.Counts, error)
}

// PersonalDataJob reports stored accountIds to Atlassian's Personal Data
// Reporting API on each site's cycle, and erases closed accounts' data.
func PersonalDataJob(svc PersonalDataReporter, schedule string) Job {
	return Job{
		Name:        "personal-data",
		Description: "Report stored accounts to Atlassian (each site on its cycle); revoke and erase closed accounts.",
		Schedule:    schedule,
		Run:         svc.PersonalData,
	}
}

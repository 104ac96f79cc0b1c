package jobs

import (
	"context"

	"github.com/keyward/keyward/app/offboard"
)

// WeeklyReporter writes weekly summaries.
type WeeklyReporter interface {
	Weekly(ctx context.Context, run offboard.Run) (offboard.Counts, error)
}

// WeeklyReportJob stores (and delivers) each site's weekly summary.
func WeeklyReportJob(svc WeeklyReporter, schedule string) Job {
	return Job{
		Name:        "weekly-report",
		Description: "Summarise the week's reconciliations, revocations and user events per site.",
		Schedule:    schedule,
		Run:         svc.Weekly,
	}
}

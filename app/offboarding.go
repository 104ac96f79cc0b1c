package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/config"
	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/jira"
	"github.com/keyward/keyward/app/oauth"
	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/jobs"
	"github.com/keyward/keyward/models"
)

// offboarding is the offboarding service with its scheduler, shared by
// serve and run-job.
type offboarding struct {
	svc     *offboard.Service
	sched   *jobs.Scheduler
	workers int
}

func newOffboarding(cfg *config.Config, db *store.DB, log *logrus.Entry, revoker offboard.Revoker, jiraClient *jira.Client, sealer *seal.Sealer) (*offboarding, error) {
	audit := store.NewAudit(db)
	svc := offboard.New(offboard.Deps{
		Events: store.NewWebhookEvents(db), Users: store.NewUsers(db), Settings: store.NewOffboardingSettings(db),
		Reports: store.NewReports(db), Revoker: revoker, Jira: jiraClient, Tenants: store.NewTenants(db),
		Audit: audit, Tx: db, Sealer: sealer, Log: log.WithField("component", "offboard"),
	}, offboard.Options{
		MaxAttempts: cfg.WebhookMaxAttempts, Poll: cfg.WebhookPoll, ReconcileConcurrency: cfg.ReconcileConcurrency,
		ForgeAPIBase: cfg.AtlassianAPIURL, AllowPrivateWebhooks: cfg.AllowPrivateWebhooks,
	})
	purger := oauth.NewService(oauth.Config{}, oauth.Deps{Store: store.NewOAuth(db), Log: log})
	sched, err := jobs.New(store.NewJobRuns(db), db, audit, db, log.WithField("component", "jobs"), registeredJobs(cfg, svc, purger)...)
	if err != nil {
		return nil, err
	}
	workers := cfg.WebhookWorkers
	if !db.IsPostgres() {
		workers = 1 // SQLite: one writer; the claim is a single atomic UPDATE
	}
	return &offboarding{svc: svc, sched: sched, workers: workers}, nil
}

// registeredJobs is the one list of keyward's jobs: the scheduler of serve
// and run-job is built from it, and help and run-job name its jobs.
func registeredJobs(cfg *config.Config, svc *offboard.Service, purger jobs.OAuthPurger) []jobs.Job {
	return []jobs.Job{
		jobs.ReconcileJob(svc, cfg.ReconcileSchedule),
		jobs.PersonalDataJob(svc, cfg.PDRSchedule),
		jobs.WeeklyReportJob(svc, cfg.WeeklyReportSchedule),
		jobs.OAuthPurgeJob(purger, "@hourly"),
	}
}

// jobNames lists the registered jobs without a database or configuration:
// the jobs are built around nil services and never run.
func jobNames() []string {
	var names []string
	for _, j := range registeredJobs(&config.Config{}, (*offboard.Service)(nil), (*oauth.Service)(nil)) {
		names = append(names, j.Name)
	}
	return names
}

// siteRefHelp says which id names a site on the command line.
const siteRefHelp = `keyward's tenant id for the site (printed by seed; the "tenant" of GET /api/admin/v1/whoami)`

// resolveSite finds the site that run-job -tenant or seed --tenant names:
// by keyward's tenant id or, failing that, by a Connect clientKey or a
// Forge installationId (each unique to one site).
func resolveSite(ctx context.Context, st *store.Tenants, ref string) (*models.Tenant, error) {
	for _, lookup := range []func(context.Context, string) (*models.Tenant, error){st.Get, st.ByClientKey, st.ByForgeInstallation} {
		t, err := lookup(ctx, ref)
		if err == nil {
			return t, nil
		}
		if !errors.Is(err, models.ErrNotFound) {
			return nil, err
		}
	}
	return nil, fmt.Errorf("no site with tenant id %q: use %s, or its Connect clientKey or Forge installationId", ref, siteRefHelp)
}

// runJob runs one job once and prints its outcome: keyward run-job NAME
// [-tenant ID]. It takes the same lock as the scheduler, so it never runs
// alongside a scheduled run of the same job.
func runJob(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("run-job", flag.ContinueOnError)
	fs.SetOutput(stderr)
	tenantRef := fs.String("tenant", "", "run for this site only: "+siteRefHelp+", or its Connect clientKey or Forge installationId; default every installed site")
	name := ""
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return nil // the flag set printed its help
	} else if err != nil {
		return fmt.Errorf("%w: %w", errUsage, err)
	}
	if name == "" && fs.NArg() > 0 {
		name = fs.Arg(0)
	}
	names := jobNames()
	if name == "" {
		return fmt.Errorf("%w: run-job needs a job name (%s)", errUsage, strings.Join(names, ", "))
	}
	if !slices.Contains(names, name) {
		return fmt.Errorf("%w: run-job: no job %q (jobs: %s)", errUsage, name, strings.Join(names, ", "))
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration: %w", err)
	}
	log := newLogger(cfg, stderr)
	db, err := openDB(ctx, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	if db.IsPostgres() {
		if err := db.CheckSchema(ctx); err != nil {
			return err
		}
	} else if _, err := db.Migrate(ctx); err != nil {
		return err
	}
	tenantID := ""
	if *tenantRef != "" {
		site, err := resolveSite(ctx, store.NewTenants(db), *tenantRef)
		if err != nil {
			return fmt.Errorf("run-job %s: %w", name, err)
		}
		tenantID = site.ID
	}
	key, _, err := cfg.ResolveEncryptionKey(seal.GenerateKey)
	if err != nil {
		return fmt.Errorf("KEYWARD_ENCRYPTION_KEY: %w", err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		return err
	}
	auditStore := store.NewAudit(db)
	tenantSvc := tenants.NewService(store.NewTenants(db), sealer, auditStore, db, log, cfg.DefaultMaxKeyDays)
	credStore := store.NewCredentials(db)
	keySvc := credentials.NewService(credStore, auditStore, db, credentials.NewVerifier(credStore, log), log)
	jiraClient := jira.NewClient(&http.Client{Timeout: 30 * time.Second}, tenantSvc, cfg.ConnectAppKey, log)
	ob, err := newOffboarding(cfg, db, log, keySvc, jiraClient, sealer)
	if err != nil {
		return err
	}
	run, err := ob.sched.RunOnce(ctx, name, tenantID, jobs.TriggerCLI)
	if err != nil {
		return fmt.Errorf("run-job %s: %w (jobs: %s)", name, err, strings.Join(ob.sched.Names(), ", "))
	}
	took := time.Duration(0)
	if run.FinishedAt != nil {
		took = run.FinishedAt.Sub(run.StartedAt).Round(time.Millisecond)
	}
	fmt.Fprintf(stdout, "job %s run %d: %s in %s\ncounts: %s\n", run.Job, run.ID, run.Status, took, run.Counts)
	if run.Error != "" {
		fmt.Fprintf(stdout, "error: %s\n", run.Error)
	}
	if run.Status != models.RunSucceeded {
		return fmt.Errorf("job %s %s", run.Job, run.Status)
	}
	return nil
}

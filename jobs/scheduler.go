// Package jobs runs keyward's named, idempotent batch jobs: on a cron
// schedule (robfig/cron with Recover and SkipIfStillRunning), from the admin
// API for one site, or once from the CLI. On PostgreSQL an advisory lock per
// job and a unique record per scheduled tick make each tick run on exactly
// one replica; every run is recorded with its progress and outcome.
package jobs

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/models"
)

// Func is a job's work: one service call over the run's scope.
type Func func(ctx context.Context, run offboard.Run) (offboard.Counts, error)

// Job is a named job. An empty or "off" schedule means it only runs when
// started by hand.
type Job struct {
	Name        string
	Description string
	Schedule    string
	Run         Func
	// Global marks maintenance of the whole deployment: the job ignores
	// the run's tenant, so it is never started for one site (the admin
	// API, run-job -tenant); it runs on its schedule or from run-job.
	Global bool
}

// RunStore records job runs.
type RunStore interface {
	Start(ctx context.Context, r *models.JobRun) error
	Progress(ctx context.Context, id int64, progress, counts string, at time.Time) error
	Finish(ctx context.Context, id int64, status models.JobRunStatus, counts, errMsg string, at time.Time) error
	AbandonStale(ctx context.Context, job, tenantID string, before time.Time) (int64, error)
	Get(ctx context.Context, id int64) (*models.JobRun, error)
	GetForTenant(ctx context.Context, tenantID string, id int64) (*models.JobRun, error)
	Last(ctx context.Context, job, tenantID string, limit int) ([]models.JobRun, error)
}

// Locker takes cross-replica locks (PostgreSQL advisory locks).
type Locker interface {
	TryAdvisoryLock(ctx context.Context, key int64) (release func(), ok bool, err error)
}

// Auditor records admin actions in the transaction in ctx.
type Auditor interface {
	Record(ctx context.Context, e models.AuditEvent) error
}

// TxRunner runs a function in one database transaction.
type TxRunner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

type entry struct {
	Job
	sched   cron.Schedule // nil: manual only
	running sync.Mutex    // one run of the job at a time in this process
}

// Scheduler owns the jobs and their runs.
type Scheduler struct {
	runs    RunStore
	locker  Locker
	audit   Auditor
	tx      TxRunner
	log     *logrus.Entry
	replica string
	now     func() time.Time

	// Heartbeat is how often a running job records its progress, so the
	// admin page shows it alive.
	Heartbeat time.Duration

	jobs     []*entry
	cron     *cron.Cron
	ids      map[string]cron.EntryID
	ctx      context.Context // runs started by the scheduler or the admin API
	siteRuns chan struct{}   // one-site runs in progress (MaxSiteRuns)
	stop     context.CancelFunc
	async    sync.WaitGroup
}

// New returns a scheduler for jobs. Schedules are standard five-field cron
// expressions (UTC) or descriptors such as @hourly.
func New(runs RunStore, locker Locker, audit Auditor, tx TxRunner, log *logrus.Entry, jobs ...Job) (*Scheduler, error) {
	host, _ := os.Hostname()
	ctx, stop := context.WithCancel(context.Background())
	s := &Scheduler{
		runs: runs, locker: locker, audit: audit, tx: tx, log: log, replica: fmt.Sprintf("%s/%d", host, os.Getpid()),
		now: func() time.Time { return time.Now().UTC() }, Heartbeat: 30 * time.Second,
		ids: map[string]cron.EntryID{}, ctx: ctx, stop: stop, siteRuns: make(chan struct{}, MaxSiteRuns),
	}
	logger := cronLogger{log}
	s.cron = cron.New(cron.WithLocation(time.UTC), cron.WithLogger(logger),
		cron.WithChain(cron.Recover(logger), cron.SkipIfStillRunning(logger)))
	for _, j := range jobs {
		e := &entry{Job: j}
		if sch := strings.TrimSpace(j.Schedule); sch != "" && !strings.EqualFold(sch, "off") {
			p, err := cron.ParseStandard(sch)
			if err != nil {
				return nil, fmt.Errorf("job %s: schedule %q: %w", j.Name, sch, err)
			}
			e.sched = p
			id := s.cron.Schedule(p, cron.FuncJob(func() { s.scheduled(e) }))
			s.ids[j.Name] = id
		}
		s.jobs = append(s.jobs, e)
	}
	return s, nil
}

// SetReplica names this process in run records (tests run two "replicas"
// in one process).
func (s *Scheduler) SetReplica(name string) { s.replica = name }

// Start starts the cron clock.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops the clock, cancels runs in progress (they record themselves
// as canceled) and waits for them until ctx ends.
func (s *Scheduler) Stop(ctx context.Context) {
	done := s.cron.Stop()
	s.stop()
	waited := make(chan struct{})
	go func() {
		<-done.Done()
		s.async.Wait()
		close(waited)
	}()
	select {
	case <-waited:
	case <-ctx.Done():
		s.log.Warn("scheduler: runs still in progress at shutdown")
	}
}

func (s *Scheduler) job(name string) (*entry, error) {
	for _, e := range s.jobs {
		if e.Name == name {
			return e, nil
		}
	}
	return nil, fmt.Errorf("job %q: %w", name, models.ErrNotFound)
}

// Names lists the jobs.
func (s *Scheduler) Names() []string {
	out := make([]string, len(s.jobs))
	for i, e := range s.jobs {
		out[i] = e.Name
	}
	return out
}

// scheduled is what the cron clock calls.
func (s *Scheduler) scheduled(e *entry) {
	tick := TickTime(e.sched, s.now())
	if _, err := s.Tick(s.ctx, e.Name, tick); err != nil {
		s.log.WithError(err).WithField("job", e.Name).Error("scheduled job failed")
	}
}

// TickTime is the latest activation of sched at or before now: the same
// instant on every replica whose clock fired for it.
func TickTime(sched cron.Schedule, now time.Time) time.Time {
	now = now.UTC()
	tick := sched.Next(now.Add(-time.Minute).Truncate(time.Second))
	if tick.After(now) {
		return now.Truncate(time.Minute)
	}
	for {
		next := sched.Next(tick)
		if next.After(now) || !next.After(tick) {
			return tick
		}
		tick = next
	}
}

// lockKey is the advisory lock of a job: a hash of its name.
func lockKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("keyward.job." + name))
	return int64(h.Sum64())
}

// siteLockKey is the lock of a job's runs for one site.
func siteLockKey(name, tenantID string) int64 {
	h := fnv.New64a()
	h.Write([]byte("keyward.job." + name + ".site." + tenantID))
	return int64(h.Sum64())
}

// List describes every job with its newest scheduled run and the newest
// runs started for the tenant.
func (s *Scheduler) List(ctx context.Context, tenantID string) ([]models.JobInfo, error) {
	out := make([]models.JobInfo, 0, len(s.jobs))
	for _, e := range s.jobs {
		info := models.JobInfo{Name: e.Name, Description: e.Description, Global: e.Global}
		if e.sched != nil {
			info.Schedule = e.Schedule
			next := e.sched.Next(s.now())
			info.NextRun = &next
		}
		global, err := s.runs.Last(ctx, e.Name, "", 1)
		if err != nil {
			return nil, err
		}
		if len(global) > 0 {
			info.LastScheduled = &global[0]
		}
		if info.LastRuns, err = s.runs.Last(ctx, e.Name, tenantID, 5); err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	slices.SortStableFunc(out, func(a, b models.JobInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// GetRun returns a run started for the tenant.
func (s *Scheduler) GetRun(ctx context.Context, tenantID string, id int64) (*models.JobRun, error) {
	return s.runs.GetForTenant(ctx, tenantID, id)
}

type cronLogger struct{ log *logrus.Entry }

func (l cronLogger) Info(msg string, kv ...any) {
	l.log.WithFields(kvFields(kv)).Debug("cron: " + msg)
}

func (l cronLogger) Error(err error, msg string, kv ...any) {
	l.log.WithFields(kvFields(kv)).WithError(err).Error("cron: " + msg)
}

func kvFields(kv []any) logrus.Fields {
	f := logrus.Fields{}
	for i := 0; i+1 < len(kv); i += 2 {
		f[fmt.Sprint(kv[i])] = kv[i+1]
	}
	return f
}

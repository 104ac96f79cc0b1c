package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/models"
)

// Trigger names.
const (
	TriggerSchedule = "schedule"
	TriggerCLI      = "cli"
)

// ErrBusy means the job is already running (here or on another replica).
var ErrBusy = fmt.Errorf("job is already running: %w", models.ErrConflict)

// MaxSiteRuns bounds the runs of one site (any job) in progress at once in
// a process: each holds a database connection for its lock.
const MaxSiteRuns = 4

// ErrTooManySiteRuns means MaxSiteRuns one-site runs are in progress in
// this process; try again when one ends.
var ErrTooManySiteRuns = fmt.Errorf("too many site runs in progress; try again shortly: %w", models.ErrConflict)

// Tick runs a job for one scheduled tick unless another replica already
// ran (or runs) that tick. It returns nil without error when skipped.
func (s *Scheduler) Tick(ctx context.Context, name string, tick time.Time) (*models.JobRun, error) {
	e, err := s.job(name)
	if err != nil {
		return nil, err
	}
	release, err := s.lock(ctx, e, "")
	if errors.Is(err, ErrBusy) {
		s.log.WithField("job", name).Debug("scheduled tick skipped: the job is running elsewhere")
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer release()
	tick = tick.UTC()
	run := &models.JobRun{Job: name, TriggeredBy: TriggerSchedule, ScheduledAt: &tick}
	if err := s.begin(ctx, run); err != nil {
		if errors.Is(err, models.ErrConflict) {
			s.log.WithField("job", name).WithField("tick", tick).Debug("scheduled tick skipped: another replica ran it")
			return nil, nil
		}
		return nil, err
	}
	s.execute(ctx, e, run, offboard.Run{})
	return run, nil
}

// RunOnce runs a job now and waits for it (the run-job command). tenantID
// limits it to one site; "" covers every site.
func (s *Scheduler) RunOnce(ctx context.Context, name, tenantID, triggeredBy string) (*models.JobRun, error) {
	e, err := s.job(name)
	if err != nil {
		return nil, err
	}
	if e.Global && tenantID != "" {
		return nil, models.Invalid("tenant", "job "+name+" covers the whole deployment; run it without a tenant")
	}
	release, err := s.lock(ctx, e, tenantID)
	if err != nil {
		return nil, err
	}
	defer release()
	run := &models.JobRun{Job: name, TenantID: tenantID, TriggeredBy: triggeredBy}
	if err := s.begin(ctx, run); err != nil {
		return nil, err
	}
	s.execute(ctx, e, run, offboard.Run{TenantID: tenantID, Force: true})
	return s.runs.Get(context.WithoutCancel(ctx), run.ID)
}

// StartForTenant starts a job for one site in the background (the admin
// API, the Forge scheduled trigger) and returns its run at once. The run
// record and its audit event commit together. It takes the job's lock for
// the whole run, like a scheduled tick: while the job runs anywhere (a
// tick, run-job, another admin's run, on any replica) it gives ErrBusy,
// and ticks that come while it runs are skipped.
func (s *Scheduler) StartForTenant(ctx context.Context, name, tenantID, actor string) (*models.JobRun, error) {
	e, err := s.job(name)
	if err != nil {
		return nil, err
	}
	if tenantID == "" {
		return nil, models.Invalid("tenant", "required")
	}
	if e.Global {
		return nil, fmt.Errorf("job %s maintains the whole deployment and is not started for a site: %w", name, models.ErrForbidden)
	}
	release, err := s.lock(ctx, e, tenantID)
	if err != nil {
		return nil, err
	}
	run := &models.JobRun{Job: name, TenantID: tenantID, TriggeredBy: "admin:" + actor}
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.begin(ctx, run); err != nil {
			return err
		}
		return s.audit.Record(ctx, models.AuditEvent{TenantID: tenantID, At: run.StartedAt, Actor: actor, Action: "job.run",
			TargetType: "job_run", TargetID: strconv.FormatInt(run.ID, 10), Details: fmt.Sprintf(`{"job":%q}`, name)})
	})
	if err != nil {
		release()
		return nil, err
	}
	s.async.Go(func() {
		defer release()
		s.execute(s.ctx, e, run, offboard.Run{TenantID: tenantID, Force: true})
	})
	return run, nil
}

// lock takes the lock of a run's scope, for the whole run: a run over
// every site takes the job's lock (in process, and across processes the
// database's), a run of one site the lock of the job and that site. Runs
// over every site take each site's lock as they reach it (siteLocker), so
// a site is never worked on by two runs at once, and a run of one site
// holds up neither other sites nor the schedule.
func (s *Scheduler) lock(ctx context.Context, e *entry, tenantID string) (func(), error) {
	if tenantID != "" {
		// Each lock holds a database connection for the run: a bounded
		// number of one-site runs at once keeps them from taking the pool.
		select {
		case s.siteRuns <- struct{}{}:
		default:
			return nil, ErrTooManySiteRuns
		}
		release, ok, err := s.locker.TryAdvisoryLock(ctx, siteLockKey(e.Name, tenantID))
		if err != nil || !ok {
			<-s.siteRuns
			if err == nil {
				err = ErrBusy
			}
			return nil, err
		}
		return func() {
			release()
			<-s.siteRuns
		}, nil
	}
	if !e.running.TryLock() {
		return nil, ErrBusy
	}
	release, ok, err := s.locker.TryAdvisoryLock(ctx, lockKey(e.Name))
	if err != nil || !ok {
		e.running.Unlock()
		if err == nil {
			err = ErrBusy
		}
		return nil, err
	}
	return func() {
		release()
		e.running.Unlock()
	}, nil
}

// siteLocker takes a site's lock for a run over every site (see lock).
func (s *Scheduler) siteLocker(job string) func(ctx context.Context, tenantID string) (func(), bool, error) {
	return func(ctx context.Context, tenantID string) (func(), bool, error) {
		return s.locker.TryAdvisoryLock(ctx, siteLockKey(job, tenantID))
	}
}

// begin records a new run. The caller holds the job's lock, which every
// run holds until it ends and which a dying process loses (PostgreSQL
// ends its session, the kernel its file lock): a run of the job still
// marked running belongs to a process that died, and is marked abandoned
// (with its reports) at once.
func (s *Scheduler) begin(ctx context.Context, run *models.JobRun) error {
	now := s.now()
	if n, err := s.runs.AbandonStale(ctx, run.Job, run.TenantID, now); err != nil {
		return err
	} else if n > 0 {
		s.log.WithField("job", run.Job).WithField("runs", n).Warn("marked runs of a stopped process as abandoned")
	}
	run.Status, run.Replica, run.StartedAt, run.HeartbeatAt = models.RunRunning, s.replica, now, now
	return s.runs.Start(ctx, run)
}

// execute runs the job and records progress, heartbeats and the outcome.
func (s *Scheduler) execute(ctx context.Context, e *entry, run *models.JobRun, scope offboard.Run) {
	log := s.log.WithFields(logrus.Fields{"job": e.Name, "run": run.ID, "tenant": run.TenantID, "trigger": run.TriggeredBy})
	log.Info("job started")
	rec := context.WithoutCancel(ctx)
	p := &progress{s: s, ctx: rec, id: run.ID, log: log}
	scope.RunID, scope.Progress = run.ID, p.update
	if scope.TenantID == "" {
		scope.LockSite = s.siteLocker(e.Name)
	}
	stopBeat := p.heartbeat(s.Heartbeat)
	counts, err := e.Run(ctx, scope)
	stopBeat()

	status := models.RunSucceeded
	msg := ""
	switch {
	case err == nil:
	case ctx.Err() != nil:
		status, msg = models.RunCanceled, "stopped before the end: "+err.Error()
	case errors.Is(err, offboard.ErrPartial) && counts["sites_failed"] < counts["sites"]:
		status, msg = models.RunPartial, err.Error()
	default:
		status, msg = models.RunFailed, err.Error()
	}
	if len(msg) > 4000 {
		msg = msg[:4000]
	}
	c, _ := json.Marshal(counts)
	if ferr := s.runs.Finish(rec, run.ID, status, string(c), msg, s.now()); ferr != nil {
		log.WithError(ferr).Error("could not record the job outcome")
	}
	log = log.WithField("status", status).WithFields(logrus.Fields(toFields(counts)))
	if err != nil {
		log.WithError(err).Warn("job finished with errors")
		return
	}
	log.Info("job finished")
}

// progress persists a run's counters and heartbeats.
type progress struct {
	s   *Scheduler
	ctx context.Context
	id  int64
	log *logrus.Entry

	mu     sync.Mutex
	counts string
	note   string
}

func (p *progress) update(c offboard.Counts, note string) {
	b, _ := json.Marshal(c)
	p.mu.Lock()
	p.counts, p.note = string(b), note
	p.mu.Unlock()
	p.write()
	p.log.WithField("progress", note).Info("job progress")
}

func (p *progress) write() {
	p.mu.Lock()
	counts, note := p.counts, p.note
	p.mu.Unlock()
	if counts == "" {
		counts = "{}"
	}
	now := p.s.now()
	pr, _ := json.Marshal(map[string]any{"note": note, "at": now})
	if err := p.s.runs.Progress(p.ctx, p.id, string(pr), counts, now); err != nil {
		p.log.WithError(err).Warn("could not record job progress")
	}
}

// heartbeat rewrites the progress every interval until the returned
// function is called.
func (p *progress) heartbeat(every time.Duration) func() {
	if every <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				p.write()
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

func toFields(c offboard.Counts) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

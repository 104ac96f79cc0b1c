package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"time"

	"github.com/keyward/keyward/models"
)

// JobRuns records the runs of scheduled jobs.
type JobRuns struct{ db *DB }

// NewJobRuns returns the job run store.
func NewJobRuns(db *DB) *JobRuns { return &JobRuns{db: db} }

// Start records a new run and sets its id. A second run for the same
// scheduled tick of a job gives models.ErrConflict: that tick already ran
// (or is running) on another replica.
func (s *JobRuns) Start(ctx context.Context, r *models.JobRun) error {
	if r.Progress == "" {
		r.Progress = "{}"
	}
	if r.Counts == "" {
		r.Counts = "{}"
	}
	return translate(s.db.conn(ctx).Table("job_runs").Omit("id").Create(r).Error, "start job run")
}

// Progress stores a running job's progress and counters and its heartbeat.
func (s *JobRuns) Progress(ctx context.Context, id int64, progress, counts string, at time.Time) error {
	err := s.db.conn(ctx).Table("job_runs").Where("id = ? AND status = ?", id, models.RunRunning).
		Updates(map[string]any{"progress": progress, "counts": counts, "heartbeat_at": at.UTC()}).Error
	return translate(err, "record job progress")
}

// Finish records a run's outcome.
func (s *JobRuns) Finish(ctx context.Context, id int64, status models.JobRunStatus, counts, errMsg string, at time.Time) error {
	err := s.db.conn(ctx).Table("job_runs").Where("id = ?", id).
		Updates(map[string]any{"status": status, "counts": counts, "error": errMsg, "finished_at": at.UTC(), "heartbeat_at": at.UTC()}).Error
	return translate(err, "finish job run")
}

// AbandonStale marks runs of a job for tenantID ("" for the runs over
// every site) still "running" whose heartbeat is older than before as
// abandoned, with the reports they were writing: their process died. It
// returns how many.
func (s *JobRuns) AbandonStale(ctx context.Context, job, tenantID string, before time.Time) (int64, error) {
	var n int64
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		var ids []int64
		err := s.db.conn(ctx).Table("job_runs").Where("job = ? AND tenant_id = ? AND status = ? AND heartbeat_at < ?", job, tenantID, models.RunRunning, before.UTC()).
			Pluck("id", &ids).Error
		if err != nil || len(ids) == 0 {
			return err
		}
		now := time.Now().UTC()
		res := s.db.conn(ctx).Table("job_runs").Where("id IN ? AND status = ?", ids, models.RunRunning).
			Updates(map[string]any{"status": models.RunAbandoned, "error": "the process running this job stopped", "finished_at": now})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		// The site reports the runs were writing end with them.
		return s.db.conn(ctx).Table("reports").Where("run_id IN ? AND status = ?", ids, "running").
			Updates(map[string]any{"status": "error", "errors": 1, "error": "interrupted: the process running this job stopped", "finished_at": now}).Error
	})
	return n, translate(err, "abandon stale job runs")
}

// Get returns any run by id (the scheduler's own use).
func (s *JobRuns) Get(ctx context.Context, id int64) (*models.JobRun, error) {
	var r models.JobRun
	if err := s.db.conn(ctx).Table("job_runs").Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "get job run")
	}
	return &r, nil
}

// GetForTenant returns a run started for the tenant.
func (s *JobRuns) GetForTenant(ctx context.Context, tenantID string, id int64) (*models.JobRun, error) {
	var r models.JobRun
	if tenantID == "" {
		return nil, translate(errNotFound, "get job run")
	}
	if err := s.db.conn(ctx).Table("job_runs").Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error; err != nil {
		return nil, translate(err, "get job run")
	}
	return &r, nil
}

// Last returns a job's newest runs for one tenant (tenantID "" means the
// scheduled runs over every site).
func (s *JobRuns) Last(ctx context.Context, job, tenantID string, limit int) ([]models.JobRun, error) {
	var out []models.JobRun
	err := s.db.conn(ctx).Table("job_runs").Where("job = ? AND tenant_id = ?", job, tenantID).Order("id DESC").Limit(limit).Find(&out).Error
	return out, translate(err, "list job runs")
}

// TryAdvisoryLock takes a lock that excludes every other process using the
// database and returns a release function; ok is false when another holds
// it. On PostgreSQL it is a session advisory lock on a connection of its
// own (released by the server if the process dies); on SQLite, an
// exclusive flock on a file beside the database (released by the kernel
// if the process dies), so a `run-job` beside `serve` on one node is
// excluded too.
func (db *DB) TryAdvisoryLock(ctx context.Context, key int64) (release func(), ok bool, err error) {
	if !db.IsPostgres() {
		return tryFileLock(fmt.Sprintf("%s.lock-%d", db.path, key))
	}
	conn, err := db.sql.Conn(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("advisory lock connection: %w", err)
	}
	if err := conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		conn.Close()
		return nil, false, fmt.Errorf("advisory lock: %w", err)
	}
	if !ok {
		conn.Close()
		return nil, false, nil
	}
	return func() { unlock(conn, key) }, true, nil
}

func unlock(conn *sql.Conn, key int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
		// Closing a connection whose unlock failed could return it to the
		// pool still holding the lock: discard it instead.
		_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	}
	conn.Close()
}

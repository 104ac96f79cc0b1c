// Package audit writes keyward's records of use: the access log of every
// verification, appended in batches off the request path.
package audit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/models"
)

// AccessLogStore appends access log records in bulk.
type AccessLogStore interface {
	Append(ctx context.Context, entries []models.AccessLogEntry) error
}

// AccessLogWriter queues access log records in a bounded buffer and writes
// them in batches. Enqueue never blocks: when the queue is full the record
// is dropped, counted and reported in the log.
type AccessLogWriter struct {
	store    AccessLogStore
	log      *logrus.Entry
	queue    chan models.AccessLogEntry
	batch    int
	interval time.Duration

	dropped     atomic.Int64
	written     atomic.Int64
	failed      atomic.Int64
	lastDropLog atomic.Int64
	done        chan struct{}
	once        sync.Once
}

// NewAccessLogWriter returns a writer with a queue of queueSize records.
func NewAccessLogWriter(st AccessLogStore, log *logrus.Entry, queueSize int) *AccessLogWriter {
	return &AccessLogWriter{store: st, log: log, queue: make(chan models.AccessLogEntry, queueSize), batch: 5000, interval: 200 * time.Millisecond, done: make(chan struct{})}
}

// Enqueue adds a record without blocking and reports whether it was queued.
func (w *AccessLogWriter) Enqueue(e models.AccessLogEntry) bool {
	select {
	case w.queue <- e:
		return true
	default:
		n := w.dropped.Add(1)
		now := time.Now().UnixNano()
		if last := w.lastDropLog.Load(); now-last > int64(10*time.Second) && w.lastDropLog.CompareAndSwap(last, now) {
			w.log.WithField("dropped_total", n).Error("access log queue full; records dropped (raise KEYWARD_ACCESS_LOG_QUEUE or check the database)")
		}
		return false
	}
}

// Stats reports records written, dropped (queue full) and lost (write failed).
func (w *AccessLogWriter) Stats() (written, dropped, failed int64) {
	return w.written.Load(), w.dropped.Load(), w.failed.Load()
}

// Run writes batches until ctx ends, then drains the queue and returns.
// Close the producers before cancelling ctx to flush everything.
func (w *AccessLogWriter) Run(ctx context.Context) {
	defer close(w.done)
	// Writes never see ctx's cancellation: it only says "drain and stop".
	// A batch in flight when ctx ends is finished, not abandoned.
	live := context.WithoutCancel(ctx)
	buf := make([]models.AccessLogEntry, 0, w.batch)
	t := time.NewTicker(w.interval)
	defer t.Stop()
	flush := func(c context.Context) {
		if len(buf) == 0 {
			return
		}
		w.write(c, buf)
		buf = buf[:0]
	}
	for {
		select {
		case e := <-w.queue:
			buf = append(buf, e)
			if len(buf) >= w.batch {
				flush(live)
			}
		case <-t.C:
			flush(live)
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
			defer cancel()
			for {
				select {
				case e := <-w.queue:
					buf = append(buf, e)
					if len(buf) >= w.batch {
						flush(final)
					}
				default:
					flush(final)
					return
				}
			}
		}
	}
}

// Wait blocks until Run has returned.
func (w *AccessLogWriter) Wait() { <-w.done }

// write appends one batch, retrying briefly; a batch that still fails is
// counted and reported.
func (w *AccessLogWriter) write(ctx context.Context, batch []models.AccessLogEntry) {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if err = w.store.Append(ctx, batch); err == nil {
			w.written.Add(int64(len(batch)))
			return
		}
		if attempt == 2 {
			break // no point waiting after the last attempt
		}
		select {
		case <-ctx.Done():
			attempt = 3
		case <-time.After(time.Duration(attempt+1) * 200 * time.Millisecond):
		}
	}
	w.failed.Add(int64(len(batch)))
	w.log.WithError(err).WithField("records", len(batch)).Error("access log batch lost after retries")
}

package audit

import (
	"context"
	"errors"
	"io"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	"github.com/sirupsen/logrus/hooks/test"

	"github.com/keyward/keyward/models"
)

// memStore records every batch it is given; it fails the first failFirst
// calls (all of them when failFirst < 0).
type memStore struct {
	mu        sync.Mutex
	batches   [][]models.AccessLogEntry
	calls     int
	failFirst int
	appended  chan int // when set, receives the size of each stored batch
}

var errDown = errors.New("database down")

func (s *memStore) Append(_ context.Context, entries []models.AccessLogEntry) error {
	s.mu.Lock()
	s.calls++
	if s.failFirst < 0 || s.calls <= s.failFirst {
		s.mu.Unlock()
		return errDown
	}
	// The writer reuses its buffer: keep a copy, as a real store would
	// have written the rows.
	s.batches = append(s.batches, append([]models.AccessLogEntry(nil), entries...))
	ch := s.appended
	s.mu.Unlock()
	if ch != nil {
		ch <- len(entries)
	}
	return nil
}

func (s *memStore) stored() (batches []int, records []models.AccessLogEntry) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, b := range s.batches {
		batches = append(batches, len(b))
		records = append(records, b...)
	}
	return batches, records
}

func newTestWriter(st AccessLogStore, queue, batch int) (*AccessLogWriter, *test.Hook) {
	l, hook := test.NewNullLogger()
	l.SetOutput(io.Discard)
	w := NewAccessLogWriter(st, logrus.NewEntry(l), queue)
	w.batch = batch
	return w, hook
}

func entry(i int) models.AccessLogEntry {
	return models.AccessLogEntry{TenantID: "t", At: time.Unix(int64(i), 0).UTC(), CredentialID: "c", Method: "GET", Path: "/4/worklogs/" + strconv.Itoa(i), Decision: models.DecisionAllow}
}

// checkOrder fails unless records are entry(0..n-1) in order.
func checkOrder(t *testing.T, records []models.AccessLogEntry, n int) {
	t.Helper()
	if len(records) != n {
		t.Fatalf("%d records stored, want %d", len(records), n)
	}
	for i, r := range records {
		if r != entry(i) {
			t.Fatalf("record %d is %+v, want %+v", i, r, entry(i))
		}
	}
}

func TestWriterWritesFullBatches(t *testing.T) {
	st := &memStore{appended: make(chan int, 16)}
	w, _ := newTestWriter(st, 100, 10)
	w.interval = time.Hour // only full batches, until shutdown
	ctx, cancel := context.WithCancel(context.Background())
	go w.Run(ctx)
	for i := range 25 {
		if !w.Enqueue(entry(i)) {
			t.Fatalf("Enqueue %d refused", i)
		}
	}
	for range 2 {
		select {
		case n := <-st.appended:
			if n != 10 {
				t.Fatalf("batch of %d, want 10", n)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no full batch written")
		}
	}
	cancel()
	w.Wait()
	batches, records := st.stored()
	if len(batches) != 3 || batches[2] != 5 {
		t.Fatalf("batches %v, want [10 10 5]", batches)
	}
	checkOrder(t, records, 25)
	if written, dropped, failed := w.Stats(); written != 25 || dropped != 0 || failed != 0 {
		t.Fatalf("stats written=%d dropped=%d failed=%d", written, dropped, failed)
	}
}

func TestWriterFlushesPartialBatchesOnItsInterval(t *testing.T) {
	st := &memStore{appended: make(chan int, 16)}
	w, _ := newTestWriter(st, 100, 1000)
	w.interval = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	defer func() { cancel(); w.Wait() }()
	go w.Run(ctx)
	for i := range 3 {
		w.Enqueue(entry(i))
	}
	select {
	case n := <-st.appended:
		if n != 3 {
			t.Fatalf("batch of %d, want 3", n)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("partial batch not flushed by the ticker")
	}
}

// TestWriterDrainsOnCancel queues records before Run starts and cancels at
// once: Run still writes every record, in batches, before it returns.
func TestWriterDrainsOnCancel(t *testing.T) {
	st := &memStore{}
	w, _ := newTestWriter(st, 1000, 100)
	w.interval = time.Hour
	for i := range 950 {
		w.Enqueue(entry(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w.Run(ctx)
	w.Wait()
	batches, records := st.stored()
	checkOrder(t, records, 950)
	for _, n := range batches {
		if n > 100 {
			t.Fatalf("batch of %d over the batch size: %v", n, batches)
		}
	}
	if written, _, _ := w.Stats(); written != 950 {
		t.Fatalf("written %d, want 950", written)
	}
}

// TestWriterFullQueueDropsWithoutBlocking: with nothing consuming, a full
// queue refuses at once, counts every drop and logs it once (rate-limited).
func TestWriterFullQueueDropsWithoutBlocking(t *testing.T) {
	st := &memStore{}
	w, hook := newTestWriter(st, 4, 10)
	done := make(chan []bool)
	go func() {
		var got []bool
		for i := range 1000 {
			got = append(got, w.Enqueue(entry(i)))
		}
		done <- got
	}()
	var got []bool
	select {
	case got = <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Enqueue blocked on a full queue")
	}
	for i, ok := range got {
		if ok != (i < 4) {
			t.Fatalf("Enqueue %d = %v", i, ok)
		}
	}
	if _, dropped, _ := w.Stats(); dropped != 996 {
		t.Fatalf("dropped %d, want 996", dropped)
	}
	var errs int
	for _, e := range hook.AllEntries() {
		if e.Level == logrus.ErrorLevel {
			errs++
			if e.Data["dropped_total"] != int64(1) {
				t.Errorf("first drop log reports %v dropped", e.Data["dropped_total"])
			}
		}
	}
	if errs != 1 {
		t.Fatalf("%d error logs for 996 drops, want 1 (rate-limited)", errs)
	}

	// The queued records are still written.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w.Run(ctx)
	_, records := st.stored()
	checkOrder(t, records, 4)
}

// TestWriterRetriesFailedBatches: a store that fails twice and then works
// loses nothing.
func TestWriterRetriesFailedBatches(t *testing.T) {
	st := &memStore{failFirst: 2}
	w, _ := newTestWriter(st, 100, 10)
	for i := range 7 {
		w.Enqueue(entry(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w.Run(ctx)
	_, records := st.stored()
	checkOrder(t, records, 7)
	if written, dropped, failed := w.Stats(); written != 7 || dropped != 0 || failed != 0 {
		t.Fatalf("stats written=%d dropped=%d failed=%d", written, dropped, failed)
	}
	if st.calls != 3 {
		t.Fatalf("%d Append calls, want 3 (two failures, one success)", st.calls)
	}
}

// TestWriterCountsBatchesThatKeepFailing: after its retries a batch is
// counted as failed and reported, and the writer goes on.
func TestWriterCountsBatchesThatKeepFailing(t *testing.T) {
	st := &memStore{failFirst: -1}
	w, hook := newTestWriter(st, 100, 5)
	for i := range 5 {
		w.Enqueue(entry(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	w.Run(ctx)
	if written, dropped, failed := w.Stats(); written != 0 || dropped != 0 || failed != 5 {
		t.Fatalf("stats written=%d dropped=%d failed=%d, want 0 0 5", written, dropped, failed)
	}
	if st.calls != 3 {
		t.Fatalf("%d Append calls, want 3 attempts", st.calls)
	}
	last := hook.LastEntry()
	if last == nil || last.Level != logrus.ErrorLevel || last.Data["records"] != 5 {
		t.Fatalf("no error log for the lost batch: %+v", last)
	}
	t.Logf("3 attempts took %v", time.Since(start).Round(time.Millisecond))
}

// ctxStore holds each Append until released and fails it, as a database
// driver does, when its context is cancelled by then.
type ctxStore struct {
	memStore
	started chan struct{}
	release chan struct{}
}

func (s *ctxStore) Append(ctx context.Context, entries []models.AccessLogEntry) error {
	s.started <- struct{}{}
	<-s.release
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.memStore.Append(ctx, entries)
}

// TestWriterShutdownDuringAWriteLosesNothing cancels Run's context while a
// batch is being written (a graceful shutdown under load): that batch and
// the rest of the queue are still written.
func TestWriterShutdownDuringAWriteLosesNothing(t *testing.T) {
	st := &ctxStore{started: make(chan struct{}, 16), release: make(chan struct{})}
	w, _ := newTestWriter(st, 100, 10)
	w.interval = time.Hour
	for i := range 25 {
		w.Enqueue(entry(i))
	}
	ctx, cancel := context.WithCancel(context.Background())
	go w.Run(ctx)
	<-st.started // the first full batch is being written
	cancel()
	close(st.release)
	w.Wait()
	_, records := st.stored()
	checkOrder(t, records, 25)
	if written, _, failed := w.Stats(); written != 25 || failed != 0 {
		t.Fatalf("written %d, failed %d after a shutdown during a write; want 25, 0", written, failed)
	}
}

package credentials_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// Tenants and owners of the fixtures.
const (
	tenantA = "tenant-a"
	tenantB = "tenant-b"
	alice   = "557058:alice"
	bob     = "557058:bob"
)

// fakeClock is a settable clock, safe for concurrent use. It starts at the
// current time truncated to microseconds, which both engines keep exactly.
type fakeClock struct{ ns atomic.Int64 }

func newFakeClock() *fakeClock {
	c := &fakeClock{}
	c.ns.Store(time.Now().UTC().Truncate(time.Microsecond).UnixNano())
	return c
}

func (c *fakeClock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *fakeClock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

// countingStore wraps the real credential store, counts secret lookups and
// can fail ApplyUsage or hold FindBySecret after its read.
type countingStore struct {
	*store.Credentials
	finds atomic.Int64

	mu         sync.Mutex
	failUsage  int           // ApplyUsage calls still to fail
	afterFind  chan struct{} // when set, the next FindBySecret closes it after its read
	resumeFind chan struct{} // and then waits until this is closed
}

// holdNextFind makes the next FindBySecret stop after reading the database:
// read is closed when the read is done, and the lookup returns once resume
// is closed.
func (s *countingStore) holdNextFind() (read <-chan struct{}, resume chan<- struct{}) {
	r, c := make(chan struct{}), make(chan struct{})
	s.mu.Lock()
	s.afterFind, s.resumeFind = r, c
	s.mu.Unlock()
	return r, c
}

func (s *countingStore) FindBySecret(ctx context.Context, hash []byte) (*store.SecretMatch, error) {
	s.finds.Add(1)
	m, err := s.Credentials.FindBySecret(ctx, hash)
	s.mu.Lock()
	after, resume := s.afterFind, s.resumeFind
	s.afterFind, s.resumeFind = nil, nil
	s.mu.Unlock()
	if after != nil {
		close(after)
		<-resume
	}
	return m, err
}

var errInjected = errors.New("injected store failure")

func (s *countingStore) ApplyUsage(ctx context.Context, batch []models.Usage) error {
	s.mu.Lock()
	fail := s.failUsage > 0
	if fail {
		s.failUsage--
	}
	s.mu.Unlock()
	if fail {
		return errInjected
	}
	return s.Credentials.ApplyUsage(ctx, batch)
}

// failingAuditor records through the real audit store but fails the n-th
// event (1-based), to prove that a change and its audit rows commit or roll
// back together.
type failingAuditor struct {
	inner  credentials.Auditor
	failAt int
	n      int
}

func (a *failingAuditor) Record(ctx context.Context, e models.AuditEvent) error {
	a.n++
	if a.n == a.failAt {
		return errInjected
	}
	return a.inner.Record(ctx, e)
}

// env is a service and verifier on a real database with two tenants.
type env struct {
	db    *store.DB
	creds *countingStore
	svc   *credentials.Service
	ver   *credentials.Verifier
	clock *fakeClock
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	e := &env{db: db, creds: &countingStore{Credentials: store.NewCredentials(db)}, clock: newFakeClock()}
	for _, id := range []string{tenantA, tenantB} {
		now := e.clock.Now()
		if err := store.NewTenants(db).Create(context.Background(), &models.Tenant{ID: id, State: models.TenantInstalled, CreatedAt: now, UpdatedAt: now}); err != nil {
			t.Fatalf("create tenant %s: %v", id, err)
		}
	}
	e.ver = credentials.NewVerifier(e.creds, quietLog())
	e.ver.SetClock(e.clock.Now)
	e.svc = credentials.NewService(e.creds, store.NewAudit(db), db, e.ver, quietLog())
	e.svc.SetClock(e.clock.Now)
	return e
}

func owner(tenant, account string) credentials.Owner {
	return credentials.Owner{TenantID: tenant, AccountID: account, MaxLifetimeDays: 365}
}

func intp(n int) *int { return &n }

// create issues a key or fails the test.
func (e *env) create(t testing.TB, o credentials.Owner, name string, scopes ...string) *credentials.IssuedKey {
	t.Helper()
	in := credentials.CreateKeyInput{Name: name, Scopes: scopes}
	if len(scopes) == 0 {
		in.Access = credentials.AccessFull
	}
	k, err := e.svc.CreateKey(context.Background(), o, in)
	if err != nil {
		t.Fatalf("CreateKey(%s): %v", name, err)
	}
	return k
}

func (e *env) verify(secret, method, path string) credentials.Result {
	return e.ver.Verify(context.Background(), credentials.VerifyRequest{Secret: secret, Method: method, Path: path, IP: "203.0.113.9", UserAgent: "tempo-rs/1"})
}

// wantRefused fails unless r is a refusal with the reason.
func wantRefused(t testing.TB, what string, r credentials.Result, reason string) {
	t.Helper()
	if r.Active || r.Reason != reason {
		t.Fatalf("%s: active=%v reason=%q, want refused with %q", what, r.Active, r.Reason, reason)
	}
}

func wantActive(t testing.TB, what string, r credentials.Result) {
	t.Helper()
	if !r.Active || r.Reason != "" {
		t.Fatalf("%s: active=%v reason=%q, want active", what, r.Active, r.Reason)
	}
}

// rowCounts counts the rows of the tables a key change touches.
func rowCounts(t testing.TB, db *store.DB) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, table := range []string{"credentials", "credential_secrets", "audit_events"} {
		var n int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

func countAudit(t testing.TB, db *store.DB, action string) int {
	t.Helper()
	var n int
	if err := db.SQL().QueryRow(rebind(db, "SELECT COUNT(*) FROM audit_events WHERE action = ?"), action).Scan(&n); err != nil {
		t.Fatalf("count audit events: %v", err)
	}
	return n
}

// rebind turns ? placeholders into $n for PostgreSQL.
func rebind(db *store.DB, q string) string {
	if !db.IsPostgres() {
		return q
	}
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			fmt.Fprintf(&b, "$%d", n)
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func exec(t testing.TB, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.SQL().Exec(rebind(db, q), args...); err != nil {
		t.Fatalf("exec %q: %v", q, err)
	}
}

// addUser inserts a users row for an owner.
func addUser(t testing.TB, db *store.DB, tenant, account string, active, deleted bool) {
	t.Helper()
	exec(t, db, "INSERT INTO users (tenant_id, account_id, active, deleted, updated_at) VALUES (?, ?, ?, ?, ?)", tenant, account, active, deleted, time.Now().UTC())
}

// findInTables returns "table.column" for every value in the tables that
// holds needle (as text or bytes).
func findInTables(t testing.TB, db *store.DB, needle string, tables ...string) []string {
	t.Helper()
	var hits []string
	for _, table := range tables {
		rows, err := db.SQL().Query("SELECT * FROM " + table)
		if err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		n := 0
		for rows.Next() {
			n++
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("scan %s: %v", table, err)
			}
			for i, v := range vals {
				if strings.Contains(string(v), needle) {
					hits = append(hits, table+"."+cols[i])
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("scan %s: %v", table, err)
		}
		rows.Close()
		if n == 0 {
			t.Errorf("scan %s: no rows, nothing proven", table)
		}
	}
	return hits
}

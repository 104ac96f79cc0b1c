package offboard_test

import (
	"context"
	"encoding/json"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

const (
	alice = "5b10ac8d82e05b22cc7d4ef5" // the account in the sample payloads
	bob   = "5c2e1f0a93a4b7001234abcd"
	carol = "557058:carol"
)

// clock is a settable clock for the service.
type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UTC().Truncate(time.Microsecond).UnixNano())
	return c
}

func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// site is an environment with one Connect site and its fake Jira.
type site struct {
	*offboardtest.Env
	t     *testing.T
	jira  *offboardtest.FakeJira
	site  *models.Tenant
	clock *clock
}

func newSite(t *testing.T, db *store.DB, o offboard.Options) *site {
	t.Helper()
	env := offboardtest.NewEnv(t, db, o)
	fj := offboardtest.NewFakeJira(t)
	s := &site{Env: env, t: t, jira: fj, site: env.ConnectSite(t, "client-a", fj), clock: newClock()}
	s.Svc.SetClock(s.clock.Now)
	return s
}

func forEachDialect(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	storetest.ForEachDialect(t, fn)
}

// sample reads a payload from testdata as a generic object.
func sample(t *testing.T, name string) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// updated is a user_updated webhook body (the sample's shape) for account.
func updated(t *testing.T, account string, active bool, ts int64) []byte {
	t.Helper()
	v := sample(t, "jira_user_updated_deactivated.json")
	u := v["user"].(map[string]any)
	u["accountId"], u["active"] = account, active
	v["timestamp"] = ts
	return mustJSON(t, v)
}

// deleted is a user_deleted webhook body for account.
func deleted(t *testing.T, account string, ts int64) []byte {
	t.Helper()
	v := sample(t, "jira_user_deleted.json")
	v["user"].(map[string]any)["accountId"] = account
	v["timestamp"] = ts
	return mustJSON(t, v)
}

// ingest stores a Connect delivery and fails the test on error.
func (s *site) ingest(tenantID, identifier string, body []byte) (*models.WebhookEvent, bool) {
	s.t.Helper()
	ev, dup, err := s.Svc.Ingest(context.Background(), offboard.Delivery{TenantID: tenantID, Source: offboard.SourceConnect, Identifier: identifier, Body: body})
	if err != nil {
		s.t.Fatalf("ingest: %v", err)
	}
	return ev, dup
}

// drain processes due events until none is left.
func (s *site) drain() int {
	s.t.Helper()
	total := 0
	for {
		n, err := s.Svc.ProcessDue(context.Background(), "test-worker")
		if err != nil {
			s.t.Fatalf("process: %v", err)
		}
		if n == 0 {
			return total
		}
		total += n
	}
}

func (s *site) event(tenantID string, id int64) *models.WebhookEvent {
	s.t.Helper()
	ev, err := s.Events.Get(context.Background(), tenantID, id)
	if err != nil {
		s.t.Fatalf("event %d: %v", id, err)
	}
	return ev
}

func (s *site) user(tenantID, account string) *models.User {
	s.t.Helper()
	u, err := s.Users.Get(context.Background(), tenantID, account)
	if err != nil {
		s.t.Fatalf("user %s: %v", account, err)
	}
	return u
}

func (s *site) setSettings(in offboard.SettingsInput) {
	s.t.Helper()
	if _, err := s.Svc.UpdateSettings(context.Background(), s.site.ID, "admin-1", in); err != nil {
		s.t.Fatalf("settings: %v", err)
	}
}

func wantRefused(t *testing.T, what string, r credentials.Result, reason string) {
	t.Helper()
	if r.Active || r.Reason != reason {
		t.Fatalf("%s: active=%v reason=%q, want refused with %q", what, r.Active, r.Reason, reason)
	}
}

func wantActive(t *testing.T, what string, r credentials.Result) {
	t.Helper()
	if !r.Active {
		t.Fatalf("%s: refused with %q, want active", what, r.Reason)
	}
}

func ptr[T any](v T) *T { return &v }

package jira_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store/storetest"
)

// Retry-After longer than the client's backoff cap is honoured: Jira asks
// for 10 s, the retry comes no sooner.
func TestAttackRegression_RetryAfterIsCapped(t *testing.T) {
	env := offboardtest.NewEnv(t, storetest.Open(t, storetest.SQLite), offboard.Options{})
	fj := offboardtest.NewFakeJira(t)
	site := env.ConnectSite(t, "client-a", fj)
	var mu sync.Mutex
	var at []time.Time
	orig := fj.Config.Handler
	fj.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		at = append(at, time.Now())
		n := len(at)
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "10")
			w.WriteHeader(429)
			return
		}
		orig.ServeHTTP(w, r)
	})
	c := env.Jira
	c.SetRetryPolicy(3, time.Second)
	_, err := c.BulkUsers(context.Background(), site, []string{"a"})
	mu.Lock()
	defer mu.Unlock()
	if len(at) < 2 {
		t.Fatalf("calls %d err %v", len(at), err)
	}
	if gap := at[1].Sub(at[0]); gap < 10*time.Second {
		t.Errorf("Retry-After 10s not honoured; retried after %s", gap.Round(time.Millisecond))
	}
}

package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestAttackRegression_InstallKeyBudgetStarvedByAttacker: the install-key
// fetch budget is process-wide and spent by any unauthenticated request
// with a fresh kid. With a burst of 3 and one fetch per 10 s, one made-up
// kid a second kept it empty, and a genuine signed install whose kid was
// not cached yet (after a restart, or Atlassian rotated its key) was
// refused for as long as the attacker went on. At that rate the budget
// now never runs out.
func TestAttackRegression_InstallKeyBudgetStarvedByAttacker(t *testing.T) {
	k := testKey(t, 0)
	ks := newKeyServer(t, map[string][]byte{"rotated": publicPEM(t, k)})
	f := NewInstallKeyFetcher(ks.URL, ks.Client())
	clock := testNow
	f.now = func() time.Time { return clock }
	ctx := context.Background()
	refused, tries := 0, 0
	for sec := range 600 { // ten minutes
		_, _ = f.Key(ctx, fmt.Sprintf("attacker-%d", sec)) // 1 req/s, unauthenticated
		if sec%30 == 15 {                                  // a genuine install every 30 s
			tries++
			if _, err := f.Key(ctx, "rotated"); err != nil {
				refused++
			}
		}
		clock = clock.Add(time.Second)
	}
	if refused > 0 {
		t.Errorf("an attacker at 1 request/s blocked %d of %d genuine installs with a new kid", refused, tries)
	}
	if n := ks.hitsFor("rotated"); n != 1 {
		t.Errorf("the genuine kid was fetched %d times, want once", n)
	}
}

// TestAttackRegression_InstallKeyBudgetSpentIsBusy: an attacker who does
// spend the whole budget (a flood of made-up kids) gets the genuine kid
// refused with ErrKeyFetchBusy, never ErrUnknownKey or any token failure,
// through the verifier too; the refusal is not remembered, and once the
// flood stops the genuine install goes through within KeyFetchRetryAfter.
func TestAttackRegression_InstallKeyBudgetSpentIsBusy(t *testing.T) {
	k := testKey(t, 0)
	ks := newKeyServer(t, map[string][]byte{"rotated": publicPEM(t, k)})
	f := NewInstallKeyFetcher(ks.URL, ks.Client())
	clock := testNow
	f.now = func() time.Time { return clock }
	ctx := context.Background()
	for i := range 5 * installKeyFetchBurst {
		_, _ = f.Key(ctx, fmt.Sprintf("flood-%d", i))
	}
	v := &InstallVerifier{Keys: f, BaseURL: testAppBaseURL, Now: func() time.Time { return clock }}
	token := signRS(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": "rotated"}, installClaims(), k)
	_, err := v.Verify(ctx, token, testClientKey, "POST", "/installed")
	if !errors.Is(err, ErrKeyFetchBusy) {
		t.Fatalf("genuine install with the budget spent: %v, want ErrKeyFetchBusy", err)
	}
	for _, other := range []error{ErrUnknownKey, ErrSignature, ErrClaims, ErrMalformed, ErrExpired, ErrQSH} {
		if errors.Is(err, other) {
			t.Fatalf("busy refusal %v also reads as %v", err, other)
		}
	}
	if n := ks.hitsFor("rotated"); n != 0 {
		t.Fatalf("refused kid reached the key server %d times", n)
	}
	// Not remembered as a miss: a retry after the announced wait works.
	clock = clock.Add(KeyFetchRetryAfter)
	if _, err := v.Verify(ctx, token, testClientKey, "POST", "/installed"); err != nil {
		t.Fatalf("retry after KeyFetchRetryAfter: %v", err)
	}
	// Unknown kids stay in the negative cache and cost no budget again.
	before := ks.hitsFor("flood-0")
	for range 10 {
		if _, err := f.Key(ctx, "flood-0"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("cached unknown kid: %v, want ErrUnknownKey", err)
		}
	}
	if n := ks.hitsFor("flood-0"); n != before {
		t.Fatalf("a cached unknown kid was fetched again (%d -> %d)", before, n)
	}
	// KeyFetchRetryAfter covers a full refill of the burst.
	if refill := time.Duration(installKeyFetchBurst) * installKeyFetchEvery; KeyFetchRetryAfter < refill {
		t.Fatalf("KeyFetchRetryAfter %v is shorter than a full refill %v", KeyFetchRetryAfter, refill)
	}
}

// TestAttackRegression_InstallKeyFetchesInFlightBounded: at most
// maxInstallKeyFetches fetches run at once, whatever the budget; one more
// uncached kid is ErrKeyFetchBusy at once, spends no budget and reaches no
// server, and is fetched once the others end.
func TestAttackRegression_InstallKeyFetchesInFlightBounded(t *testing.T) {
	k := testKey(t, 0)
	pemBytes := publicPEM(t, k)
	var hits, maxSeen, current atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		n := current.Add(1)
		defer current.Add(-1)
		for {
			m := maxSeen.Load()
			if n <= m || maxSeen.CompareAndSwap(m, n) {
				break
			}
		}
		if r.URL.Path != "/late" {
			<-release
		}
		_, _ = w.Write(pemBytes)
	}))
	defer srv.Close()
	f := NewInstallKeyFetcher(srv.URL, srv.Client())
	var wg sync.WaitGroup
	for i := range maxInstallKeyFetches {
		wg.Go(func() {
			if _, err := f.Key(context.Background(), fmt.Sprintf("slow-%d", i)); err != nil {
				t.Errorf("slow-%d: %v", i, err)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for hits.Load() < maxInstallKeyFetches {
		if time.Now().After(deadline) {
			t.Fatalf("only %d fetches started", hits.Load())
		}
		time.Sleep(time.Millisecond)
	}
	_, err := f.Key(context.Background(), "late")
	if !errors.Is(err, ErrKeyFetchBusy) || !errors.Is(err, errInstallKeyInFlight) {
		t.Fatalf("fetch beyond %d in flight: %v, want ErrKeyFetchBusy (in flight)", maxInstallKeyFetches, err)
	}
	if n := hits.Load(); n != maxInstallKeyFetches {
		t.Fatalf("%d fetches reached the server, want %d", n, maxInstallKeyFetches)
	}
	close(release)
	wg.Wait()
	if _, err := f.Key(context.Background(), "late"); err != nil {
		t.Fatalf("late kid once the others ended: %v", err)
	}
	if m := maxSeen.Load(); m > maxInstallKeyFetches {
		t.Fatalf("%d fetches ran at once, bound %d", m, maxInstallKeyFetches)
	}
	f.cache.mu.Lock()
	defer f.cache.mu.Unlock()
	if f.cache.inFlight != 0 {
		t.Fatalf("%d fetches still counted in flight", f.cache.inFlight)
	}
}

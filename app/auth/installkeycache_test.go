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

// TestInstallKeyFetchBudget: kids never seen before are fetched at once up
// to the burst, then at most one per installKeyFetchEvery; a refused fetch
// is ErrKeyFetchBusy, not remembered as a miss, so the kid is fetched when
// budget is back.
func TestInstallKeyFetchBudget(t *testing.T) {
	k := testKey(t, 0)
	ks := newKeyServer(t, map[string][]byte{"rotated": publicPEM(t, k)})
	f := NewInstallKeyFetcher(ks.URL, ks.Client())
	clock := testNow
	f.now = func() time.Time { return clock }
	ctx := context.Background()
	for i := range 3 * installKeyFetchBurst {
		_, _ = f.Key(ctx, fmt.Sprintf("random-%d", i))
	}
	total := func() int {
		ks.mu.Lock()
		defer ks.mu.Unlock()
		n := 0
		for _, h := range ks.hits {
			n += h
		}
		return n
	}
	if n := total(); n != installKeyFetchBurst {
		t.Fatalf("%d random kids caused %d fetches, want %d", 3*installKeyFetchBurst, n, installKeyFetchBurst)
	}
	_, err := f.Key(ctx, "rotated")
	if !errors.Is(err, ErrKeyFetchBusy) || !errors.Is(err, errInstallKeyBudget) || errors.Is(err, ErrUnknownKey) {
		t.Fatalf("fetch beyond the budget: %v, want ErrKeyFetchBusy (budget)", err)
	}
	clock = clock.Add(installKeyFetchEvery)
	if _, err := f.Key(ctx, "rotated"); err != nil {
		t.Fatalf("rotated kid once budget is back: %v", err)
	}
	// A cached key costs no budget.
	for range 10 {
		if _, err := f.Key(ctx, "rotated"); err != nil {
			t.Fatal(err)
		}
	}
	if n := ks.hitsFor("rotated"); n != 1 {
		t.Fatalf("rotated kid fetched %d times, want 1", n)
	}
}

// TestInstallKeyOneFetchPerKid: parallel requests for one uncached kid
// share one fetch, and a caller that gives up does not end it for the
// others.
func TestInstallKeyOneFetchPerKid(t *testing.T) {
	k := testKey(t, 0)
	pemBytes := publicPEM(t, k)
	var hits atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		<-release
		_, _ = w.Write(pemBytes)
	}))
	defer srv.Close()
	f := NewInstallKeyFetcher(srv.URL, srv.Client())

	impatient, cancel := context.WithCancel(context.Background())
	impatientErr := make(chan error, 1)
	go func() {
		_, err := f.Key(impatient, "kid-1")
		impatientErr <- err
	}()
	var wg sync.WaitGroup
	var failures atomic.Int32
	for range 8 {
		wg.Go(func() {
			if _, err := f.Key(context.Background(), "kid-1"); err != nil {
				failures.Add(1)
			}
		})
	}
	for hits.Load() == 0 {
		time.Sleep(time.Millisecond) // wait for the fetch to start
	}
	cancel()
	if err := <-impatientErr; !errors.Is(err, context.Canceled) {
		t.Errorf("canceled caller: %v, want context.Canceled", err)
	}
	close(release)
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d callers failed", failures.Load())
	}
	if n := hits.Load(); n != 1 {
		t.Fatalf("%d fetches for one kid, want 1", n)
	}
}

// TestInstallKeyCacheBounded: the key and miss maps never grow past their
// bounds, and a transient failure is remembered for a shorter time than an
// unknown kid.
func TestInstallKeyCacheBounded(t *testing.T) {
	var c installKeyCache
	key := &testKey(t, 0).PublicKey
	for i := range 3 * maxInstallKeys {
		c.putKey(fmt.Sprintf("k-%d", i), key)
	}
	if len(c.keys) > maxInstallKeys {
		t.Errorf("%d keys cached, bound %d", len(c.keys), maxInstallKeys)
	}
	for i := range 3 * maxInstallKeyMisses {
		c.putMiss(fmt.Sprintf("m-%d", i), ErrUnknownKey, testNow)
	}
	if len(c.misses) > maxInstallKeyMisses {
		t.Errorf("%d misses cached, bound %d", len(c.misses), maxInstallKeyMisses)
	}
	c.putMiss("down", errors.New("status 503"), testNow)
	if _, cached, _ := c.lookup("down", testNow.Add(installKeyErrorTTL)); cached {
		t.Error("a transient failure outlived installKeyErrorTTL")
	}
	c.putMiss("gone", ErrUnknownKey, testNow)
	if _, cached, err := c.lookup("gone", testNow.Add(installKeyErrorTTL)); !cached || !errors.Is(err, ErrUnknownKey) {
		t.Errorf("unknown kid inside installKeyMissTTL: cached %v, %v", cached, err)
	}
	if _, cached, _ := c.lookup("gone", testNow.Add(installKeyMissTTL)); cached {
		t.Error("an unknown kid outlived installKeyMissTTL")
	}
}

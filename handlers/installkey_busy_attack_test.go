package handlers_test

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/models"
)

// TestAttackRegression_HTTPInstallWithRotatedKidStarved: three
// unauthenticated /lifecycle/installed posts with made-up kids once spent
// the process-wide fetch budget, and the genuine install signed with a key
// not cached yet (Atlassian rotated it, or the process restarted) was 401.
func TestAttackRegression_HTTPInstallWithRotatedKidStarved(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.SQLite))
	e.keys.add(t, "kid-rotated", rsaKey(t, 1))
	for i := range 3 {
		p := installPayload(t, fmt.Sprintf("junk-%d", i), "s3cret-s3cret-s3cret-s3cret-s3cret")
		wantUnauthorized(t, fmt.Sprintf("made-up kid %d", i), e.install(p, fmt.Sprintf("made-up-%d", i), rsaKey(t, 2)))
	}
	p := installPayload(t, "real-site", "real-secret-real-secret-real-secret-1")
	if rec := e.install(p, "kid-rotated", rsaKey(t, 1)); rec.Code != http.StatusNoContent {
		t.Fatalf("genuine signed install after 3 made-up kids: %d %s", rec.Code, rec.Body)
	}
}

// TestAttackRegression_HTTPInstallKeyFloodIs503: a flood of made-up kids
// that does spend the budget gets 401 while it lasts and then 503 with
// Retry-After, never a pass. Tokens whose key is cached, or that fail
// before any key is needed, keep the generic 401, and a genuine install
// with a cached kid still goes through.
func TestAttackRegression_HTTPInstallKeyFloodIs503(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.SQLite))
	e.installOK(installPayload(t, "site-a", "site-a-secret-site-a-secret-site-a-1")) // caches kid-1
	busy := 0
	for i := range 100 {
		rec := e.install(installPayload(t, fmt.Sprintf("junk-%d", i), "s3cret-s3cret-s3cret-s3cret-s3cret"), fmt.Sprintf("made-up-%d", i), rsaKey(t, 2))
		if rec.Code == http.StatusServiceUnavailable {
			wantBusy(t, fmt.Sprintf("made-up kid %d", i), rec)
			busy++
			continue
		}
		wantUnauthorized(t, fmt.Sprintf("made-up kid %d", i), rec)
	}
	if busy == 0 {
		t.Fatal("100 made-up kids in a burst never met the fetch budget")
	}
	p := installPayload(t, "site-b", "site-b-secret-site-b-secret-site-b-1")
	wantUnauthorized(t, "cached kid, wrong signing key", e.install(p, "kid-1", rsaKey(t, 2)))
	wantUnauthorized(t, "malformed token", e.do(http.MethodPost, "/lifecycle/installed", mustJSON(t, p), jwtHeader("not.a.jwt")...))
	wantUnauthorized(t, "no token", e.do(http.MethodPost, "/lifecycle/installed", mustJSON(t, p)))
	if _, err := e.tenants.ByClientKey(context.Background(), "site-b"); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("site-b after refused installs: %v, want not found", err)
	}
	e.installOK(p)
}

// busyKeys is an install key source that refuses with auth.ErrKeyFetchBusy
// while busy is set, and otherwise asks the real fetcher.
type busyKeys struct {
	busy atomic.Bool
	real auth.InstallKeySource
}

func (b *busyKeys) Key(ctx context.Context, kid string) (*rsa.PublicKey, error) {
	if b.busy.Load() {
		return nil, fmt.Errorf("install key %q: budget spent: %w", kid, auth.ErrKeyFetchBusy)
	}
	return b.real.Key(ctx, kid)
}

// TestAttackRegression_HTTPInstallKeyBusyIsRetryable: a genuine signed
// install or uninstall whose key may not be fetched now is 503 with
// Retry-After and changes nothing; the retry goes through.
func TestAttackRegression_HTTPInstallKeyBusyIsRetryable(t *testing.T) {
	e := newEnv(t, storetest.Open(t, storetest.SQLite))
	keys := &busyKeys{real: auth.NewInstallKeyFetcher(e.keys.URL, &http.Client{Timeout: 5 * time.Second})}
	l := logrus.New()
	l.SetOutput(e.logs)
	l.SetFormatter(&logrus.JSONFormatter{})
	e.e = handlers.New(handlers.Deps{
		Log: logrus.NewEntry(l), BaseURL: appBaseURL, BodyLimit: "16K", JWTLeeway: 10 * time.Second,
		DB: e.db, Tenants: e.svc, Lifecycle: e.svc,
		Install: &auth.InstallVerifier{Keys: keys, BaseURL: appBaseURL, Leeway: 10 * time.Second},
	})
	const clientKey = "site-busy"
	p := installPayload(t, clientKey, "busy-secret-busy-secret-busy-secret-1")

	keys.busy.Store(true)
	wantBusy(t, "install while busy", e.install(p, "kid-1", rsaKey(t, 0)))
	if _, err := e.tenants.ByClientKey(context.Background(), clientKey); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("tenant after a busy install: %v, want not found", err)
	}
	keys.busy.Store(false)
	e.installOK(p)

	uninstall := func() *httptest.ResponseRecorder {
		tok := installToken(t, "kid-1", rsaKey(t, 0), clientKey, "/lifecycle/uninstalled", nil)
		return e.do(http.MethodPost, "/lifecycle/uninstalled", mustJSON(t, p), jwtHeader(tok)...)
	}
	keys.busy.Store(true)
	wantBusy(t, "uninstall while busy", uninstall())
	if st := e.state(clientKey); st != models.TenantInstalled {
		t.Fatalf("state after a busy uninstall: %s, want %s", st, models.TenantInstalled)
	}
	// Still the generic 401 for a token that fails before any key is asked.
	wantUnauthorized(t, "malformed token while busy", e.do(http.MethodPost, "/lifecycle/uninstalled", mustJSON(t, p), jwtHeader("x.y.z")...))
	keys.busy.Store(false)
	if rec := uninstall(); rec.Code != http.StatusNoContent {
		t.Fatalf("uninstall retried: %d %s", rec.Code, rec.Body)
	}
}

// wantBusy checks the temporary refusal: 503 "unavailable" with a
// Retry-After of auth.KeyFetchRetryAfter.
func wantBusy(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	wantError(t, what, rec, http.StatusServiceUnavailable, "unavailable")
	if got, want := rec.Header().Get("Retry-After"), fmt.Sprint(int(auth.KeyFetchRetryAfter/time.Second)); got != want {
		t.Errorf("%s: Retry-After %q, want %q", what, got, want)
	}
}

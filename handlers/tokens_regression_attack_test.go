package handlers_test

// Regression tests for the security review (second round): FIT replay and
// unauthenticated install-key fetches.

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/handlers"
)

// TestAttackRegression_FITReplay: the same Forge Invocation Token (same
// jti) presented twice is refused the second time, on every FIT route.
func TestAttackRegression_FITReplay(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		tok := fitToken(t, "fit-1", rsaKey(t, 0), map[string]any{"jti": "review-jti-1"})
		first := e.do(http.MethodPost, "/forge/ui/whoami", nil, bearerHeader(tok)...)
		if first.Code != http.StatusOK {
			t.Fatalf("first use: %d %s", first.Code, first.Body)
		}
		wantError(t, "replay on the same route", e.do(http.MethodPost, "/forge/ui/whoami", nil, bearerHeader(tok)...), http.StatusUnauthorized, "unauthorized")
		wantError(t, "replay on the page API", e.do(http.MethodGet, "/api/me/v1/whoami", nil, bearerHeader(tok)...), http.StatusUnauthorized, "unauthorized")
		// A fresh token of the same installation still works.
		if rec := e.do(http.MethodPost, "/forge/ui/whoami", nil, bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), nil))...); rec.Code != http.StatusOK {
			t.Errorf("fresh token after a refused replay: %d %s", rec.Code, rec.Body)
		}
	})
}

// TestAttackRegression_UnknownInstallKidFetchedEveryTime: unauthenticated
// installs naming unknown kids (the same one again and again, or a new one
// each time) cause only a few outbound key fetches: the repeated kid one
// (negative cache), the new ones at most the fetch burst (20). Beyond the
// budget they are 503 with Retry-After, never a pass.
func TestAttackRegression_UnknownInstallKidFetchedEveryTime(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	l := logrus.New()
	l.SetOutput(io.Discard)
	db := storetest.Open(t, storetest.SQLite)
	key, _ := seal.GenerateKey()
	sealer, _ := seal.New(key)
	svc := tenants.NewService(store.NewTenants(db), sealer, store.NewAudit(db), db, logrus.NewEntry(l), 365)
	client := &http.Client{Timeout: 5 * time.Second}
	e := handlers.New(handlers.Deps{
		Log: logrus.NewEntry(l), BaseURL: appBaseURL, BodyLimit: "16K", JWTLeeway: 10 * time.Second, Descriptor: []byte(`{}`),
		DB: db, Tenants: svc, Lifecycle: svc,
		Install: &auth.InstallVerifier{Keys: auth.NewInstallKeyFetcher(srv.URL, client), BaseURL: appBaseURL, Leeway: 10 * time.Second},
	})
	body := mustJSON(t, installPayload(t, "victim-site", ""))
	const n = 50
	for i := range n {
		kid := "unknown-kid"
		if i%2 == 1 {
			kid = fmt.Sprintf("random-kid-%d", i)
		}
		tok := installToken(t, kid, rsaKey(t, 0), "victim-site", "/lifecycle/installed", nil)
		req := httptest.NewRequest(http.MethodPost, "/lifecycle/installed", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "JWT "+tok)
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusUnauthorized:
		case http.StatusServiceUnavailable: // fetch budget spent: temporary
			if rec.Header().Get("Retry-After") == "" {
				t.Fatalf("install %d: 503 without Retry-After", i)
			}
		default:
			t.Fatalf("install %d: %d", i, rec.Code)
		}
	}
	if h := hits.Load(); h > 1+20 {
		t.Errorf("%d unauthenticated install attempts caused %d outbound key fetches", n, h)
	}
}

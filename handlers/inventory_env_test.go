package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/devmode"
	"github.com/keyward/keyward/app/inventory"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/models"
)

// The second site of the admin tests: a Connect site with two admins whose
// admin status comes from a fake Jira.
const (
	invOtherKey    = "other-site"
	invOtherSecret = "other-site-shared-secret-0123456789"
	invAdminB      = "admin-b"
	invAdminB2     = "admin-b2"
	invUserB       = "user-b"
)

// invJira answers Jira's global permission check from a fixed set.
type invJira struct{ admins map[string]bool }

func (j invJira) HasGlobalPermission(_ context.Context, t *models.Tenant, accountID, _ string) (bool, error) {
	return j.admins[t.ID+"/"+accountID], nil
}

// invClock is the wall clock plus a settable offset.
type invClock struct{ offset atomic.Int64 }

func (c *invClock) Now() time.Time          { return time.Now().UTC().Add(time.Duration(c.offset.Load())) }
func (c *invClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// invEnv is the real router with the real admin services on a fresh
// database: the dev site (A, admin "dev-admin" through dev mode) and a
// second Connect site (B).
type invEnv struct {
	t        *testing.T
	e        *echo.Echo
	db       *store.DB
	dev      *devmode.Site
	a, b     string // tenant ids
	keys     *credentials.Service
	verifier *credentials.Verifier
	clock    *invClock
	sealKey  []byte
}

func forEachInvDialect(t *testing.T, fn func(t *testing.T, e *invEnv)) {
	t.Helper()
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newInvEnv(t, storetest.Open(t, d), true))
		})
	}
}

// newInvEnv builds the env; pass the sealing key of an earlier env on the
// same database to reopen its secrets.
func newInvEnv(t *testing.T, db *store.DB, devMode bool, sealKey ...[]byte) *invEnv {
	t.Helper()
	ctx := context.Background()
	var key []byte
	if len(sealKey) > 0 {
		key = sealKey[0]
	} else {
		var err error
		if key, err = seal.GenerateKey(); err != nil {
			t.Fatal(err)
		}
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	l := logrus.New()
	l.SetOutput(io.Discard)
	log := logrus.NewEntry(l)
	audit := store.NewAudit(db)
	tenantSvc := tenants.NewService(store.NewTenants(db), sealer, audit, db, log, 365)
	dev, err := devmode.Ensure(ctx, tenantSvc, store.NewSeed(db), "http://localhost:8080")
	if err != nil {
		t.Fatal(err)
	}
	b, err := tenantSvc.ConnectInstalled(ctx, tenants.InstallPayload{ClientKey: invOtherKey, SharedSecret: invOtherSecret, BaseURL: "https://other.atlassian.net"})
	if err != nil {
		t.Fatal(err)
	}
	admins := tenants.NewAdminChecker(invJira{admins: map[string]bool{b.ID + "/" + invAdminB: true, b.ID + "/" + invAdminB2: true}}, time.Minute)
	admins.SetDevAdmins(dev.TenantID, devmode.AdminAccountID)
	credStore := store.NewCredentials(db)
	verifier := credentials.NewVerifier(credStore, log)
	keys := credentials.NewService(credStore, audit, db, verifier, log)
	clock := &invClock{}
	inv := inventory.NewService(store.NewInventory(db), keys, verifier, audit, db, log)
	inv.SetClock(clock.Now)
	d := handlers.Deps{
		Log: log, BaseURL: appBaseURL, BodyLimit: "1M", JWTLeeway: 10 * time.Second,
		DB: db, Tenants: tenantSvc, Lifecycle: tenantSvc, Keys: keys, AccessLog: store.NewAccessLog(db), Lifetime: tenantSvc,
		Checker: verifier, Admins: admins, Inventory: inv,
	}
	if devMode {
		d.Dev = dev
	}
	return &invEnv{t: t, e: handlers.New(d), db: db, dev: dev, a: dev.TenantID, b: b.ID, keys: keys, verifier: verifier, clock: clock, sealKey: key}
}

// token returns an Authorization header value for an account: the dev
// site's accounts through dev mode's signer, site B's with its secret.
func (e *invEnv) token(who string) string {
	e.t.Helper()
	switch who {
	case "":
		return ""
	case devmode.AdminAccountID, devmode.UserAccountID:
		as := "admin"
		if who == devmode.UserAccountID {
			as = "user"
		}
		tok, _, err := e.dev.Token(as)
		if err != nil {
			e.t.Fatal(err)
		}
		return "JWT " + tok
	}
	return "JWT " + contextToken(e.t, invOtherKey, invOtherSecret, map[string]any{"sub": who})
}

// call sends one request as who ("" for none) and returns the recorder.
func (e *invEnv) call(who, method, target string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	var raw []byte
	if body != nil {
		raw = mustJSON(e.t, body)
	}
	var h []string
	if tok := e.token(who); tok != "" {
		h = []string{"Authorization", tok}
	}
	req := httptest.NewRequest(method, target, nil)
	if raw != nil {
		req = httptest.NewRequest(method, target, bytes.NewReader(raw))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	for i := 0; i+1 < len(h); i += 2 {
		req.Header.Set(h[i], h[i+1])
	}
	rec := httptest.NewRecorder()
	e.e.ServeHTTP(rec, req)
	return rec
}

// ok calls and requires status 200, decoding the JSON body into out.
func (e *invEnv) ok(who, method, target string, body, out any) {
	e.t.Helper()
	rec := e.call(who, method, target, body)
	if rec.Code != http.StatusOK {
		e.t.Fatalf("%s %s as %q: %d %s", method, target, who, rec.Code, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			e.t.Fatalf("%s %s: decode %s: %v", method, target, rec.Body, err)
		}
	}
}

// key creates an API key through the key service and returns it with its
// secret.
func (e *invEnv) key(tenant, owner, name string, scopes ...string) *credentials.IssuedKey {
	e.t.Helper()
	in := credentials.CreateKeyInput{Name: name, Access: credentials.AccessFull}
	if len(scopes) > 0 {
		in = credentials.CreateKeyInput{Name: name, Access: credentials.AccessCustom, Scopes: scopes}
	}
	k, err := e.keys.CreateKey(context.Background(), credentials.Owner{TenantID: tenant, AccountID: owner, MaxLifetimeDays: 365}, in)
	if err != nil {
		e.t.Fatal(err)
	}
	return k
}

// auditActions returns how many audit events of each action a tenant has.
func (e *invEnv) auditActions(tenant string) map[string]int {
	e.t.Helper()
	events, err := store.NewAudit(e.db).List(context.Background(), tenant, 0, 100000)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, ev := range events {
		out[ev.Action]++
	}
	return out
}

// adminCredential is the list item as a client decodes it.
type adminCredential struct {
	ID     string   `json:"id"`
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	Hint   string   `json:"hint"`
	Access string   `json:"access"`
	Scopes []string `json:"scopes"`
	Status string   `json:"status"`
	Owner  struct {
		AccountID   string  `json:"accountId"`
		DisplayName *string `json:"displayName"`
		Active      bool    `json:"active"`
	} `json:"owner"`
	CreatedAt    time.Time  `json:"createdAt"`
	ExpiresAt    *time.Time `json:"expiresAt"`
	LastUsedAt   *time.Time `json:"lastUsedAt"`
	RevokedAt    *time.Time `json:"revokedAt"`
	RevokedBy    *string    `json:"revokedBy"`
	RevokeReason *string    `json:"revokeReason"`
}

type adminPage struct {
	Items      []adminCredential `json:"items"`
	NextCursor *string           `json:"nextCursor"`
	Total      struct {
		Value int64 `json:"value"`
		Exact bool  `json:"exact"`
	} `json:"total"`
}

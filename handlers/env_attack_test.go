package handlers_test

// The environment of the security review's attack tests (*_attack_test.go):
// the real router wired like app/serve.go (tenants, keys, verifier with the
// access log writer, inventory, OAuth server and client admin, offboarding
// with its admin API and the job scheduler) on a fresh database, with two
// installed Connect sites A and B whose Jira is a fake.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/audit"
	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/inventory"
	"github.com/keyward/keyward/app/jira"
	"github.com/keyward/keyward/app/oauth"
	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/jobs"
	"github.com/keyward/keyward/models"
)

const (
	atkKeyA    = "attack-site-a"
	atkKeyB    = "attack-site-b"
	atkSecretA = "shared-secret-of-attack-site-a-0123456789"
	atkSecretB = "shared-secret-of-attack-site-b-0123456789"
	atkAdminA  = "557058:admin-a"
	atkAdminA2 = "557058:admin-a2"
	atkUserA   = "557058:user-a"
	atkAdminB  = "557058:admin-b"
	atkUserB   = "557058:user-b"
	atkRS      = "rs-token-attack-0123456789abcdef"
	atkRedir   = "https://app.example.com/callback"
)

// atkJira answers the admin permission check; fail makes it error.
type atkJira struct {
	admins map[string]bool // tenantID/accountID
	fail   atomic.Bool
}

func (j *atkJira) HasGlobalPermission(_ context.Context, t *models.Tenant, accountID, _ string) (bool, error) {
	if j.fail.Load() {
		return false, errors.New("jira is down")
	}
	return j.admins[t.ID+"/"+accountID], nil
}

type atkEnv struct {
	t         *testing.T
	e         *echo.Echo
	db        *store.DB
	logs      *syncBuffer
	a, b      *models.Tenant
	tenantSvc *tenants.Service
	keys      *credentials.Service
	verifier  *credentials.Verifier
	accessLog *audit.AccessLogWriter
	stopLog   context.CancelFunc
	oauth     *oauth.Service
	inv       *inventory.Service
	ob        *offboard.Service
	sched     *jobs.Scheduler
	jira      *atkJira
	fjA, fjB  *offboardtest.FakeJira
	clock     *invClock
}

func forEachAtk(t *testing.T, fn func(t *testing.T, e *atkEnv)) {
	t.Helper()
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newAtkEnv(t, storetest.Open(t, d)))
		})
	}
}

func newAtkEnv(t *testing.T, db *store.DB) *atkEnv {
	t.Helper()
	ctx := context.Background()
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	l := logrus.New()
	l.SetOutput(logs)
	l.SetLevel(logrus.DebugLevel)
	l.SetFormatter(&logrus.JSONFormatter{})
	log := logrus.NewEntry(l)

	e := &atkEnv{t: t, db: db, logs: logs, clock: &invClock{}}
	e.fjA, e.fjB = offboardtest.NewFakeJira(t), offboardtest.NewFakeJira(t)
	auditStore := store.NewAudit(db)
	e.tenantSvc = tenants.NewService(store.NewTenants(db), sealer, auditStore, db, log, 365)
	for _, s := range []struct {
		key, secret string
		fj          *offboardtest.FakeJira
		dst         **models.Tenant
	}{{atkKeyA, atkSecretA, e.fjA, &e.a}, {atkKeyB, atkSecretB, e.fjB, &e.b}} {
		tn, err := e.tenantSvc.ConnectInstalled(ctx, tenants.InstallPayload{
			Key: appKey, ClientKey: s.key, SharedSecret: s.secret, BaseURL: s.fj.URL, ProductType: "jira", EventType: "installed",
		})
		if err != nil {
			t.Fatal(err)
		}
		*s.dst = tn
	}
	e.jira = &atkJira{admins: map[string]bool{
		e.a.ID + "/" + atkAdminA: true, e.a.ID + "/" + atkAdminA2: true, e.b.ID + "/" + atkAdminB: true,
	}}
	admins := tenants.NewAdminChecker(e.jira, 0) // no caching: every call asks the fake

	credStore := store.NewCredentials(db)
	e.verifier = credentials.NewVerifier(credStore, log)
	e.keys = credentials.NewService(credStore, auditStore, db, e.verifier, log)
	accessLogStore := store.NewAccessLog(db)
	e.accessLog = audit.NewAccessLogWriter(accessLogStore, log, 4096)
	e.verifier.SetRecorder(e.accessLog)
	logCtx, stop := context.WithCancel(context.Background())
	e.stopLog = stop
	go e.accessLog.Run(logCtx)
	t.Cleanup(e.flushLog)

	e.inv = inventory.NewService(store.NewInventory(db), e.keys, e.verifier, auditStore, db, log)
	e.inv.SetClock(e.clock.Now)
	e.oauth = oauth.NewService(oauth.Config{Issuer: appBaseURL, Consent: oauth.ConsentPages{BaseURL: appBaseURL, AppKey: appKey}}, oauth.Deps{
		Store: store.NewOAuth(db), Credentials: credStore, Revoker: e.keys, Tenants: e.tenantSvc, Audit: auditStore, Tx: db, Log: log,
	})
	e.oauth.SetClock(e.clock.Now)
	e.ob = offboard.New(offboard.Deps{
		Events: store.NewWebhookEvents(db), Users: store.NewUsers(db), Settings: store.NewOffboardingSettings(db),
		Reports: store.NewReports(db), Revoker: e.keys, Jira: newAtkJiraClient(e.tenantSvc, log), Tenants: store.NewTenants(db),
		Audit: auditStore, Tx: db, Sealer: sealer, Log: log,
	}, offboard.Options{})
	e.sched, err = jobs.New(store.NewJobRuns(db), db, auditStore, db, log, jobs.ReconcileJob(e.ob, "*/15 * * * *"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.sched.Stop(context.Background()) })

	e.e = handlers.New(handlers.Deps{
		Log: log, BaseURL: appBaseURL, BodyLimit: "1M", JWTLeeway: 10 * time.Second, Descriptor: []byte(`{}`),
		DB: db, Tenants: e.tenantSvc, Lifecycle: e.tenantSvc,
		Keys: e.keys, AccessLog: accessLogStore, Lifetime: e.tenantSvc, Checker: e.verifier, VerifyTokens: []string{atkRS},
		Admins: admins, Inventory: e.inv, OAuth: e.oauth, OAuthClients: e.oauth,
		UserEvents: e.ob, Offboard: e.ob, Jobs: e.sched,
	})
	return e
}

// flushLog stops the access log writer and waits until everything queued
// is written (or lost). Later verifications are not recorded.
func (e *atkEnv) flushLog() {
	if e.stopLog == nil {
		return
	}
	e.stopLog()
	e.stopLog = nil
	e.accessLog.Wait()
}

// auth returns the Authorization header of a user of a site ("a" or "b").
func (e *atkEnv) auth(site, account string) string {
	e.t.Helper()
	switch site {
	case "a":
		return "JWT " + contextToken(e.t, atkKeyA, atkSecretA, map[string]any{"sub": account})
	case "b":
		return "JWT " + contextToken(e.t, atkKeyB, atkSecretB, map[string]any{"sub": account})
	}
	return ""
}

// req sends one request. body is nil, []byte (raw JSON), string (raw
// JSON), url.Values (a form) or anything else (marshalled as JSON).
func (e *atkEnv) req(method, target, authz string, body any, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case []byte:
		rd, ct = bytes.NewReader(b), echo.MIMEApplicationJSON
	case string:
		rd, ct = strings.NewReader(b), echo.MIMEApplicationJSON
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), echo.MIMEApplicationForm
	default:
		rd, ct = bytes.NewReader(mustJSON(e.t, b)), echo.MIMEApplicationJSON
	}
	r := httptest.NewRequest(method, target, rd)
	if ct != "" {
		r.Header.Set(echo.HeaderContentType, ct)
	}
	if authz != "" {
		r.Header.Set(echo.HeaderAuthorization, authz)
	}
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.e.ServeHTTP(rec, r)
	return rec
}

// as calls as a user of a site.
func (e *atkEnv) as(site, account, method, target string, body any) *httptest.ResponseRecorder {
	e.t.Helper()
	return e.req(method, target, e.auth(site, account), body)
}

func (e *atkEnv) mustOK(rec *httptest.ResponseRecorder, what string, status int, out any) {
	e.t.Helper()
	if rec.Code != status {
		e.t.Fatalf("%s: %d %s", what, rec.Code, rec.Body)
	}
	if out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			e.t.Fatalf("%s: decode %s: %v", what, rec.Body, err)
		}
	}
}

type atkIssued struct {
	Key struct {
		ID   string `json:"id"`
		Hint string `json:"hint"`
	} `json:"key"`
	Secret string `json:"secret"`
}

// createKey creates an API key through the self-service API.
func (e *atkEnv) createKey(site, account string, body map[string]any) atkIssued {
	e.t.Helper()
	if body == nil {
		body = map[string]any{"name": "key of " + account, "access": "full"}
	}
	var k atkIssued
	e.mustOK(e.as(site, account, http.MethodPost, "/api/me/v1/keys", body), "create key", http.StatusCreated, &k)
	return k
}

// verify asks /v1/verify as the resource server and returns the decoded
// answer.
func (e *atkEnv) verify(credential, method, path string) map[string]any {
	e.t.Helper()
	return e.verifyFull(map[string]any{"credential": credential, "method": method, "path": path, "ip": "203.0.113.7", "userAgent": "attack/1"})
}

func (e *atkEnv) verifyFull(body map[string]any) map[string]any {
	e.t.Helper()
	rec := e.req(http.MethodPost, "/v1/verify", "Bearer "+atkRS, body)
	if rec.Code == http.StatusBadRequest {
		// Refused as bad input (e.g. control characters in the path, an ip
		// that is not an address): nothing was allowed.
		return map[string]any{"active": false, "status": float64(rec.Code)}
	}
	if rec.Code != http.StatusOK {
		e.t.Fatalf("verify: %d %s", rec.Code, rec.Body)
	}
	var out map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// count runs SELECT COUNT(*) FROM table.
func (e *atkEnv) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
		e.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// atkTables are the tables whose row counts show whether a request changed
// anything.
var atkTables = []string{"tenants", "users", "credentials", "credential_secrets", "audit_events", "oauth_clients", "oauth_requests",
	"oauth_refresh_tokens", "admin_confirmations", "webhook_events", "offboarding_settings", "job_runs", "reports"}

func (e *atkEnv) rowCounts() map[string]int {
	e.t.Helper()
	out := map[string]int{}
	for _, tb := range atkTables {
		out[tb] = e.count(tb)
	}
	return out
}

// --- OAuth helpers --------------------------------------------------------

// registerClient registers an OAuth client as site A's admin.
func (e *atkEnv) registerClient(body map[string]any) (id, secret string) {
	e.t.Helper()
	if _, ok := body["name"]; !ok {
		body["name"] = "Timesheet sync"
	}
	if _, ok := body["redirectUris"]; !ok {
		body["redirectUris"] = []string{atkRedir}
	}
	if _, ok := body["allowedScopes"]; !ok {
		body["allowedScopes"] = []string{"worklogs:manage", "teams:view"}
	}
	var out struct {
		Client struct {
			ID string `json:"id"`
		} `json:"client"`
		ClientSecret string `json:"clientSecret"`
	}
	e.mustOK(e.as("a", atkAdminA, http.MethodPost, "/api/admin/v1/oauth/clients", body), "register client", http.StatusCreated, &out)
	return out.Client.ID, out.ClientSecret
}

// authorizeRequest sends /oauth/authorize and returns the consent request id.
func (e *atkEnv) authorizeRequest(q url.Values) string {
	e.t.Helper()
	rec := e.req(http.MethodGet, "/oauth/authorize?"+q.Encode(), "", nil)
	if rec.Code != http.StatusFound {
		e.t.Fatalf("authorize: %d %s", rec.Code, rec.Body)
	}
	loc, err := url.Parse(rec.Header().Get("Location"))
	if err != nil || loc.Query().Get("ac.request") == "" {
		e.t.Fatalf("authorize went to %q, want the consent page", rec.Header().Get("Location"))
	}
	return loc.Query().Get("ac.request")
}

// code runs authorize and consent as user of site A and returns the code.
func (e *atkEnv) code(clientID, scope, verifier string) string {
	e.t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {atkRedir}, "state": {"st-1"}}
	if scope != "" {
		q.Set("scope", scope)
	}
	if verifier != "" {
		q.Set("code_challenge", oauth.S256Challenge(verifier))
		q.Set("code_challenge_method", "S256")
	}
	id := e.authorizeRequest(q)
	var d struct {
		RedirectTo string `json:"redirectTo"`
	}
	e.mustOK(e.as("a", atkUserA, http.MethodPost, "/api/me/v1/oauth/requests/"+url.PathEscape(id)+"/decision", map[string]any{"approve": true}), "decision", http.StatusOK, &d)
	to, err := url.Parse(d.RedirectTo)
	if err != nil || to.Query().Get("code") == "" {
		e.t.Fatalf("decision redirect %q has no code", d.RedirectTo)
	}
	return to.Query().Get("code")
}

// token posts to /oauth/token with client_secret_basic (or only the
// client_id for a public client when secret is "").
func (e *atkEnv) token(clientID, secret string, form url.Values) (int, map[string]any) {
	e.t.Helper()
	var rec *httptest.ResponseRecorder
	if secret == "" {
		form.Set("client_id", clientID)
		rec = e.req(http.MethodPost, "/oauth/token", "", form)
	} else {
		r := httptest.NewRequest(http.MethodPost, "/oauth/token", strings.NewReader(form.Encode()))
		r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		r.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
		rec = httptest.NewRecorder()
		e.e.ServeHTTP(rec, r)
	}
	var out map[string]any
	_ = json.Unmarshal(rec.Body.Bytes(), &out)
	return rec.Code, out
}

// grant runs the whole flow for a confidential client and returns access
// and refresh tokens.
func (e *atkEnv) grant(clientID, secret, scope string) (access, refresh string) {
	e.t.Helper()
	code := e.code(clientID, scope, "")
	st, out := e.token(clientID, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {atkRedir}})
	if st != http.StatusOK {
		e.t.Fatalf("exchange code: %d %v", st, out)
	}
	return out["access_token"].(string), out["refresh_token"].(string)
}

func newAtkJiraClient(creds jira.Credentials, log *logrus.Entry) *jira.Client {
	c := jira.NewClient(&http.Client{Timeout: 5 * time.Second}, creds, appKey, log)
	c.SetRetryPolicy(2, 20*time.Millisecond)
	return c
}

// atkWantClientError checks that bad input got a 4xx JSON error, not a 5xx.
func atkWantClientError(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code < 400 || rec.Code >= 500 {
		t.Errorf("%s: status %d, want a 4xx (body %.300s)", what, rec.Code, rec.Body)
		return
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"]["code"] == nil || body["error"]["message"] == nil {
		t.Errorf("%s: body %.300s is not the JSON error shape", what, rec.Body)
	}
}

type atkRecorder = httptest.ResponseRecorder

func atkFormRequest(path string, form url.Values) *http.Request {
	r := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	r.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
	return r
}

func (e *atkEnv) serve(r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	e.e.ServeHTTP(rec, r)
	return rec
}

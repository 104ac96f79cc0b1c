package handlers_test

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/jobs"
	"github.com/keyward/keyward/models"
)

const siteAdmin = "557058:site-admin"

// adminsOf treats siteAdmin as the administrator of every site.
type adminsOf struct{}

func (adminsOf) IsSiteAdmin(_ context.Context, _ *models.Tenant, accountID string) (bool, error) {
	return accountID == siteAdmin, nil
}

// obEnv is the real router with the offboarding service and scheduler.
type obEnv struct {
	*offboardtest.Env
	t      *testing.T
	e      *echo.Echo
	sched  *jobs.Scheduler
	secret string
}

func newOffboardEnv(t *testing.T, db *store.DB) *obEnv {
	t.Helper()
	env := offboardtest.NewEnv(t, db, offboard.Options{})
	jwks := newJWKSServer(t, map[string]*rsa.PrivateKey{"fit-1": rsaKey(t, 0)})
	fit, err := auth.NewFITVerifier(t.Context(), jwks.URL, forgeAppID, &http.Client{Timeout: 5 * time.Second}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	sched, err := jobs.New(store.NewJobRuns(db), db, env.Audit, db, env.Log, jobs.ReconcileJob(env.Svc, "*/15 * * * *"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sched.Stop(context.Background()) })
	e := handlers.New(handlers.Deps{
		Log: env.Log, BaseURL: appBaseURL, BodyLimit: "16K", JWTLeeway: 10 * time.Second,
		DB: db, Tenants: env.TenantSvc, Lifecycle: env.TenantSvc, FIT: fit, Admins: adminsOf{},
		UserEvents: env.Svc, Offboard: env.Svc, Jobs: sched,
	})
	return &obEnv{Env: env, t: t, e: e, sched: sched, secret: "shared-secret-" + strings.Repeat("x", 24)}
}

func forEachOffboardEnv(t *testing.T, fn func(t *testing.T, e *obEnv)) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newOffboardEnv(t, storetest.Open(t, d)))
		})
	}
}

func (e *obEnv) do(method, target string, body []byte, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(string(body)))
	if body != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.e.ServeHTTP(rec, req)
	return rec
}

// webhook posts a Connect user webhook signed for clientKey.
func (e *obEnv) webhook(clientKey, identifier string, body []byte) *httptest.ResponseRecorder {
	e.t.Helper()
	tok := connectToken(e.t, clientKey, e.secret, http.MethodPost, "/webhooks/jira/user", map[string]any{"sub": nil})
	return e.do(http.MethodPost, "/webhooks/jira/user", body, "Authorization", "JWT "+tok, "X-Atlassian-Webhook-Identifier", identifier)
}

// admin calls the admin API of clientKey's site as account.
func (e *obEnv) admin(clientKey, account, method, target string, body []byte) *httptest.ResponseRecorder {
	e.t.Helper()
	tok := contextToken(e.t, clientKey, e.secret, map[string]any{"sub": account})
	return e.do(method, target, body, "Authorization", "JWT "+tok)
}

func userUpdated(account string, active bool, ts int64) []byte {
	b, _ := json.Marshal(map[string]any{"timestamp": ts, "webhookEvent": "user_updated",
		"user": map[string]any{"accountId": account, "active": active, "displayName": "Someone", "accountType": "atlassian", "locale": "en_US"}})
	return b
}

func TestUserWebhookIsStoredOnceAndProcessedAsynchronously(t *testing.T) {
	forEachOffboardEnv(t, func(t *testing.T, e *obEnv) {
		site := e.ConnectSite(t, "client-a", offboardtest.NewFakeJira(t))
		key, _ := e.Key(t, site.ID, accountID)
		body := userUpdated(accountID, false, 1764763200123)

		rec := e.webhook("client-a", "wh-1", body)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"duplicate":false`) {
			t.Fatalf("first delivery: %d %s", rec.Code, rec.Body)
		}
		rec = e.webhook("client-a", "wh-1", body)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"duplicate":true`) {
			t.Fatalf("retried delivery: %d %s", rec.Code, rec.Body)
		}
		if n := e.Count(t, "SELECT COUNT(*) FROM webhook_events"); n != 1 {
			t.Fatalf("stored %d events", n)
		}
		// Acknowledged before processing; a worker revokes.
		if r := e.Verify(key); !r.Active {
			t.Fatalf("revoked inline: %+v", r)
		}
		if n, err := e.Svc.ProcessDue(context.Background(), "w"); err != nil || n != 1 {
			t.Fatalf("process: %d %v", n, err)
		}
		if r := e.Verify(key); r.Active || r.Reason != models.ReasonRevoked {
			t.Fatalf("after processing: %+v", r)
		}
	})
}

func TestUserWebhookRefusals(t *testing.T) {
	forEachOffboardEnv(t, func(t *testing.T, e *obEnv) {
		e.ConnectSite(t, "client-a", offboardtest.NewFakeJira(t))
		body := userUpdated(accountID, false, 1)
		post := func(tok string) *httptest.ResponseRecorder {
			var hdr []string
			if tok != "" {
				hdr = []string{"Authorization", "JWT " + tok}
			}
			return e.do(http.MethodPost, "/webhooks/jira/user", body, hdr...)
		}
		for name, tok := range map[string]string{
			"no token":       "",
			"wrong secret":   connectToken(t, "client-a", "not-the-secret-of-this-site-at-all", http.MethodPost, "/webhooks/jira/user", nil),
			"unknown site":   connectToken(t, "client-z", e.secret, http.MethodPost, "/webhooks/jira/user", nil),
			"qsh of a GET":   connectToken(t, "client-a", e.secret, http.MethodGet, "/webhooks/jira/user", nil),
			"qsh of a path":  connectToken(t, "client-a", e.secret, http.MethodPost, "/webhooks/jira/other", nil),
			"context qsh":    contextToken(t, "client-a", e.secret, nil),
			"expired":        connectToken(t, "client-a", e.secret, http.MethodPost, "/webhooks/jira/user", map[string]any{"exp": time.Now().Add(-time.Hour).Unix(), "iat": time.Now().Add(-2 * time.Hour).Unix()}),
			"not a JWT":      "garbage",
			"tampered claim": connectToken(t, "client-a", e.secret, http.MethodPost, "/webhooks/jira/user", nil) + "x",
		} {
			wantUnauthorized(t, name, post(tok))
		}
		for name, b := range map[string]string{
			"empty":        ``,
			"not JSON":     `user deleted`,
			"array":        `[]`,
			"no accountId": `{"webhookEvent":"user_deleted","user":{}}`,
			"wrong event":  `{"webhookEvent":"worklog_updated","user":{"accountId":"x"}}`,
		} {
			rec := e.webhook("client-a", name, []byte(b))
			wantError(t, name, rec, http.StatusBadRequest, "invalid_input")
		}
		if n := e.Count(t, "SELECT COUNT(*) FROM webhook_events"); n != 0 {
			t.Fatalf("refused deliveries stored: %d", n)
		}
	})
}

func TestForgeUserEventsGoToTheInbox(t *testing.T) {
	forEachOffboardEnv(t, func(t *testing.T, e *obEnv) {
		body, err := os.ReadFile("../app/offboard/testdata/forge_event_deleted_user.json")
		if err != nil {
			t.Fatal(err)
		}
		tok := fitToken(t, "fit-1", rsaKey(t, 0), map[string]any{"context": nil, "principal": nil})
		rec := e.do(http.MethodPost, "/forge/events", body, bearerHeader(tok)...)
		if rec.Code != http.StatusOK {
			t.Fatalf("forge event: %d %s", rec.Code, rec.Body)
		}
		rec = e.do(http.MethodPost, "/forge/events", body, bearerHeader(triggerToken(t, "fit-1", rsaKey(t, 0), nil))...)
		if !strings.Contains(rec.Body.String(), `"duplicate":true`) {
			t.Fatalf("redelivery: %d %s", rec.Code, rec.Body)
		}
		var src, typ, acct string
		if err := e.DB.SQL().QueryRow("SELECT source, event_type, account_id FROM webhook_events").Scan(&src, &typ, &acct); err != nil {
			t.Fatal(err)
		}
		if src != offboard.SourceForge || typ != models.UserDeleted || acct != "5b10ac8d82e05b22cc7d4ef5" {
			t.Fatalf("stored %s %s %s", src, typ, acct)
		}
		wantUnauthorized(t, "no FIT", e.do(http.MethodPost, "/forge/events", body))
		wantError(t, "no accountId", e.do(http.MethodPost, "/forge/events", []byte(`{"payload":{"eventType":"avi:jira:updated:user","user":{}}}`), bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), map[string]any{"context": nil, "principal": nil}))...), http.StatusBadRequest, "invalid_input")
	})
}

func TestOneSitesWebhookCannotTouchAnother(t *testing.T) {
	forEachOffboardEnv(t, func(t *testing.T, e *obEnv) {
		fj := offboardtest.NewFakeJira(t)
		a := e.ConnectSite(t, "client-a", fj)
		b := e.ConnectSite(t, "client-b", fj)
		ka, _ := e.Key(t, a.ID, accountID)
		kb, _ := e.Key(t, b.ID, accountID)
		if rec := e.webhook("client-b", "x", userUpdated(accountID, false, 1)); rec.Code != http.StatusOK {
			t.Fatalf("%d %s", rec.Code, rec.Body)
		}
		for {
			if n, _ := e.Svc.ProcessDue(context.Background(), "w"); n == 0 {
				break
			}
		}
		if r := e.Verify(ka); !r.Active {
			t.Fatalf("site A's key refused: %+v", r)
		}
		if r := e.Verify(kb); r.Active {
			t.Fatal("site B's key still works")
		}
	})
}

func TestOffboardAdminAPI(t *testing.T) {
	forEachOffboardEnv(t, func(t *testing.T, e *obEnv) {
		fj := offboardtest.NewFakeJira(t)
		a := e.ConnectSite(t, "client-a", fj)
		e.ConnectSite(t, "client-b", fj)
		fj.SetUser(accountID, false)
		e.Key(t, a.ID, accountID)
		if _, err := e.Svc.Reconcile(context.Background(), offboard.Run{TenantID: a.ID}); err != nil {
			t.Fatal(err)
		}
		reps, _ := e.Reports.List(context.Background(), a.ID, "", 0, 1)
		reportID := reps[0].ID
		ev, _, err := e.Svc.Ingest(context.Background(), offboard.Delivery{TenantID: a.ID, Source: offboard.SourceConnect, Identifier: "p", Body: userUpdated("someone", false, 1)})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.Events.Park(context.Background(), a.ID, ev.ID, "jira exploded"); err != nil {
			t.Fatal(err)
		}
		rid := func(id int64) string { return strings.TrimSpace(string(mustJSON(t, id))) }

		routes := []struct{ method, path, body string }{
			{http.MethodGet, "/api/admin/v1/settings/offboarding", ""},
			{http.MethodPut, "/api/admin/v1/settings/offboarding", `{"gracePeriodSeconds":60}`},
			{http.MethodGet, "/api/admin/v1/jobs", ""},
			{http.MethodPost, "/api/admin/v1/jobs/reconcile/run", ""},
			{http.MethodGet, "/api/admin/v1/webhook-events?status=parked", ""},
			{http.MethodGet, "/api/admin/v1/reports", ""},
			{http.MethodGet, "/api/admin/v1/reports/" + rid(reportID), ""},
		}
		for _, r := range routes {
			var body []byte
			if r.body != "" {
				body = []byte(r.body)
			}
			wantUnauthorized(t, r.path+" without a token", e.do(r.method, r.path, body))
			wantError(t, r.path+" as a non-admin", e.admin("client-a", "557058:someone", r.method, r.path, body), http.StatusForbidden, "forbidden")
		}

		// Settings.
		rec := e.admin("client-a", siteAdmin, http.MethodGet, "/api/admin/v1/settings/offboarding", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"autoRevoke":true`) || !strings.Contains(rec.Body.String(), `"staleAfterDays":90`) {
			t.Fatalf("default settings: %d %s", rec.Code, rec.Body)
		}
		put := `{"autoRevoke":true,"gracePeriodSeconds":600,"exemptAccountIds":["svc-1"],"reportWebhookUrl":"https://hooks.example.com/k","reportWebhookSecret":"0123456789abcdef-secret"}`
		rec = e.admin("client-a", siteAdmin, http.MethodPut, "/api/admin/v1/settings/offboarding", []byte(put))
		if rec.Code != http.StatusOK || strings.Contains(rec.Body.String(), "0123456789abcdef-secret") || !strings.Contains(rec.Body.String(), `"reportWebhookSecretSet":true`) {
			t.Fatalf("put settings: %d %s", rec.Code, rec.Body)
		}
		// What GET returns can be sent back as is.
		got := e.admin("client-a", siteAdmin, http.MethodGet, "/api/admin/v1/settings/offboarding", nil)
		if rec := e.admin("client-a", siteAdmin, http.MethodPut, "/api/admin/v1/settings/offboarding", got.Body.Bytes()); rec.Code != http.StatusOK {
			t.Fatalf("round trip: %d %s", rec.Code, rec.Body)
		}
		wantError(t, "bad settings", e.admin("client-a", siteAdmin, http.MethodPut, "/api/admin/v1/settings/offboarding", []byte(`{"gracePeriodSeconds":-1}`)), http.StatusBadRequest, "invalid_input")
		wantError(t, "unknown field", e.admin("client-a", siteAdmin, http.MethodPut, "/api/admin/v1/settings/offboarding", []byte(`{"grace":1}`)), http.StatusBadRequest, "invalid_input")
		if rec := e.admin("client-b", siteAdmin, http.MethodGet, "/api/admin/v1/settings/offboarding", nil); !strings.Contains(rec.Body.String(), `"gracePeriodSeconds":0`) {
			t.Fatalf("site B sees site A's settings: %s", rec.Body)
		}

		// Reports: JSON, CSV, and 404 for another site.
		rec = e.admin("client-a", siteAdmin, http.MethodGet, "/api/admin/v1/reports", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"revoked":1`) {
			t.Fatalf("reports: %d %s", rec.Code, rec.Body)
		}
		rec = e.admin("client-a", siteAdmin, http.MethodGet, "/api/admin/v1/reports/"+rid(reportID), nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"kind":"revoked"`) {
			t.Fatalf("report: %d %s", rec.Code, rec.Body)
		}
		for _, path := range []string{"/api/admin/v1/reports/" + rid(reportID) + ".csv", "/api/admin/v1/reports/" + rid(reportID) + "?format=csv"} {
			rec = e.admin("client-a", siteAdmin, http.MethodGet, path, nil)
			if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") || !strings.Contains(rec.Body.String(), "revoked,") {
				t.Fatalf("csv %s: %d %s %s", path, rec.Code, rec.Header(), rec.Body)
			}
		}
		for _, path := range []string{"/api/admin/v1/reports/" + rid(reportID), "/api/admin/v1/reports/" + rid(reportID) + ".csv", "/api/admin/v1/reports/999999"} {
			wantError(t, "site B: "+path, e.admin("client-b", siteAdmin, http.MethodGet, path, nil), http.StatusNotFound, "not_found")
		}

		// Parked events and retry.
		rec = e.admin("client-a", siteAdmin, http.MethodGet, "/api/admin/v1/webhook-events?status=parked", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "jira exploded") {
			t.Fatalf("parked: %d %s", rec.Code, rec.Body)
		}
		if rec := e.admin("client-b", siteAdmin, http.MethodGet, "/api/admin/v1/webhook-events?status=parked", nil); strings.Contains(rec.Body.String(), "jira exploded") {
			t.Fatal("site B sees site A's events")
		}
		wantError(t, "site B retry", e.admin("client-b", siteAdmin, http.MethodPost, "/api/admin/v1/webhook-events/"+rid(ev.ID)+"/retry", nil), http.StatusNotFound, "not_found")
		rec = e.admin("client-a", siteAdmin, http.MethodPost, "/api/admin/v1/webhook-events/"+rid(ev.ID)+"/retry", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"status":"pending"`) {
			t.Fatalf("retry: %d %s", rec.Code, rec.Body)
		}
		wantError(t, "retry twice", e.admin("client-a", siteAdmin, http.MethodPost, "/api/admin/v1/webhook-events/"+rid(ev.ID)+"/retry", nil), http.StatusConflict, "conflict")
		wantError(t, "bad status", e.admin("client-a", siteAdmin, http.MethodGet, "/api/admin/v1/webhook-events?status=lost", nil), http.StatusBadRequest, "invalid_input")

		// Jobs: start, follow, and 404 for another site.
		rec = e.admin("client-a", siteAdmin, http.MethodPost, "/api/admin/v1/jobs/reconcile/run", nil)
		if rec.Code != http.StatusAccepted {
			t.Fatalf("start job: %d %s", rec.Code, rec.Body)
		}
		var started struct {
			RunID int64 `json:"runId"`
		}
		_ = json.Unmarshal(rec.Body.Bytes(), &started)
		rec = e.admin("client-a", siteAdmin, http.MethodGet, "/api/admin/v1/jobs/runs/"+rid(started.RunID), nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"job":"reconcile"`) {
			t.Fatalf("run: %d %s", rec.Code, rec.Body)
		}
		wantError(t, "site B run", e.admin("client-b", siteAdmin, http.MethodGet, "/api/admin/v1/jobs/runs/"+rid(started.RunID), nil), http.StatusNotFound, "not_found")
		wantError(t, "unknown job", e.admin("client-a", siteAdmin, http.MethodPost, "/api/admin/v1/jobs/nope/run", nil), http.StatusNotFound, "not_found")
		rec = e.admin("client-a", siteAdmin, http.MethodGet, "/api/admin/v1/jobs", nil)
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"schedule":"*/15 * * * *"`) {
			t.Fatalf("jobs: %d %s", rec.Code, rec.Body)
		}
		e.sched.Stop(context.Background()) // let the started run finish before the database closes

		actions := e.Count(t, "SELECT COUNT(*) FROM audit_events WHERE actor = ? AND action IN ('settings.offboarding.update', 'webhook_event.retry', 'job.run')", siteAdmin)
		if actions != 4 {
			t.Fatalf("admin actions audited: %d, want 4 (two settings updates, a retry, a job start)", actions)
		}
	})
}

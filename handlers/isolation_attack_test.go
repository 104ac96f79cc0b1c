package handlers_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/offboard"
)

// atkSiteB builds everything site B can own: a key with access log entries,
// an OAuth client with a grant and a pending consent request, a webhook
// event, a job run with its report and an unused bulk confirmation.
type atkSiteB struct {
	key, keySecret       string
	clientID, clientSec  string
	grantID              string
	access, refresh      string
	requestID            string
	eventID, reportID    int64
	runID                int64
	confirmation         string
	userAccount, keyName string
}

func (e *atkEnv) buildSiteB() *atkSiteB {
	e.t.Helper()
	t := e.t
	ctx := context.Background()
	e.fjA.SetUsers(true, atkAdminA, atkAdminA2, atkUserA)
	e.fjB.SetUsers(true, atkAdminB, atkUserB)
	b := &atkSiteB{userAccount: atkUserB, keyName: "B secret payroll key"}
	k := e.createKey("b", atkUserB, map[string]any{"name": b.keyName, "access": "full"})
	b.key, b.keySecret = k.Key.ID, k.Secret
	if v := e.verify(k.Secret, "GET", "/4/worklogs"); v["active"] != true {
		t.Fatalf("B's key does not verify: %v", v)
	}

	// An OAuth client of site B with a grant of user B.
	var reg struct {
		Client struct {
			ID string `json:"id"`
		} `json:"client"`
		ClientSecret string `json:"clientSecret"`
	}
	e.mustOK(e.as("b", atkAdminB, http.MethodPost, "/api/admin/v1/oauth/clients",
		map[string]any{"name": "B app", "redirectUris": []string{atkRedir}, "allowedScopes": []string{"worklogs:view"}}), "register B client", http.StatusCreated, &reg)
	b.clientID, b.clientSec = reg.Client.ID, reg.ClientSecret
	q := url.Values{"response_type": {"code"}, "client_id": {b.clientID}, "redirect_uri": {atkRedir}, "state": {"s"}}
	id := e.authorizeRequest(q)
	var d struct {
		RedirectTo string `json:"redirectTo"`
	}
	e.mustOK(e.as("b", atkUserB, http.MethodPost, "/api/me/v1/oauth/requests/"+id+"/decision", map[string]any{"approve": true}), "B consent", http.StatusOK, &d)
	to, _ := url.Parse(d.RedirectTo)
	st, tok := e.token(b.clientID, b.clientSec, url.Values{"grant_type": {"authorization_code"}, "code": {to.Query().Get("code")}, "redirect_uri": {atkRedir}})
	if st != http.StatusOK {
		t.Fatalf("B token: %d %v", st, tok)
	}
	b.access, b.refresh = tok["access_token"].(string), tok["refresh_token"].(string)
	var grants struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	e.mustOK(e.as("b", atkUserB, http.MethodGet, "/api/me/v1/grants", nil), "B grants", http.StatusOK, &grants)
	b.grantID = grants.Items[0].ID
	b.requestID = e.authorizeRequest(q) // pending, undecided

	// A user webhook of site B, parked so that a retry would apply.
	ev, _, err := e.ob.Ingest(ctx, offboard.Delivery{TenantID: e.b.ID, Source: offboard.SourceConnect, Identifier: "b-evt-1", Body: userUpdated("557058:someone-b", true, 1)})
	if err != nil {
		t.Fatal(err)
	}
	if err := atkPark(e, e.b.ID, ev.ID); err != nil {
		t.Fatal(err)
	}
	b.eventID = ev.ID

	// A reconcile run of site B and its report.
	var started struct {
		RunID int64 `json:"runId"`
	}
	e.mustOK(e.as("b", atkAdminB, http.MethodPost, "/api/admin/v1/jobs/reconcile/run", nil), "B job", http.StatusAccepted, &started)
	b.runID = started.RunID
	deadline := time.Now().Add(10 * time.Second)
	for {
		var run struct {
			Status string `json:"status"`
		}
		e.mustOK(e.as("b", atkAdminB, http.MethodGet, fmt.Sprintf("/api/admin/v1/jobs/runs/%d", b.runID), nil), "B run", http.StatusOK, &run)
		if run.Status != "running" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("B's reconcile run did not finish")
		}
		time.Sleep(20 * time.Millisecond)
	}
	var reps struct {
		Items []struct {
			ID int64 `json:"id"`
		} `json:"items"`
	}
	e.mustOK(e.as("b", atkAdminB, http.MethodGet, "/api/admin/v1/reports", nil), "B reports", http.StatusOK, &reps)
	if len(reps.Items) == 0 {
		t.Fatal("site B has no report")
	}
	b.reportID = reps.Items[0].ID

	var prev struct {
		Confirmation string `json:"confirmation"`
	}
	e.mustOK(e.as("b", atkAdminB, http.MethodPost, "/api/admin/v1/credentials/revoke/preview", map[string]any{"all": true}), "B preview", http.StatusOK, &prev)
	b.confirmation = prev.Confirmation
	return b
}

func atkPark(e *atkEnv, tenantID string, id int64) error {
	_, err := e.db.SQL().Exec(atkRebind(e, "UPDATE webhook_events SET status = 'parked', last_error = 'parked by test' WHERE tenant_id = ? AND id = ?"), tenantID, id)
	return err
}

func atkRebind(e *atkEnv, q string) string {
	if !e.db.IsPostgres() {
		return q
	}
	var sb strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			fmt.Fprintf(&sb, "$%d", n)
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// TestAttackGuard_TenantIsolationEveryIDEndpoint tries every id-taking
// endpoint of /api/me/v1 and /api/admin/v1 with site B's ids using site
// A's tokens (admin and user), plus filters, exports, cursors and
// confirmations, and checks that nothing of B leaks or changes.
func TestAttackGuard_TenantIsolationEveryIDEndpoint(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		b := e.buildSiteB()
		e.createKey("a", atkUserA, nil)
		e.createKey("b", atkUserB, map[string]any{"name": "B second", "access": "full"})
		before := e.rowCounts()

		notFound := []struct{ who, method, path string }{
			{atkUserA, "GET", "/api/me/v1/keys/" + b.key},
			{atkUserA, "POST", "/api/me/v1/keys/" + b.key + "/regenerate"},
			{atkUserA, "POST", "/api/me/v1/keys/" + b.key + "/revoke"},
			{atkUserA, "DELETE", "/api/me/v1/keys/" + b.key},
			{atkUserA, "GET", "/api/me/v1/keys/" + b.key + "/access-log"},
			{atkUserA, "GET", "/api/me/v1/oauth/requests/" + b.requestID},
			{atkUserA, "POST", "/api/me/v1/oauth/requests/" + b.requestID + "/decision"},
			{atkUserA, "POST", "/api/me/v1/grants/" + b.grantID + "/revoke"},
			{atkAdminA, "GET", "/api/admin/v1/credentials/" + b.key},
			{atkAdminA, "GET", "/api/admin/v1/credentials/" + b.grantID},
			{atkAdminA, "POST", "/api/admin/v1/credentials/" + b.key + "/revoke"},
			{atkAdminA, "POST", "/api/admin/v1/credentials/" + b.grantID + "/revoke"},
			{atkAdminA, "POST", "/api/admin/v1/users/" + url.PathEscape(b.userAccount) + "/revoke"},
			{atkAdminA, "GET", fmt.Sprintf("/api/admin/v1/reports/%d", b.reportID)},
			{atkAdminA, "GET", fmt.Sprintf("/api/admin/v1/reports/%d.csv", b.reportID)},
			{atkAdminA, "GET", fmt.Sprintf("/api/admin/v1/reports/%d?format=csv", b.reportID)},
			{atkAdminA, "GET", fmt.Sprintf("/api/admin/v1/jobs/runs/%d", b.runID)},
			{atkAdminA, "POST", fmt.Sprintf("/api/admin/v1/webhook-events/%d/retry", b.eventID)},
			{atkAdminA, "GET", "/api/admin/v1/oauth/clients/" + b.clientID},
			{atkAdminA, "PATCH", "/api/admin/v1/oauth/clients/" + b.clientID},
			{atkAdminA, "DELETE", "/api/admin/v1/oauth/clients/" + b.clientID},
			{atkAdminA, "POST", "/api/admin/v1/oauth/clients/" + b.clientID + "/rotate-secret"},
			{atkAdminA, "POST", "/api/admin/v1/oauth/clients/" + b.clientID + "/revoke-grants"},
		}
		bodies := map[string]any{
			"decision": map[string]any{"approve": true}, "revoke": map[string]any{"reason": "cross-site attack"},
			"PATCH": map[string]any{"disabled": true, "redirectUris": []string{"https://evil.example.com/cb"}}, "revoke-grants": map[string]any{"reason": "x"},
		}
		for _, r := range notFound {
			var body any
			switch {
			case strings.HasSuffix(r.path, "/decision"):
				body = bodies["decision"]
			case strings.HasSuffix(r.path, "/revoke-grants"):
				body = bodies["revoke-grants"]
			case r.method == "PATCH":
				body = bodies["PATCH"]
			case strings.HasSuffix(r.path, "/revoke"):
				body = bodies["revoke"]
			}
			rec := e.as("a", r.who, r.method, r.path, body)
			if rec.Code != http.StatusNotFound {
				t.Errorf("%s %s as A's %s with B's id: %d %s, want 404", r.method, r.path, r.who, rec.Code, rec.Body)
			}
			for _, secret := range []string{b.keyName, b.clientID + `","name"`} {
				if strings.Contains(rec.Body.String(), secret) {
					t.Errorf("%s %s leaks B's data: %s", r.method, r.path, rec.Body)
				}
			}
		}

		// Lists and filters naming B's ids or people show nothing of B.
		mustNotLeak := func(what string, path string) {
			rec := e.as("a", atkAdminA, "GET", path, nil)
			if rec.Code != http.StatusOK {
				t.Errorf("%s: %d %s", what, rec.Code, rec.Body)
				return
			}
			for _, s := range []string{b.key, b.grantID, b.userAccount, b.keyName, b.clientID} {
				if strings.Contains(rec.Body.String(), s) {
					t.Errorf("%s leaks %q of site B: %.400s", what, s, rec.Body)
				}
			}
		}
		mustNotLeak("list owner=B", "/api/admin/v1/credentials?owner="+url.QueryEscape(b.userAccount))
		mustNotLeak("list q=B user", "/api/admin/v1/credentials?q="+url.QueryEscape(b.userAccount))
		mustNotLeak("list q=B key name", "/api/admin/v1/credentials?q="+url.QueryEscape("payroll"))
		mustNotLeak("list all", "/api/admin/v1/credentials?limit=200")
		mustNotLeak("users q=B", "/api/admin/v1/users?q="+url.QueryEscape(b.userAccount))
		mustNotLeak("users all", "/api/admin/v1/users")
		mustNotLeak("access log credential=B", "/api/admin/v1/access-log?credential="+b.key)
		mustNotLeak("access log owner=B", "/api/admin/v1/access-log?owner="+url.QueryEscape(b.userAccount))
		mustNotLeak("access log all", "/api/admin/v1/access-log")
		mustNotLeak("export credentials csv", "/api/admin/v1/export/credentials")
		mustNotLeak("export credentials ndjson owner=B", "/api/admin/v1/export/credentials?format=ndjson&owner="+url.QueryEscape(b.userAccount))
		mustNotLeak("export access log", "/api/admin/v1/export/access-log?format=ndjson")
		mustNotLeak("export access log credential=B", "/api/admin/v1/export/access-log?credential="+b.key)
		mustNotLeak("webhook events", "/api/admin/v1/webhook-events?status=parked")
		mustNotLeak("reports", "/api/admin/v1/reports")
		mustNotLeak("jobs", "/api/admin/v1/jobs")
		mustNotLeak("oauth clients", "/api/admin/v1/oauth/clients")
		if rec := e.as("a", atkUserA, "GET", "/api/me/v1/grants", nil); strings.Contains(rec.Body.String(), b.grantID) {
			t.Errorf("A's user sees B's grant: %s", rec.Body)
		}

		// Cursors: B's cursor replayed in A, and a crafted cursor positioned
		// just after B's credential, show only A's rows.
		var pageB struct {
			NextCursor *string `json:"nextCursor"`
		}
		e.mustOK(e.as("b", atkAdminB, "GET", "/api/admin/v1/credentials?limit=1", nil), "B page", http.StatusOK, &pageB)
		if pageB.NextCursor == nil {
			t.Fatal("no cursor from B")
		}
		mustNotLeak("B's cursor replayed in A", "/api/admin/v1/credentials?limit=1&cursor="+url.QueryEscape(*pageB.NextCursor))
		crafted, _ := json.Marshal(map[string]any{"s": "-created", "t": time.Now().Add(time.Hour).UTC(), "i": "zzzz", "tv": 1, "h": "x"})
		mustNotLeak("crafted cursor", "/api/admin/v1/credentials?cursor="+base64.RawURLEncoding.EncodeToString(crafted))
		mustNotLeak("crafted users cursor", "/api/admin/v1/users?cursor="+base64.RawURLEncoding.EncodeToString([]byte("0")))
		mustNotLeak("access log cursor", "/api/admin/v1/access-log?cursor=999999999")

		// Bulk revocation with B's ids counts nothing, revokes nothing; B's
		// confirmation token is unknown in A.
		var prev struct {
			Count        int    `json:"count"`
			Confirmation string `json:"confirmation"`
		}
		e.mustOK(e.as("a", atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", map[string]any{"ids": []string{b.key, b.grantID}}), "preview B ids", http.StatusOK, &prev)
		if prev.Count != 0 {
			t.Errorf("preview of B's ids counts %d", prev.Count)
		}
		rec := e.as("a", atkAdminA, "POST", "/api/admin/v1/credentials/revoke", map[string]any{"confirmation": prev.Confirmation, "reason": "x"})
		if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"revoked":0`) {
			t.Errorf("confirm B ids: %d %s", rec.Code, rec.Body)
		}
		wantError(t, "B's confirmation in A", e.as("a", atkAdminA, "POST", "/api/admin/v1/credentials/revoke", map[string]any{"confirmation": b.confirmation, "reason": "x"}), http.StatusBadRequest, "invalid_confirmation")

		// OAuth protocol endpoints across sites: A's client with B's tokens.
		aClient, aSecret := e.registerClient(map[string]any{})
		if st, out := e.token(aClient, aSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {b.refresh}}); st != http.StatusBadRequest || out["error"] != "invalid_grant" {
			t.Errorf("A's client refreshing B's token: %d %v", st, out)
		}
		if rec := e.formAs(aClient, aSecret, "/oauth/introspect", url.Values{"token": {b.access}}); !strings.Contains(rec.Body.String(), `"active":false`) {
			t.Errorf("A's client introspecting B's token: %d %s", rec.Code, rec.Body)
		}
		e.formAs(aClient, aSecret, "/oauth/revoke", url.Values{"token": {b.access}})
		e.formAs(aClient, aSecret, "/oauth/revoke", url.Values{"token": {b.refresh}})

		// Nothing of B changed.
		if v := e.verify(b.keySecret, "GET", "/4/worklogs"); v["active"] != true {
			t.Errorf("B's key stopped verifying: %v", v)
		}
		if v := e.verify(b.access, "GET", "/4/worklogs"); v["active"] != true {
			t.Errorf("B's access token stopped verifying: %v", v)
		}
		if st, out := e.token(b.clientID, b.clientSec, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {b.refresh}}); st != http.StatusOK {
			t.Errorf("B's refresh token was spent by the attack: %d %v", st, out)
		}
		var cl struct {
			Disabled     bool     `json:"disabled"`
			RedirectURIs []string `json:"redirectUris"`
		}
		e.mustOK(e.as("b", atkAdminB, "GET", "/api/admin/v1/oauth/clients/"+b.clientID, nil), "B client", http.StatusOK, &cl)
		if cl.Disabled || len(cl.RedirectURIs) != 1 || cl.RedirectURIs[0] != atkRedir {
			t.Errorf("B's client changed: %+v", cl)
		}
		var evs struct {
			Items []struct {
				ID     int64  `json:"id"`
				Status string `json:"status"`
			} `json:"items"`
		}
		e.mustOK(e.as("b", atkAdminB, "GET", "/api/admin/v1/webhook-events", nil), "B events", http.StatusOK, &evs)
		if len(evs.Items) != 1 || evs.Items[0].Status != "parked" {
			t.Errorf("B's event changed: %+v", evs.Items)
		}
		rec = e.as("b", atkUserB, "GET", "/api/me/v1/oauth/requests/"+b.requestID, nil)
		if rec.Code != http.StatusOK {
			t.Errorf("B's pending request was decided by A: %d %s", rec.Code, rec.Body)
		}
		after := e.rowCounts()
		for _, tb := range []string{"credentials", "webhook_events", "reports", "job_runs"} {
			if before[tb] != after[tb] {
				t.Errorf("%s: %d rows before the attack, %d after", tb, before[tb], after[tb])
			}
		}
	})
}

// formAs posts a form to an OAuth endpoint with client_secret_basic.
func (e *atkEnv) formAs(clientID, secret, path string, form url.Values) *atkRecorder {
	e.t.Helper()
	r := atkFormRequest(path, form)
	r.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	return e.serve(r)
}

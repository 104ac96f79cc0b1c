package handlers_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAttackRegression_InvalidUTF8AndNULInputGive500 sends text the database
// cannot store or compare (a NUL byte, bytes that are not UTF-8) in query
// parameters, path ids, cursors and JSON bodies, to admin, self-service
// and public OAuth endpoints. Bad input must get a 4xx with the JSON error
// shape (or, for a search, simply match nothing); on PostgreSQL these
// values reach the driver unchecked and come back as 500 "internal" (and
// the server logs an error for each, which an unauthenticated caller of
// /oauth/authorize or /oauth/token can trigger at will).
func TestAttackRegression_InvalidUTF8AndNULInputGive500(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		k := e.createKey("a", atkUserA, nil)
		clientID, _ := e.registerClient(map[string]any{})
		badCursor := base64.RawURLEncoding.EncodeToString([]byte{0xff, 0xfe})
		nulCursor, _ := json.Marshal(map[string]any{"s": "name", "v": "a\x00b", "i": "x\x00", "tv": 1, "h": "x"})
		notServerError := func(what string, rec *atkRecorder) {
			t.Helper()
			if rec.Code >= 500 {
				t.Errorf("%s: %d %.200s, want a 4xx (or an empty result)", what, rec.Code, rec.Body)
			} else if rec.Code >= 400 {
				atkWantClientError(t, what, rec)
			}
		}

		admin := []string{
			"/api/admin/v1/credentials?q=%ff",
			"/api/admin/v1/credentials?q=%00",
			"/api/admin/v1/credentials?owner=%ff",
			"/api/admin/v1/credentials?sort=name&cursor=" + base64.RawURLEncoding.EncodeToString(nulCursor),
			"/api/admin/v1/credentials/%ff",
			"/api/admin/v1/credentials/%00",
			"/api/admin/v1/users?q=%ff",
			"/api/admin/v1/users?cursor=" + badCursor,
			"/api/admin/v1/access-log?path=%2F4%2F%ff",
			"/api/admin/v1/access-log?credential=%00",
			"/api/admin/v1/access-log?owner=%ff",
			"/api/admin/v1/export/credentials?q=%ff",
			"/api/admin/v1/export/access-log?owner=%ff",
			"/api/admin/v1/oauth/clients/%ff",
		}
		for _, path := range admin {
			notServerError("GET "+path, e.as("a", atkAdminA, "GET", path, nil))
		}
		notServerError("GET /api/me/v1/keys/%ff", e.as("a", atkUserA, "GET", "/api/me/v1/keys/%ff", nil))
		notServerError("POST /api/admin/v1/users/%ff/revoke", e.as("a", atkAdminA, "POST", "/api/admin/v1/users/%ff/revoke", map[string]any{"reason": "x"}))

		// JSON bodies: a NUL in a reason (JSON "\u0000").
		notServerError("admin revoke with NUL in reason", e.as("a", atkAdminA, "POST", "/api/admin/v1/credentials/"+k.Key.ID+"/revoke", `{"reason":"bad\u0000reason"}`))
		notServerError("self revoke with NUL in reason", e.as("a", atkUserA, "POST", "/api/me/v1/keys/"+k.Key.ID+"/revoke", `{"reason":"bad\u0000reason"}`))

		// The public OAuth endpoints (no authentication at all).
		for _, q := range []url.Values{
			{"response_type": {"code"}, "client_id": {"\xff"}, "redirect_uri": {atkRedir}},
			{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {atkRedir}, "state": {"st\x00ate"}},
			{"response_type": {"code"}, "client_id": {clientID}, "redirect_uri": {atkRedir}, "state": {"\xff\xfe"}},
		} {
			rec := e.req("GET", "/oauth/authorize?"+q.Encode(), "", nil)
			if rec.Code >= 500 {
				t.Errorf("GET /oauth/authorize?%s: %d %s, want a refusal", q.Encode(), rec.Code, rec.Body)
			}
		}
		if st, out := e.token("\xff", "", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}); st >= 500 {
			t.Errorf("POST /oauth/token with client_id %%ff: %d %v, want invalid_client", st, out)
		}
	})
}

// TestAttackRegression_VerifyUserAgentCutMidCharacterPoisonsAccessLogAndUsage
// sends /v1/verify a user agent of 511 ASCII bytes and one two-byte
// character. keyward answers 200 and cuts the user agent to 512 bytes in
// the middle of the character (handlers/verify.go), leaving invalid UTF-8.
// A NUL (JSON "\u0000") in userAgent or ip does the same harm. On
// PostgreSQL the access log batch that carries the record then fails (the
// whole batch, every site's records in it, is lost) and the usage flush
// fails and is carried to every later flush, so last-use tracking stops for
// every credential of every site.
func TestAttackRegression_VerifyUserAgentCutMidCharacterPoisonsAccessLogAndUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  func(secret string) map[string]any
	}{
		{"ua-cut-mid-rune", func(s string) map[string]any {
			return map[string]any{"credential": s, "method": "GET", "path": "/4/worklogs", "ip": "203.0.113.7", "userAgent": strings.Repeat("a", 511) + "é"}
		}},
		{"ua-nul", func(s string) map[string]any {
			return map[string]any{"credential": s, "method": "GET", "path": "/4/worklogs", "ip": "203.0.113.7", "userAgent": "curl/8\x00"}
		}},
		{"path-nul", func(s string) map[string]any {
			return map[string]any{"credential": s, "method": "GET", "path": "/4/worklogs\x00", "ip": "203.0.113.7", "userAgent": "curl/8"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachAtk(t, func(t *testing.T, e *atkEnv) {
				ctx := context.Background()
				poison := e.createKey("a", atkUserA, nil)
				good := e.createKey("b", atkUserB, nil)
				// Another site's ordinary verifications share the batch.
				e.verify(good.Secret, "GET", "/4/worklogs")
				rec := e.req("POST", "/v1/verify", "Bearer "+atkRS, tc.req(poison.Secret))
				if rec.Code >= 300 {
					// Refusing the input is a fine answer; nothing is poisoned then.
					atkWantClientError(t, "verify with bad text", rec)
					return
				}
				e.verify(good.Secret, "GET", "/4/teams")
				e.flushLog()
				_, _, failed := e.accessLog.Stats()
				if failed != 0 {
					t.Errorf("access log: %d records lost after verify answered 200 (every site's records in the batch)", failed)
				}
				if n := e.count("access_log"); n != 3 {
					t.Errorf("access log has %d records, want 3", n)
				}
				err1 := e.verifier.FlushUsage(ctx)
				// A later, ordinary use of another credential.
				e.verify(good.Secret, "GET", "/4/worklogs")
				err2 := e.verifier.FlushUsage(ctx)
				if err1 != nil || err2 != nil {
					t.Errorf("usage flush failed: %v; the next flush, with only good uses added, failed too: %v", err1, err2)
				}
				var used *time.Time
				if err := e.db.SQL().QueryRow(atkRebind(e, "SELECT last_used_at FROM credentials WHERE id = ?"), good.Key.ID).Scan(&used); err != nil {
					t.Fatal(err)
				}
				if used == nil {
					t.Errorf("site B's key was used three times but has no last use: usage tracking is stuck")
				}
			})
		})
	}
}

// TestAttackGuard_BadInputChangesNothing: oversized bodies, malformed JSON,
// wrong types, unknown fields, huge arrays, long query parameters and
// negative or huge limits and cursors all get a 4xx JSON error and change
// no row.
func TestAttackGuard_BadInputChangesNothing(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		k := e.createKey("a", atkUserA, nil)
		clientID, _ := e.registerClient(map[string]any{})
		before := e.rowCounts()
		huge := make([]string, 100_000)
		for i := range huge {
			huge[i] = "0190a0b1-0000-7000-8000-000000000000"
		}
		bigIDs := mustJSON(t, map[string]any{"ids": huge})
		thousandOne := make([]string, 1001)
		for i := range thousandOne {
			thousandOne[i] = "x"
		}
		long := strings.Repeat("a", 8000)
		cases := []struct {
			who, method, path string
			body              any
		}{
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":`},
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":"x","access":"full"} {"again":1}`},
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":1,"access":"full"}`},
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":"x","access":"full","owner":"someone-else"}`},
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":"x","access":"custom","scopes":["full"]}`},
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":"x","access":"custom","scopes":["salaries:view"]}`},
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":"x","access":"full","expiresInDays":100000}`},
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":"x","access":"full","expiresInDays":-1}`},
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":"x","access":"full","expiresInDays":1e400}`},
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":"` + strings.Repeat("n", 101) + `","access":"full"}`},
			{atkUserA, "POST", "/api/me/v1/keys", `["name"]`},
			{atkUserA, "POST", "/api/me/v1/keys", `{"name":"x","access":"full","padding":"` + strings.Repeat("p", 2<<20) + `"}`},
			{atkUserA, "POST", "/api/me/v1/keys/" + k.Key.ID + "/regenerate", `{"overlapMinutes":-5}`},
			{atkUserA, "POST", "/api/me/v1/keys/" + k.Key.ID + "/regenerate", `{"overlapMinutes":99999999999999999999}`},
			{atkUserA, "POST", "/api/me/v1/keys/" + k.Key.ID + "/revoke", `{"reason":"` + strings.Repeat("r", 501) + `"}`},
			{atkUserA, "GET", "/api/me/v1/keys/" + k.Key.ID + "/access-log?limit=-1", nil},
			{atkUserA, "GET", "/api/me/v1/keys/" + k.Key.ID + "/access-log?limit=100000000000000000000", nil},
			{atkUserA, "GET", "/api/me/v1/keys/" + k.Key.ID + "/access-log?cursor=-7", nil},
			{atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", bigIDs},
			{atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", map[string]any{"ids": thousandOne}},
			{atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", map[string]any{"ids": []string{k.Key.ID}, "all": true}},
			{atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", map[string]any{}},
			{atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", map[string]any{"filter": map[string]any{"status": map[string]any{"$ne": 1}}}},
			{atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", map[string]any{"filter": map[string]any{"tenant": "other"}}},
			{atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", map[string]any{"filter": map[string]any{"staleDays": -3}}},
			{atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", map[string]any{"all": "yes"}},
			{atkAdminA, "POST", "/api/admin/v1/credentials/revoke", map[string]any{"confirmation": "kwcf_x", "reason": ""}},
			{atkAdminA, "POST", "/api/admin/v1/credentials/revoke", map[string]any{"confirmation": strings.Repeat("k", 5000), "reason": "x"}},
			{atkAdminA, "POST", "/api/admin/v1/credentials/" + k.Key.ID + "/revoke", `{}`},
			{atkAdminA, "POST", "/api/admin/v1/credentials/" + k.Key.ID + "/revoke", `{"reason":["a"]}`},
			{atkAdminA, "GET", "/api/admin/v1/credentials?limit=0", nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?limit=-1", nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?limit=99999999999999999999999", nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?staleDays=0", nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?sort=password", nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"s":"-created","i":"x"}`)), nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"s":"name","i":"x","t":"2020-01-01T00:00:00Z"}`)) + "&sort=name", nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?cursor=" + base64.RawURLEncoding.EncodeToString([]byte(`{"s":"-created","n":true,"i":"x"}`)), nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?createdFrom=yesterday", nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?createdFrom=2025-01-02T00:00:00Z&createdTo=2025-01-01T00:00:00Z", nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?q=" + long, nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?owner=" + long, nil},
			{atkAdminA, "GET", "/api/admin/v1/credentials?scope=" + long, nil},
			{atkAdminA, "GET", "/api/admin/v1/users?limit=500", nil},
			{atkAdminA, "GET", "/api/admin/v1/users?q=" + long, nil},
			{atkAdminA, "GET", "/api/admin/v1/users?cursor=" + base64.RawURLEncoding.EncodeToString([]byte(long)), nil},
			{atkAdminA, "GET", "/api/admin/v1/access-log?cursor=-1", nil},
			{atkAdminA, "GET", "/api/admin/v1/access-log?cursor=abc", nil},
			{atkAdminA, "GET", "/api/admin/v1/access-log?decision=maybe", nil},
			{atkAdminA, "GET", "/api/admin/v1/access-log?path=" + long, nil},
			{atkAdminA, "GET", "/api/admin/v1/export/credentials?format=xlsx", nil},
			{atkAdminA, "GET", "/api/admin/v1/export/access-log?format=xml", nil},
			{atkAdminA, "GET", "/api/admin/v1/webhook-events?limit=0", nil},
			{atkAdminA, "GET", "/api/admin/v1/webhook-events?before=-1", nil},
			{atkAdminA, "GET", "/api/admin/v1/webhook-events?status=all", nil},
			{atkAdminA, "GET", "/api/admin/v1/reports?kind=secret", nil},
			{atkAdminA, "GET", "/api/admin/v1/reports/abc", nil},
			{atkAdminA, "GET", "/api/admin/v1/reports/1?format=xml", nil},
			{atkAdminA, "GET", "/api/admin/v1/jobs/runs/-1", nil},
			{atkAdminA, "POST", "/api/admin/v1/jobs/nonexistent/run", nil},
			{atkAdminA, "PUT", "/api/admin/v1/settings/offboarding", `{"gracePeriodSeconds":"60"}`},
			{atkAdminA, "PUT", "/api/admin/v1/settings/offboarding", `null`},
			{atkAdminA, "PUT", "/api/admin/v1/settings/offboarding", `[]`},
			{atkAdminA, "PATCH", "/api/admin/v1/oauth/clients/" + clientID, `null`},
			{atkAdminA, "PUT", "/api/admin/v1/settings/offboarding", `{"reportWebhookUrl":"http://example.com/x","reportWebhookSecret":"0123456789abcdef0"}`},
			{atkAdminA, "PUT", "/api/admin/v1/settings/offboarding", `{"exemptAccountIds":["a\u0000b"]}`},
			{atkAdminA, "POST", "/api/admin/v1/oauth/clients", `{"name":"x","redirectUris":["https://user:pw@evil.example.com/cb"],"allowedScopes":["full"]}`},
			{atkAdminA, "POST", "/api/admin/v1/oauth/clients", `{"name":"x","redirectUris":["https://ok.example.com/cb#frag"],"allowedScopes":["full"]}`},
			{atkAdminA, "POST", "/api/admin/v1/oauth/clients", `{"name":"x","redirectUris":["http://evil.example.com/cb"],"allowedScopes":["full"]}`},
			{atkAdminA, "POST", "/api/admin/v1/oauth/clients", `{"name":"x","redirectUris":["javascript:alert(1)"],"allowedScopes":["full"]}`},
			{atkAdminA, "POST", "/api/admin/v1/oauth/clients", `{"name":"x","type":"confidential","redirectUris":["com.example.app:/cb"],"allowedScopes":["full"]}`},
			{atkAdminA, "POST", "/api/admin/v1/oauth/clients", `{"name":"x","redirectUris":["https://ok.example.com/cb"],"allowedScopes":[]}`},
			{atkAdminA, "PATCH", "/api/admin/v1/oauth/clients/" + clientID, `{"type":"public"}`},
			{atkUserA, "POST", "/api/me/v1/oauth/requests/x/decision", `{"approve":"yes"}`},
		}
		for _, c := range cases {
			var body any
			switch b := c.body.(type) {
			case string:
				body = b
			case []byte:
				body = b
			case nil:
			default:
				body = b
			}
			rec := e.as("a", c.who, c.method, c.path, body)
			what := c.method + " " + c.path
			if len(what) > 120 {
				what = what[:120] + "…"
			}
			if s, ok := c.body.(string); ok && len(s) < 200 {
				what += " " + s
			}
			atkWantClientError(t, what, rec)
		}
		after := e.rowCounts()
		for tb, n := range before {
			if after[tb] != n {
				t.Errorf("%s: %d rows before, %d after bad input", tb, n, after[tb])
			}
		}
		// Bad tokens on the verify endpoint.
		for _, body := range []string{`{"credential":"kwk_x","method":"get","path":"/4/worklogs"}`, `{"credential":"","method":"GET","path":"/4"}`,
			`{"credential":"x","method":"GET","path":"4/worklogs"}`, `{"credential":"x","method":"GET","path":"/` + strings.Repeat("p", 3000) + `"}`,
			`{"credential":"x","method":"GET","path":"/4","ip":"` + strings.Repeat("1", 65) + `"}`, `{"credential":"x","method":"GET","path":"/4","extra":1}`,
			`{"credential":1,"method":"GET","path":"/4"}`, `nope`} {
			atkWantClientError(t, "verify "+body[:min(len(body), 80)], e.req("POST", "/v1/verify", "Bearer "+atkRS, body))
		}
		if n := e.count("access_log"); n != 0 {
			e.flushLog()
		}
		_ = http.StatusOK
	})
}

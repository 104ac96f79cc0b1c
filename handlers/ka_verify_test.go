package handlers_test

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// TestVerifyEndpointAuthAndBadInput: /v1/verify needs a configured
// resource-server token, and a malformed request is a 400 naming the field
// (and is not recorded in the access log); a well-formed request about a
// bad credential is a 200 with a reason.
func TestVerifyEndpointAuthAndBadInput(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newKAServer(t, db, true)
		acme := s.install("acme")
		k := s.createKey(acme, kaOwner, map[string]any{"name": "k", "scopes": []string{"teams:view"}})
		good, _ := json.Marshal(kaVerifyReq{Credential: k.Secret, Method: "GET", Path: "/4/teams"})

		for _, a := range []struct{ what, header string }{
			{"no token", ""},
			{"empty bearer", "Bearer "},
			{"wrong token", "Bearer not-a-resource-server"},
			{"token prefix", "Bearer " + kaRSToken[:len(kaRSToken)-1]},
			{"basic scheme", "Basic " + kaRSToken},
			{"the API key itself", "Bearer " + k.Secret},
			{"a Connect JWT", "JWT " + acme.contextJWT(t, kaOwner)},
		} {
			if r := s.do(http.MethodPost, "/v1/verify", a.header, "application/json", good); r.status != http.StatusUnauthorized {
				t.Errorf("/v1/verify with %s: %d %s, want 401", a.what, r.status, r.body)
			}
		}
		// Both configured tokens work.
		for _, tok := range []string{kaRSToken, "other-rs-token-xyz"} {
			if r := s.do(http.MethodPost, "/v1/verify", "Bearer "+tok, "application/json", good); r.status != http.StatusOK || !strings.Contains(string(r.body), `"active":true`) {
				t.Errorf("/v1/verify with a configured token: %d %s", r.status, r.body)
			}
		}

		cases := []struct{ name, body, field string }{
			{"missing credential", `{"method":"GET","path":"/4/teams"}`, "credential"},
			{"empty credential", `{"credential":"","method":"GET","path":"/4/teams"}`, "credential"},
			{"lower-case method", `{"credential":"` + k.Secret + `","method":"get","path":"/4/teams"}`, "method"},
			{"unknown method", `{"credential":"` + k.Secret + `","method":"BREW","path":"/4/teams"}`, "method"},
			{"missing method", `{"credential":"` + k.Secret + `","path":"/4/teams"}`, "method"},
			{"relative path", `{"credential":"` + k.Secret + `","method":"GET","path":"4/teams"}`, "path"},
			{"absolute URL", `{"credential":"` + k.Secret + `","method":"GET","path":"https://api.tempo.io/4/teams"}`, "path"},
			{"missing path", `{"credential":"` + k.Secret + `","method":"GET"}`, "path"},
			{"path too long", `{"credential":"` + k.Secret + `","method":"GET","path":"/4/` + strings.Repeat("a", 2048) + `"}`, "path"},
			{"ip too long", `{"credential":"` + k.Secret + `","method":"GET","path":"/4/teams","ip":"` + strings.Repeat("1", 65) + `"}`, "ip"},
			{"credential as number", `{"credential":5,"method":"GET","path":"/4/teams"}`, "credential"},
			{"unknown field", `{"credential":"` + k.Secret + `","method":"GET","path":"/4/teams","scope":"x"}`, "scope"},
			{"malformed JSON", `{"credential":`, "body"},
			{"empty body", ``, "body"},
			{"array", `["` + k.Secret + `"]`, "body"},
		}
		for _, tc := range cases {
			r := s.do(http.MethodPost, "/v1/verify", "Bearer "+kaRSToken, "application/json", []byte(tc.body))
			if r.status != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", tc.name, r.status, r.body)
				continue
			}
			if fields := r.errorFields(t); !slices.Contains(fields, tc.field) {
				t.Errorf("%s: fields %v, want %q", tc.name, fields, tc.field)
			}
			kaMustNotShow(t, tc.name, r.body, k.Secret)
		}

		// Well-formed requests about bad credentials are answers, not errors.
		for name, c := range map[string]struct{ secret, reason string }{
			"malformed": {"kwk_not-a-key", models.ReasonMalformed},
			"unknown":   {"kwk_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefg2HyWtF", models.ReasonUnknown},
		} {
			if v := s.verify(c.secret, "GET", "/4/teams"); v.Active || v.Reason != c.reason || v.CredentialID != "" || v.Tenant != "" {
				t.Errorf("%s credential: %+v", name, v)
			}
		}

		// Only the well-formed requests reached the access log: the two
		// with configured tokens and the two bad credentials.
		s.flushAccessLog()
		var n int
		if err := db.SQL().QueryRow("SELECT COUNT(*) FROM access_log").Scan(&n); err != nil || n != 4 {
			t.Fatalf("access log rows: %d (%v), want 4", n, err)
		}
	})
}

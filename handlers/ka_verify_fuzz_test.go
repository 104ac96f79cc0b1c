package handlers_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// FuzzVerifyRequest sends arbitrary bodies to POST /v1/verify through the
// real router and verifier (SQLite). The seed corpus is in
// testdata/fuzz/FuzzVerifyRequest; "$KEY" in a body stands for the secret of
// a live key (worklogs:view), so mutations also explore valid credentials.
//
// The handler must never fail with a 5xx: every body is either a 200
// decision or a 400 naming a field, always JSON, never echoing the
// credential.
func FuzzVerifyRequest(f *testing.F) {
	s := newKAServer(f, storetest.Open(f, storetest.SQLite), false)
	acme := s.install("acme")
	k := s.createKey(acme, kaOwner, map[string]any{"name": "fuzz", "scopes": []string{"worklogs:view"}})
	reasons := map[string]bool{
		models.ReasonMalformed: true, models.ReasonUnknown: true, models.ReasonExpired: true,
		models.ReasonRevoked: true, models.ReasonScopeDenied: true, models.ReasonOwnerInactive: true,
	}

	f.Fuzz(func(t *testing.T, body []byte) {
		body = bytes.ReplaceAll(body, []byte("$KEY"), []byte(k.Secret))
		r := s.do(http.MethodPost, "/v1/verify", "Bearer "+kaRSToken, "application/json", body)
		if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
			t.Fatalf("status %d with Content-Type %q: %s", r.status, ct, r.body)
		}
		if !json.Valid(r.body) {
			t.Fatalf("status %d, body not JSON: %q", r.status, r.body)
		}
		// A field name is echoed in its error (the caller's own input, cut
		// to 64 bytes); the credential value never is.
		if bytes.Contains(r.body, []byte(k.Secret)) && !secretInFieldName(body, k.Secret) {
			t.Fatalf("response echoes the secret: %s", r.body)
		}
		switch r.status {
		case http.StatusOK:
			var v kaVerifyResp
			r.decode(t, &v)
			switch {
			case v.Active && (v.Reason != "" || v.CredentialID != k.Key.ID || v.Principal != kaOwner || v.Tenant != acme.tenant.ID):
				t.Fatalf("allowed with %+v", v)
			case !v.Active && !reasons[v.Reason]:
				t.Fatalf("refused with unknown reason %q", v.Reason)
			}
		case http.StatusBadRequest:
			if fields := r.errorFields(t); len(fields) == 0 {
				t.Fatalf("400 without field errors: %s", r.body)
			}
		default:
			t.Fatalf("status %d for body %q: %s", r.status, body, r.body)
		}
	})
}

// secretInFieldName reports whether body is a JSON object with a field name
// that contains secret.
func secretInFieldName(body []byte, secret string) bool {
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return bytes.Contains(body, []byte(`"`+secret)) // best effort for invalid JSON
	}
	for name := range obj {
		if strings.Contains(name, secret) {
			return true
		}
	}
	return false
}

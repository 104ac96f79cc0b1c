package handlers_test

import (
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

const kaOwner = "557058:alice-0000-0000"

// TestKeyLifeThroughTheRouter walks one API key through its whole life over
// HTTP: create, list/get (never the secret), verify allowed and
// scope-denied, regenerate (old secret refused), revoke (refused at once),
// then its usage and access log.
func TestKeyLifeThroughTheRouter(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newKAServer(t, db, true)
		acme := s.install("acme")

		// Create: the secret is in this kaResponse only, never cached.
		created := s.user(acme, kaOwner, http.MethodPost, "/api/me/v1/keys", map[string]any{"name": "Timesheet export", "expiresInDays": 10, "scopes": []string{"worklogs:view"}})
		if created.status != http.StatusCreated {
			t.Fatalf("create: %d %s", created.status, created.body)
		}
		if cc := created.header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("create Cache-Control %q, want no-store", cc)
		}
		var k kaIssued
		created.decode(t, &k)
		id, secret := k.Key.ID, k.Secret
		if !strings.HasPrefix(secret, "kwk_") || k.Notice == "" || k.Key.Hint != "kwk_…"+secret[len(secret)-4:] ||
			k.Key.Access != "custom" || !slices.Equal(k.Key.Scopes, []string{"worklogs:view"}) || k.Key.Status != "active" || k.Key.Kind != "api_key" {
			t.Fatalf("created %+v", k)
		}
		if d := time.Until(*k.Key.ExpiresAt); d < 10*24*time.Hour-time.Minute || d > 10*24*time.Hour {
			t.Fatalf("expires in %v, want 10 days", d)
		}

		// List and get show the key, never its secret.
		list := s.user(acme, kaOwner, http.MethodGet, "/api/me/v1/keys", nil)
		kaMustNotShow(t, "list", list.body, secret)
		var listed struct {
			Items []struct {
				ID, Hint, Status string
			} `json:"items"`
		}
		list.decode(t, &listed)
		if list.status != http.StatusOK || len(listed.Items) != 1 || listed.Items[0].ID != id || listed.Items[0].Hint != k.Key.Hint {
			t.Fatalf("list: %d %s", list.status, list.body)
		}
		got := s.user(acme, kaOwner, http.MethodGet, "/api/me/v1/keys/"+id, nil)
		kaMustNotShow(t, "get", got.body, secret)
		if got.status != http.StatusOK || !strings.Contains(string(got.body), `"id":"`+id+`"`) {
			t.Fatalf("get: %d %s", got.status, got.body)
		}

		// Verify: allowed with the principal and scopes.
		v := s.verify(secret, "GET", "/4/worklogs?from=2026-01-01")
		if !v.Active || v.Reason != "" || v.Tenant != acme.tenant.ID || v.Principal != kaOwner || v.CredentialID != id || v.Kind != "api_key" ||
			!slices.Equal(v.Scopes, []string{"worklogs:view"}) || v.ExpiresAt == nil || !v.ExpiresAt.Equal(*k.Key.ExpiresAt) {
			t.Fatalf("verify allowed: %+v", v)
		}
		// Verify: a write with a view scope is refused.
		if v := s.verify(secret, "POST", "/4/worklogs"); v.Active || v.Reason != models.ReasonScopeDenied || v.CredentialID != id {
			t.Fatalf("verify scope denied: %+v", v)
		}

		// Regenerate: new secret, same key; the old secret is refused.
		regen := s.user(acme, kaOwner, http.MethodPost, "/api/me/v1/keys/"+id+"/regenerate", nil)
		if regen.status != http.StatusOK || regen.header.Get("Cache-Control") != "no-store" {
			t.Fatalf("regenerate: %d %v %s", regen.status, regen.header, regen.body)
		}
		var r kaIssued
		regen.decode(t, &r)
		if r.Key.ID != id || r.Secret == secret || !strings.HasPrefix(r.Secret, "kwk_") || r.Key.Hint == k.Key.Hint {
			t.Fatalf("regenerated %+v", r)
		}
		if v := s.verify(secret, "GET", "/4/worklogs"); v.Active || v.Reason != models.ReasonRevoked {
			t.Fatalf("old secret after regenerate: %+v", v)
		}
		if v := s.verify(r.Secret, "GET", "/4/worklogs"); !v.Active {
			t.Fatalf("new secret: %+v", v)
		}
		if g := s.user(acme, kaOwner, http.MethodGet, "/api/me/v1/keys/"+id, nil); strings.Contains(string(g.body), r.Secret) {
			t.Fatalf("get shows the regenerated secret: %s", g.body)
		}

		// Usage reaches the key once flushed.
		if err := s.verifier.FlushUsage(t.Context()); err != nil {
			t.Fatal(err)
		}
		var used kaIssued
		s.user(acme, kaOwner, http.MethodGet, "/api/me/v1/keys/"+id, nil).decode(t, &used.Key)
		if used.Key.UseCount != 2 || used.Key.LastUsedIP != "203.0.113.9" {
			t.Fatalf("usage after flush: count=%d ip=%q, want 2 uses from 203.0.113.9", used.Key.UseCount, used.Key.LastUsedIP)
		}

		// Revoke: refused at once.
		rev := s.user(acme, kaOwner, http.MethodPost, "/api/me/v1/keys/"+id+"/revoke", map[string]string{"reason": "project finished"})
		if rev.status != http.StatusOK || !strings.Contains(string(rev.body), `"status":"revoked"`) || !strings.Contains(string(rev.body), "project finished") {
			t.Fatalf("revoke: %d %s", rev.status, rev.body)
		}
		if v := s.verify(r.Secret, "GET", "/4/worklogs"); v.Active || v.Reason != models.ReasonRevoked {
			t.Fatalf("verify right after revoke: %+v", v)
		}
		// Revoking again (DELETE) is idempotent.
		if again := s.user(acme, kaOwner, http.MethodDelete, "/api/me/v1/keys/"+id, nil); again.status != http.StatusOK {
			t.Fatalf("second revoke: %d %s", again.status, again.body)
		}

		// Access log: every verification of the key, newest first.
		s.flushAccessLog()
		logResp := s.user(acme, kaOwner, http.MethodGet, "/api/me/v1/keys/"+id+"/access-log", nil)
		kaMustNotShow(t, "access log", logResp.body, secret)
		kaMustNotShow(t, "access log", logResp.body, r.Secret)
		var page struct {
			Items []struct {
				CredentialID, Method, Path, Decision, Reason, IP, UserAgent string
			} `json:"items"`
		}
		logResp.decode(t, &page)
		want := []string{"deny revoked", "allow ", "deny revoked", "deny scope_denied", "allow "}
		var have []string
		for _, it := range page.Items {
			have = append(have, it.Decision+" "+it.Reason)
			if it.CredentialID != id || it.IP != "203.0.113.9" || it.UserAgent != "tempo-api/1" {
				t.Errorf("access log record %+v", it)
			}
		}
		if logResp.status != http.StatusOK || !slices.Equal(have, want) {
			t.Fatalf("access log: %d %v, want %v (%s)", logResp.status, have, want, logResp.body)
		}
		if page.Items[4].Path != "/4/worklogs?from=…" || page.Items[3].Method != "POST" {
			t.Fatalf("access log records: %+v", page.Items)
		}
		if limited := s.user(acme, kaOwner, http.MethodGet, "/api/me/v1/keys/"+id+"/access-log?limit=2", nil); !strings.Contains(string(limited.body), `"nextCursor"`) {
			t.Fatalf("access log page of 2 without a cursor: %s", limited.body)
		}
	})
}

// TestKeyAPIBadInputChangesNothing: every malformed or invalid request is a
// 400 naming the field, and the database is unchanged.
func TestKeyAPIBadInputChangesNothing(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newKAServer(t, db, false)
		acme := s.install("acme")
		k := s.createKey(acme, kaOwner, map[string]any{"name": "existing", "access": "full"})
		keyPath := "/api/me/v1/keys/" + k.Key.ID

		cases := []struct {
			name, method, path, contentType, body string
			field                                 string
		}{
			{"malformed JSON", "POST", "/api/me/v1/keys", "application/json", `{"name":`, "body"},
			{"not JSON", "POST", "/api/me/v1/keys", "application/json", `name=x`, "body"},
			{"empty body", "POST", "/api/me/v1/keys", "application/json", ``, "body"},
			{"array body", "POST", "/api/me/v1/keys", "application/json", `[]`, "body"},
			{"two objects", "POST", "/api/me/v1/keys", "application/json", `{"name":"a","access":"full"}{"name":"b"}`, "body"},
			{"null body", "POST", "/api/me/v1/keys", "application/json", `null`, "body"},
			{"array body", "POST", "/api/me/v1/keys", "application/json", `[{"name":"a","access":"full"}]`, "body"},
			{"null body on regenerate", "POST", keyPath + "/regenerate", "application/json", ` null `, "body"},
			{"form content type", "POST", "/api/me/v1/keys", "application/x-www-form-urlencoded", `{"name":"a","access":"full"}`, "body"},
			{"expiry as string", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","expiresInDays":"x","access":"full"}`, "expiresInDays"},
			{"expiry as fraction", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","expiresInDays":1.5,"access":"full"}`, "expiresInDays"},
			{"name as number", "POST", "/api/me/v1/keys", "application/json", `{"name":5,"access":"full"}`, "name"},
			{"scopes as string", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","scopes":"worklogs:view"}`, "scopes"},
			{"unknown field", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","access":"full","admin":true}`, "admin"},
			{"expiry zero", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","expiresInDays":0,"access":"full"}`, "expiresInDays"},
			{"expiry negative", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","expiresInDays":-1,"access":"full"}`, "expiresInDays"},
			{"expiry over the kaSite max", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","expiresInDays":366,"access":"full"}`, "expiresInDays"},
			{"empty name", "POST", "/api/me/v1/keys", "application/json", `{"name":"","access":"full"}`, "name"},
			{"missing name", "POST", "/api/me/v1/keys", "application/json", `{"access":"full"}`, "name"},
			{"name too long", "POST", "/api/me/v1/keys", "application/json", `{"name":"` + strings.Repeat("n", 101) + `","access":"full"}`, "name"},
			{"control char in name", "POST", "/api/me/v1/keys", "application/json", `{"name":"a\u0007b","access":"full"}`, "name"},
			{"C1 control in name", "POST", "/api/me/v1/keys", "application/json", `{"name":"ab\u0085cd","access":"full"}`, "name"},
			{"right-to-left override in name", "POST", "/api/me/v1/keys", "application/json", `{"name":"invoice\u202excod.exe","access":"full"}`, "name"},
			{"line separator in name", "POST", "/api/me/v1/keys", "application/json", `{"name":"a\u2028b","access":"full"}`, "name"},
			{"unknown scope", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","scopes":["worklogs:view","salaries:view"]}`, "scopes[1]"},
			{"no scopes for custom", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","scopes":[]}`, "scopes"},
			{"scopes with full", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","access":"full","scopes":["teams:view"]}`, "scopes"},
			{"bad access", "POST", "/api/me/v1/keys", "application/json", `{"name":"x","access":"root"}`, "access"},
			{"overlap as string", "POST", keyPath + "/regenerate", "application/json", `{"overlapMinutes":"5"}`, "overlapMinutes"},
			{"overlap negative", "POST", keyPath + "/regenerate", "application/json", `{"overlapMinutes":-1}`, "overlapMinutes"},
			{"overlap over a day", "POST", keyPath + "/regenerate", "application/json", `{"overlapMinutes":1441}`, "overlapMinutes"},
			{"overlap that wraps to 26 s as a duration", "POST", keyPath + "/regenerate", "application/json", `{"overlapMinutes":307445735}`, "overlapMinutes"},
			{"negative overlap that wraps", "POST", keyPath + "/regenerate", "application/json", `{"overlapMinutes":-307445734}`, "overlapMinutes"},
			{"regenerate unknown field", "POST", keyPath + "/regenerate", "application/json", `{"overlap":5}`, "overlap"},
			{"reason as number", "POST", keyPath + "/revoke", "application/json", `{"reason":5}`, "reason"},
			{"reason too long", "POST", keyPath + "/revoke", "application/json", `{"reason":"` + strings.Repeat("r", 501) + `"}`, "reason"},
			{"access log limit 0", "GET", keyPath + "/access-log?limit=0", "", "", "limit"},
			{"access log cursor", "GET", keyPath + "/access-log?cursor=abc", "", "", "cursor"},
		}
		before := s.rowCounts()
		for _, tc := range cases {
			var body []byte
			if tc.body != "" || tc.method == "POST" {
				body = []byte(tc.body)
			}
			r := s.do(tc.method, tc.path, "JWT "+acme.contextJWT(t, kaOwner), tc.contentType, body)
			if r.status != http.StatusBadRequest {
				t.Errorf("%s: %d %s, want 400", tc.name, r.status, r.body)
				continue
			}
			if fields := r.errorFields(t); !slices.Contains(fields, tc.field) {
				t.Errorf("%s: error fields %v, want %q (%s)", tc.name, fields, tc.field, r.body)
			}
		}
		if after := s.rowCounts(); !maps.Equal(before, after) {
			t.Fatalf("bad input changed the database: %v -> %v", before, after)
		}
		if v := s.verify(k.Secret, "GET", "/4/plans"); !v.Active {
			t.Fatalf("key after bad requests: %+v", v)
		}
	})
}

// TestKeyAPIAuthAndIsolation: no token is 401; another user's or another
// site's key id is 404 on every key endpoint, and changes nothing.
func TestKeyAPIAuthAndIsolation(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		s := newKAServer(t, db, false)
		acme := s.install("acme")
		globex := s.install("globex")
		k := s.createKey(acme, kaOwner, map[string]any{"name": "kaOwner's", "access": "full"})
		foreign := s.createKey(globex, kaOwner, map[string]any{"name": "same account id, other site", "access": "full"})

		endpoints := []struct{ method, path, body string }{
			{"GET", "/api/me/v1/keys", ""},
			{"POST", "/api/me/v1/keys", `{"name":"x","access":"full"}`},
			{"GET", "/api/me/v1/keys/{id}", ""},
			{"POST", "/api/me/v1/keys/{id}/regenerate", ""},
			{"POST", "/api/me/v1/keys/{id}/revoke", ""},
			{"DELETE", "/api/me/v1/keys/{id}", ""},
			{"GET", "/api/me/v1/keys/{id}/access-log", ""},
		}
		before := s.rowCounts()
		for _, ep := range endpoints {
			path := strings.ReplaceAll(ep.path, "{id}", k.Key.ID)
			var body []byte
			if ep.body != "" {
				body = []byte(ep.body)
			}
			name := ep.method + " " + ep.path
			for _, a := range []struct{ what, header string }{
				{"no token", ""},
				{"not a JWT", "JWT not-a-token"},
				{"wrong shared secret", "JWT " + kaSignJWT(t, "acme", kaOwner, auth.ContextQSH, []byte("not-the-shared-secret-0000"))},
				{"unknown site", "JWT " + kaSignJWT(t, "initech", kaOwner, auth.ContextQSH, []byte(acme.secret))},
				{"page token (real qsh)", "JWT " + kaSignJWT(t, "acme", kaOwner, auth.QSH(ep.method, path, ""), []byte(acme.secret))},
				{"no user", "JWT " + kaSignJWT(t, "acme", "", auth.ContextQSH, []byte(acme.secret))},
				{"bearer without Forge", "Bearer " + k.Secret},
			} {
				if r := s.do(ep.method, path, a.header, "application/json", body); r.status != http.StatusUnauthorized {
					t.Errorf("%s with %s: %d %s, want 401", name, a.what, r.status, r.body)
				}
			}
			if !strings.Contains(ep.path, "{id}") {
				continue
			}
			for _, o := range []struct {
				what string
				st   *kaSite
				user string
				id   string
			}{
				{"another user's key", acme, "557058:mallory", k.Key.ID},
				{"another site's key", acme, kaOwner, foreign.Key.ID},
				{"a key of this kaSite from another site", globex, kaOwner, k.Key.ID},
				{"no such key", acme, kaOwner, "0190c9e4-0000-7000-8000-000000000000"},
			} {
				r := s.user(o.st, o.user, ep.method, strings.ReplaceAll(ep.path, "{id}", o.id), nil)
				if r.status != http.StatusNotFound {
					t.Errorf("%s, %s: %d %s, want 404", name, o.what, r.status, r.body)
				}
				kaMustNotShow(t, name, r.body, k.Key.Name)
			}
		}
		if after := s.rowCounts(); !maps.Equal(before, after) {
			t.Fatalf("refused requests changed the database: %v -> %v", before, after)
		}
		for _, secret := range []string{k.Secret, foreign.Secret} {
			if v := s.verify(secret, "GET", "/4/plans"); !v.Active {
				t.Fatalf("key after refused requests: %+v", v)
			}
		}
	})
}

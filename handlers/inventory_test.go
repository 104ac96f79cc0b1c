package handlers_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/devmode"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

const (
	devAdmin = devmode.AdminAccountID
	devUser  = devmode.UserAccountID
)

// TestAdminAPIScenarios runs every admin endpoint through the real router:
// no token, a non-admin, another site's ids, and the happy path.
func TestAdminAPIScenarios(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		mine := e.key(e.a, devUser, "Payroll export", "worklogs:view")
		e.key(e.a, devUser, "Second key")
		theirs := e.key(e.b, invUserB, "Other site key")
		type row struct {
			method, path string
			body         any
			happy        int
			otherSite    string // a path naming site B's resource, refused with 404
		}
		reason := map[string]string{"reason": "scenario"}
		rows := []row{
			{http.MethodGet, "/api/admin/v1/whoami", nil, 200, ""},
			{http.MethodGet, "/api/admin/v1/credentials", nil, 200, ""},
			{http.MethodGet, "/api/admin/v1/credentials/" + mine.Key.ID, nil, 200, "/api/admin/v1/credentials/" + theirs.Key.ID},
			{http.MethodGet, "/api/admin/v1/users", nil, 200, ""},
			{http.MethodGet, "/api/admin/v1/access-log", nil, 200, ""},
			{http.MethodGet, "/api/admin/v1/export/credentials?format=ndjson", nil, 200, ""},
			{http.MethodGet, "/api/admin/v1/export/access-log?format=csv", nil, 200, ""},
			{http.MethodPost, "/api/admin/v1/credentials/revoke/preview", map[string]any{"ids": []string{mine.Key.ID}}, 200, ""},
			{http.MethodPost, "/api/admin/v1/credentials/revoke", map[string]string{"confirmation": "kwcf_unknown", "reason": "x"}, 400, ""},
			{http.MethodPost, "/api/admin/v1/credentials/" + mine.Key.ID + "/revoke", reason, 200, "/api/admin/v1/credentials/" + theirs.Key.ID + "/revoke"},
			{http.MethodPost, "/api/admin/v1/users/" + devUser + "/revoke", reason, 200, "/api/admin/v1/users/" + invUserB + "/revoke"},
		}
		for _, r := range rows {
			what := r.method + " " + r.path
			wantUnauthorized(t, what+" without a token", e.call("", r.method, r.path, r.body))
			wantError(t, what+" as a non-admin", e.call(devUser, r.method, r.path, r.body), http.StatusForbidden, "forbidden")
			wantError(t, what+" as site B's non-admin", e.call(invUserB, r.method, r.path, r.body), http.StatusForbidden, "forbidden")
			if r.otherSite != "" {
				wantError(t, r.method+" "+r.otherSite+" from site A", e.call(devAdmin, r.method, r.otherSite, r.body), http.StatusNotFound, "not_found")
			}
			if rec := e.call(devAdmin, r.method, r.path, r.body); rec.Code != r.happy {
				t.Errorf("%s as admin: %d, want %d: %s", what, rec.Code, r.happy, rec.Body)
			}
		}
		// Site B's credential is untouched by everything site A did.
		var d struct{ Credential adminCredential }
		e.ok(invAdminB, http.MethodGet, "/api/admin/v1/credentials/"+theirs.Key.ID, nil, &d)
		if d.Credential.Status != "active" {
			t.Errorf("site B's key after site A's revocations: %s", d.Credential.Status)
		}
		// Site B's admin sees only site B.
		var page adminPage
		e.ok(invAdminB, http.MethodGet, "/api/admin/v1/credentials", nil, &page)
		if len(page.Items) != 1 || page.Items[0].ID != theirs.Key.ID || page.Total.Value != 1 || !page.Total.Exact {
			t.Errorf("site B's inventory: %+v", page)
		}
	})
}

func TestAdminListFiltersSearchAndSort(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		ctx := context.Background()
		if err := store.NewSeed(e.db).UpsertUsers(ctx, []models.User{{TenantID: e.a, AccountID: "gone", DisplayName: "Gina Gone", Active: false, UpdatedAt: time.Now()}}); err != nil {
			t.Fatal(err)
		}
		payroll := e.key(e.a, devUser, "Payroll export", "worklogs:view", "accounts:manage")
		full := e.key(e.a, devAdmin, "Admin script")
		gone := e.key(e.a, "gone", "Left behind", "worklogs:manage")
		revoked := e.key(e.a, devUser, "Old bot", "teams:view")
		e.ok(devAdmin, http.MethodPost, "/api/admin/v1/credentials/"+revoked.Key.ID+"/revoke", map[string]string{"reason": "unused"}, nil)
		// A use makes one key recently used.
		if r := e.verifier.Verify(ctx, credentials.VerifyRequest{Secret: payroll.Secret, Method: "GET", Path: "/4/worklogs", IP: "203.0.113.9", UserAgent: "curl/8"}); !r.Active {
			t.Fatalf("verify: %+v", r)
		}
		if err := e.verifier.FlushUsage(ctx); err != nil {
			t.Fatal(err)
		}

		list := func(query string) []string {
			t.Helper()
			var p adminPage
			e.ok(devAdmin, http.MethodGet, "/api/admin/v1/credentials?"+query, nil, &p)
			out := make([]string, len(p.Items))
			for i, it := range p.Items {
				out[i] = it.ID
			}
			return out
		}
		same := func(what string, got []string, want ...*credentials.IssuedKey) {
			t.Helper()
			w := make([]string, len(want))
			for i, k := range want {
				w[i] = k.Key.ID
			}
			if !slices.Equal(got, w) {
				t.Errorf("%s: got %v, want %v", what, got, w)
			}
		}
		same("newest first", list(""), revoked, gone, full, payroll)
		same("oldest first", list("sort=created"), payroll, full, gone, revoked)
		same("by name", list("sort=name"), full, gone, revoked, payroll)
		same("by name descending", list("sort=-name"), payroll, revoked, gone, full)
		same("recently used first", list("sort=-lastUsed")[:1], payroll)
		same("revoked", list("status=revoked"), revoked)
		same("active", list("status=active&sort=created"), payroll, full, gone)
		same("owner", list("owner="+devUser+"&sort=created"), payroll, revoked)
		same("scope", list("scope=worklogs:view"), payroll)
		same("scope area", list("scope=worklogs&sort=created"), payroll, gone)
		same("full access", list("scope=full"), full)
		same("owner inactive", list("ownerInactive=true"), gone)
		same("search name", list("q=PAYROLL"), payroll)
		same("search owner name", list("q=gina"), gone)
		same("search accountId", list("q="+devAdmin), full)
		same("search hint", list("q="+url.QueryEscape(full.Key.Hint)), full)
		same("used since", list("lastUsedFrom="+url.QueryEscape(time.Now().Add(-time.Hour).Format(time.RFC3339))), payroll)
		same("created range", list("createdFrom="+url.QueryEscape(full.Key.CreatedAt.Format(time.RFC3339Nano))+"&createdTo="+url.QueryEscape(revoked.Key.CreatedAt.Format(time.RFC3339Nano))+"&sort=created"), full, gone)
		same("kind", list("kind=oauth_grant"))
		same("stale: nothing unused for a day yet", list("staleDays=1"))

		var one adminPage
		e.ok(devAdmin, http.MethodGet, "/api/admin/v1/credentials?q=payroll", nil, &one)
		c := one.Items[0]
		if c.Access != "custom" || !slices.Equal(c.Scopes, []string{"accounts:manage", "worklogs:view"}) || c.Owner.AccountID != devUser ||
			c.Owner.DisplayName == nil || *c.Owner.DisplayName != devmode.UserDisplayName || !c.Owner.Active || c.LastUsedAt == nil || c.RevokedAt != nil || c.Hint != payroll.Key.Hint {
			t.Errorf("list item %+v", c)
		}
		raw := e.call(devAdmin, http.MethodGet, "/api/admin/v1/credentials?q=payroll", nil).Body.String()
		if strings.Contains(raw, payroll.Secret) || !strings.Contains(raw, `"revokedAt":null`) || !strings.Contains(raw, `"nextCursor":null`) {
			t.Errorf("list body %s", raw)
		}

		bad := map[string]string{
			"sort=bogus": "sort", "limit=0": "limit", "limit=201": "limit", "status=gone": "status", "kind=token": "kind",
			"createdFrom=yesterday": "createdFrom", "staleDays=0": "staleDays", "ownerInactive=maybe": "ownerInactive",
			"scope=Worklogs%20View": "scope", "cursor=%21%21": "cursor", "q=" + strings.Repeat("x", 201): "q",
			"createdFrom=2025-02-01T00:00:00Z&createdTo=2025-01-01T00:00:00Z": "createdTo",
		}
		for q, field := range bad {
			body := wantError(t, q, e.call(devAdmin, http.MethodGet, "/api/admin/v1/credentials?"+q, nil), http.StatusBadRequest, "invalid_input")
			if body != nil && !strings.Contains(fmt.Sprint(body["fields"]), "field:"+field) {
				t.Errorf("%s: fields %v, want %s", q, body["fields"], field)
			}
		}
		// A cursor of one order is refused by another.
		var p adminPage
		e.ok(devAdmin, http.MethodGet, "/api/admin/v1/credentials?limit=1", nil, &p)
		wantError(t, "cursor of another sort", e.call(devAdmin, http.MethodGet, "/api/admin/v1/credentials?limit=1&sort=name&cursor="+*p.NextCursor, nil), http.StatusBadRequest, "invalid_input")
	})
}

// TestAdminKeysetWhileInserting pages through the inventory while new keys
// are created: every key that existed at the start is seen exactly once,
// in order, and nothing is seen twice.
func TestAdminKeysetWhileInserting(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		var initial []*credentials.IssuedKey
		for i := range 23 {
			initial = append(initial, e.key(e.a, fmt.Sprintf("owner-%d", i%4), fmt.Sprintf("Key %02d", (i*7)%23)))
		}
		for _, sort := range []string{"-created", "name", "-name", "expires"} {
			seen := map[string]bool{}
			var order []string
			var first adminPage
			cursor := ""
			for page := 0; ; page++ {
				q := "/api/admin/v1/credentials?limit=4&sort=" + sort
				if cursor != "" {
					q += "&cursor=" + url.QueryEscape(cursor)
				}
				var p adminPage
				e.ok(devAdmin, http.MethodGet, q, nil, &p)
				if page == 0 {
					first = p
				} else if p.Total != first.Total {
					t.Errorf("%s page %d: total %+v, first page said %+v", sort, page, p.Total, first.Total)
				}
				for _, it := range p.Items {
					if seen[it.ID] {
						t.Errorf("%s: %s seen twice", sort, it.ID)
					}
					seen[it.ID] = true
					order = append(order, it.ID)
				}
				// New keys land before and after the cursor.
				e.key(e.a, "late", fmt.Sprintf("Key %02d late %s", page, sort))
				e.key(e.a, "late", fmt.Sprintf("Aaa late %d %s", page, sort))
				if p.NextCursor == nil {
					break
				}
				cursor = *p.NextCursor
			}
			for _, k := range initial {
				if !seen[k.Key.ID] {
					t.Errorf("%s: %s (%s) never seen", sort, k.Key.ID, k.Key.Name)
				}
			}
			if first.Total.Value < int64(len(initial)) || !first.Total.Exact {
				t.Errorf("%s: total %+v", sort, first.Total)
			}
			if sort == "-created" {
				// Newer keys sort before the first page: none may appear.
				if int64(len(order)) != first.Total.Value {
					t.Errorf("-created: saw %d keys, total was %d", len(order), first.Total.Value)
				}
			}
		}
	})
}

// TestAdminBulkRevoke previews and confirms bulk revocations on site B.
func TestAdminBulkRevoke(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		ctx := context.Background()
		var u1 []*credentials.IssuedKey
		for i := range 6 {
			u1 = append(u1, e.key(e.b, "u1", fmt.Sprintf("u1 key %d", i)))
		}
		var u2 []string
		for i := range 3 {
			u2 = append(u2, e.key(e.b, "u2", fmt.Sprintf("u2 key %d", i)).Key.ID)
		}
		siteA := e.key(e.a, "u1", "same owner id on site A")
		const preview, confirm = "/api/admin/v1/credentials/revoke/preview", "/api/admin/v1/credentials/revoke"

		type previewBody struct {
			Count        int64             `json:"count"`
			Sample       []adminCredential `json:"sample"`
			Confirmation string            `json:"confirmation"`
			ExpiresAt    time.Time         `json:"expiresAt"`
		}
		var pv previewBody
		e.ok(invAdminB, http.MethodPost, preview, map[string]any{"filter": map[string]any{"owner": "u1", "status": "active"}}, &pv)
		if pv.Count != 6 || len(pv.Sample) != 6 || !strings.HasPrefix(pv.Confirmation, "kwcf_") || time.Until(pv.ExpiresAt) > 10*time.Minute+time.Second || time.Until(pv.ExpiresAt) < 9*time.Minute {
			t.Fatalf("preview: %+v", pv)
		}
		late := e.key(e.b, "u1", "created after the preview")

		// Refusals leave the token usable.
		body := map[string]string{"confirmation": pv.Confirmation, "reason": "contractor left"}
		wantError(t, "another admin's token", e.call(invAdminB2, http.MethodPost, confirm, body), http.StatusForbidden, "confirmation_not_yours")
		wantError(t, "another site's admin", e.call(devAdmin, http.MethodPost, confirm, body), http.StatusBadRequest, "invalid_confirmation")
		wantError(t, "no reason", e.call(invAdminB, http.MethodPost, confirm, map[string]string{"confirmation": pv.Confirmation}), http.StatusBadRequest, "invalid_input")
		wantError(t, "no token", e.call(invAdminB, http.MethodPost, confirm, map[string]string{"reason": "x"}), http.StatusBadRequest, "invalid_input")

		var res struct{ Revoked int }
		e.ok(invAdminB, http.MethodPost, confirm, body, &res)
		if res.Revoked != 6 {
			t.Fatalf("revoked %d, want 6", res.Revoked)
		}
		wantError(t, "token reuse", e.call(invAdminB, http.MethodPost, confirm, body), http.StatusConflict, "confirmation_used")

		status := func(who, id string) adminCredential {
			t.Helper()
			var d struct{ Credential adminCredential }
			e.ok(who, http.MethodGet, "/api/admin/v1/credentials/"+id, nil, &d)
			return d.Credential
		}
		for _, k := range u1 {
			c := status(invAdminB, k.Key.ID)
			if c.Status != "revoked" || c.RevokedBy == nil || *c.RevokedBy != invAdminB || c.RevokeReason == nil || *c.RevokeReason != "contractor left" {
				t.Errorf("u1 key after bulk revoke: %+v", c)
			}
			// The verifier refuses it at once.
			if r := e.verifier.Verify(ctx, credentials.VerifyRequest{Secret: k.Secret, Method: "GET", Path: "/4/worklogs"}); r.Active {
				t.Errorf("revoked key still verifies: %+v", r)
			}
		}
		if c := status(invAdminB, late.Key.ID); c.Status != "active" {
			t.Errorf("a key created after the preview was swept in: %+v", c)
		}
		if c := status(devAdmin, siteA.Key.ID); c.Status != "active" {
			t.Errorf("site A's key of the same owner id was revoked: %+v", c)
		}
		actions := e.auditActions(e.b)
		if actions["credential.bulk_revoke"] != 6 || actions["credentials.bulk_revoke"] != 1 {
			t.Errorf("audit after bulk revoke: %v", actions)
		}

		// Expired tokens are refused.
		e.ok(invAdminB, http.MethodPost, preview, map[string]any{"ids": u2}, &pv)
		if pv.Count != 3 {
			t.Fatalf("preview by ids: %+v", pv)
		}
		e.clock.Advance(11 * time.Minute)
		wantError(t, "expired token", e.call(invAdminB, http.MethodPost, confirm, map[string]string{"confirmation": pv.Confirmation, "reason": "late"}), http.StatusConflict, "confirmation_expired")
		e.clock.Advance(-11 * time.Minute)

		// By ids: another site's id is not counted nor revoked.
		e.ok(invAdminB, http.MethodPost, preview, map[string]any{"ids": append(slices.Clone(u2), siteA.Key.ID)}, &pv)
		if pv.Count != 3 {
			t.Fatalf("preview by ids with a foreign id: %+v", pv)
		}
		e.ok(invAdminB, http.MethodPost, confirm, map[string]string{"confirmation": pv.Confirmation, "reason": "by ids"}, &res)
		if res.Revoked != 3 || status(devAdmin, siteA.Key.ID).Status != "active" {
			t.Errorf("revoke by ids: %d", res.Revoked)
		}

		// Everything: only what is not revoked yet, only this site.
		e.ok(invAdminB, http.MethodPost, preview, map[string]any{"all": true}, &pv)
		if pv.Count != 1 || pv.Sample[0].ID != late.Key.ID {
			t.Fatalf("preview all: %+v", pv)
		}
		e.ok(invAdminB, http.MethodPost, confirm, map[string]string{"confirmation": pv.Confirmation, "reason": "incident"}, &res)
		if res.Revoked != 1 || status(devAdmin, siteA.Key.ID).Status != "active" {
			t.Errorf("revoke all: %d", res.Revoked)
		}

		for name, b := range map[string]any{
			"empty":           map[string]any{},
			"two selections":  map[string]any{"ids": u2, "all": true},
			"unknown filter":  map[string]any{"filter": map[string]any{"bogus": 1}},
			"bad filter":      map[string]any{"filter": map[string]any{"status": "nope"}},
			"bad filter type": map[string]any{"filter": map[string]any{"owner": []string{"x"}}},
			"unknown field":   map[string]any{"all": true, "force": true},
		} {
			wantError(t, "preview "+name, e.call(invAdminB, http.MethodPost, preview, b), http.StatusBadRequest, "invalid_input")
		}
	})
}

func TestAdminRevokeOneAndUser(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		k := e.key(e.a, devUser, "One")
		e.key(e.a, devUser, "Two")
		e.key(e.a, devUser, "Three")
		path := "/api/admin/v1/credentials/" + k.Key.ID + "/revoke"
		wantError(t, "no reason", e.call(devAdmin, http.MethodPost, path, map[string]string{}), http.StatusBadRequest, "invalid_input")
		wantError(t, "blank reason", e.call(devAdmin, http.MethodPost, path, map[string]string{"reason": "  "}), http.StatusBadRequest, "invalid_input")
		wantError(t, "long reason", e.call(devAdmin, http.MethodPost, path, map[string]string{"reason": strings.Repeat("x", 501)}), http.StatusBadRequest, "invalid_input")
		wantError(t, "unknown id", e.call(devAdmin, http.MethodPost, "/api/admin/v1/credentials/nope/revoke", map[string]string{"reason": "x"}), http.StatusNotFound, "not_found")
		var c adminCredential
		e.ok(devAdmin, http.MethodPost, path, map[string]string{"reason": "leaked"}, &c)
		if c.Status != "revoked" || *c.RevokedBy != devAdmin || *c.RevokeReason != "leaked" || c.RevokedAt == nil {
			t.Fatalf("revoked: %+v", c)
		}
		var again adminCredential
		e.ok(devAdmin, http.MethodPost, path, map[string]string{"reason": "twice"}, &again)
		if !again.RevokedAt.Equal(*c.RevokedAt) || *again.RevokeReason != "leaked" {
			t.Errorf("second revoke changed it: %+v", again)
		}
		if a := e.auditActions(e.a); a["credential.revoke"] != 1 {
			t.Errorf("audit after one revoke: %v", a)
		}

		var res struct{ Revoked int }
		e.ok(devAdmin, http.MethodPost, "/api/admin/v1/users/"+url.PathEscape(devUser)+"/revoke", map[string]string{"reason": "left"}, &res)
		if res.Revoked != 2 {
			t.Errorf("user revoke: %d, want 2", res.Revoked)
		}
		e.ok(devAdmin, http.MethodPost, "/api/admin/v1/users/"+devUser+"/revoke", map[string]string{"reason": "left"}, &res)
		if res.Revoked != 0 {
			t.Errorf("second user revoke: %d", res.Revoked)
		}
		if a := e.auditActions(e.a); a["credential.user_revoke"] != 2 || a["user.revoke_all"] != 2 {
			t.Errorf("audit after user revoke: %v", a)
		}
		wantError(t, "unknown user", e.call(devAdmin, http.MethodPost, "/api/admin/v1/users/nobody/revoke", map[string]string{"reason": "x"}), http.StatusNotFound, "not_found")
		wantError(t, "user revoke without reason", e.call(devAdmin, http.MethodPost, "/api/admin/v1/users/"+devUser+"/revoke", map[string]string{}), http.StatusBadRequest, "invalid_input")
		// accountIds with a colon arrive escaped.
		e.key(e.a, "557058:f58131cb", "Colon owner")
		e.ok(devAdmin, http.MethodPost, "/api/admin/v1/users/"+url.PathEscape("557058:f58131cb")+"/revoke", map[string]string{"reason": "left"}, &res)
		if res.Revoked != 1 {
			t.Errorf("escaped accountId: %d", res.Revoked)
		}
	})
}

func TestAdminUsersAndAccessLog(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		ctx := context.Background()
		k := e.key(e.a, devUser, "Used key", "worklogs:view")
		e.key(e.a, devAdmin, "Admin key")
		other := e.key(e.b, invUserB, "Other")
		for i := range 7 {
			path := "/4/worklogs"
			if i%3 == 0 {
				path = "/4/teams"
			}
			e.verifier.Verify(ctx, credentials.VerifyRequest{Secret: k.Secret, Method: "GET", Path: path, IP: "203.0.113.1", UserAgent: "curl"})
		}
		e.verifier.Verify(ctx, credentials.VerifyRequest{Secret: other.Secret, Method: "GET", Path: "/4/worklogs"})
		// The verifier records through its recorder; write the log directly.
		var entries []models.AccessLogEntry
		for i := range 7 {
			d, reason, path := models.DecisionAllow, "", "/4/worklogs"
			if i%3 == 0 {
				d, reason, path = models.DecisionDeny, models.ReasonScopeDenied, "/4/teams"
			}
			entries = append(entries, models.AccessLogEntry{TenantID: e.a, At: time.Now().Add(time.Duration(i) * time.Second), CredentialID: k.Key.ID, CredentialKind: models.KindAPIKey,
				OwnerAccountID: devUser, Method: "GET", Path: path, Decision: d, Reason: reason, IP: "203.0.113.1", UserAgent: "curl"})
		}
		entries = append(entries, models.AccessLogEntry{TenantID: e.b, At: time.Now(), CredentialID: other.Key.ID, CredentialKind: models.KindAPIKey, OwnerAccountID: invUserB, Method: "GET", Path: "/4/worklogs", Decision: models.DecisionAllow})
		if err := store.NewAccessLog(e.db).Append(ctx, entries); err != nil {
			t.Fatal(err)
		}
		type logPage struct {
			Items []struct {
				ID           int64  `json:"id"`
				CredentialID string `json:"credentialId"`
				Decision     string `json:"decision"`
				Path         string `json:"path"`
			} `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		var all []int64
		cursor := ""
		for range 10 {
			var p logPage
			q := "/api/admin/v1/access-log?limit=3"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			e.ok(devAdmin, http.MethodGet, q, nil, &p)
			for _, it := range p.Items {
				all = append(all, it.ID)
				if it.CredentialID != k.Key.ID {
					t.Errorf("site A's log shows %s", it.CredentialID)
				}
			}
			if p.NextCursor == nil {
				break
			}
			cursor = *p.NextCursor
		}
		if len(all) != 7 || !slices.IsSortedFunc(all, func(a, b int64) int { return int(b - a) }) {
			t.Errorf("access log pages: %v", all)
		}
		var p logPage
		e.ok(devAdmin, http.MethodGet, "/api/admin/v1/access-log?decision=deny&path=%2F4%2Fte&credential="+k.Key.ID+"&owner="+devUser, nil, &p)
		if len(p.Items) != 3 || p.NextCursor != nil {
			t.Errorf("filtered access log: %+v", p)
		}
		wantError(t, "bad decision", e.call(devAdmin, http.MethodGet, "/api/admin/v1/access-log?decision=maybe", nil), http.StatusBadRequest, "invalid_input")
		wantError(t, "bad cursor", e.call(devAdmin, http.MethodGet, "/api/admin/v1/access-log?cursor=x", nil), http.StatusBadRequest, "invalid_input")

		var d struct {
			Credential   adminCredential
			RecentAccess []map[string]any `json:"recentAccess"`
		}
		e.ok(devAdmin, http.MethodGet, "/api/admin/v1/credentials/"+k.Key.ID, nil, &d)
		if len(d.RecentAccess) != 7 || d.RecentAccess[0]["decision"] == nil {
			t.Errorf("detail recent access: %d", len(d.RecentAccess))
		}

		type usersPage struct {
			Items []struct {
				AccountID         string  `json:"accountId"`
				DisplayName       *string `json:"displayName"`
				Active            bool    `json:"active"`
				ActiveCredentials int64   `json:"activeCredentials"`
				TotalCredentials  int64   `json:"totalCredentials"`
			} `json:"items"`
			NextCursor *string `json:"nextCursor"`
		}
		var u usersPage
		e.ok(devAdmin, http.MethodGet, "/api/admin/v1/users?limit=1", nil, &u)
		if len(u.Items) != 1 || u.Items[0].AccountID != devAdmin || u.NextCursor == nil || *u.Items[0].DisplayName != devmode.AdminDisplayName {
			t.Fatalf("users page 1: %+v", u)
		}
		e.ok(devAdmin, http.MethodGet, "/api/admin/v1/users?limit=1&cursor="+*u.NextCursor, nil, &u)
		if len(u.Items) != 1 || u.Items[0].AccountID != devUser || u.Items[0].TotalCredentials != 1 || u.Items[0].ActiveCredentials != 1 || u.NextCursor != nil {
			t.Errorf("users page 2: %+v", u)
		}
		e.ok(devAdmin, http.MethodGet, "/api/admin/v1/users?q=uma", nil, &u)
		if len(u.Items) != 1 || u.Items[0].AccountID != devUser {
			t.Errorf("users search: %+v", u)
		}
		e.ok(devAdmin, http.MethodGet, "/api/admin/v1/users?ownerInactive=true", nil, &u)
		if len(u.Items) != 0 {
			t.Errorf("inactive users: %+v", u)
		}
		wantError(t, "users bad limit", e.call(devAdmin, http.MethodGet, "/api/admin/v1/users?limit=x", nil), http.StatusBadRequest, "invalid_input")
	})
}

func TestDevMode(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			db := storetest.Open(t, d)
			e := newInvEnv(t, db, true)
			rec := e.call("", http.MethodGet, "http://localhost/dev/admin", nil)
			loc := rec.Header().Get("Location")
			if rec.Code != http.StatusFound || !strings.HasPrefix(loc, "/ui/admin#token=") || rec.Header().Get("Cache-Control") != "no-store" {
				t.Fatalf("/dev/admin: %d %q", rec.Code, loc)
			}
			tok, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/ui/admin#token="))
			req := func(path, tok string) (int, map[string]string) {
				hr := httptest.NewRequest(http.MethodGet, path, nil)
				hr.Header.Set("Authorization", "JWT "+tok)
				w := httptest.NewRecorder()
				e.e.ServeHTTP(w, hr)
				out := map[string]string{}
				_ = json.Unmarshal(w.Body.Bytes(), &out)
				return w.Code, out
			}
			code, who := req("/api/admin/v1/whoami", tok)
			if code != http.StatusOK || who["accountId"] != devAdmin || who["tenant"] != e.a || who["via"] != "connect" {
				t.Errorf("admin API with the /dev/admin token: %d %v", code, who)
			}
			rec = e.call("", http.MethodGet, "http://localhost/dev/me", nil)
			loc = rec.Header().Get("Location")
			if rec.Code != http.StatusFound || !strings.HasPrefix(loc, "/ui/me#token=") {
				t.Fatalf("/dev/me: %d %q", rec.Code, loc)
			}
			userTok, _ := url.QueryUnescape(strings.TrimPrefix(loc, "/ui/me#token="))
			if code, _ := req("/api/admin/v1/whoami", userTok); code != http.StatusForbidden {
				t.Errorf("admin API with the dev user's token: %d", code)
			}
			if code, who := req("/api/me/v1/whoami", userTok); code != http.StatusOK || who["accountId"] != devUser {
				t.Errorf("self-service with the dev user's token: %d %v", code, who)
			}
			var fresh struct {
				Token     string    `json:"token"`
				ExpiresAt time.Time `json:"expiresAt"`
			}
			rec = e.call("", http.MethodGet, "http://localhost/dev/token?as=admin", nil)
			if err := json.Unmarshal(rec.Body.Bytes(), &fresh); err != nil || rec.Code != http.StatusOK || fresh.Token == "" ||
				time.Until(fresh.ExpiresAt) > devmode.TokenTTL || time.Until(fresh.ExpiresAt) < devmode.TokenTTL-time.Minute {
				t.Errorf("/dev/token: %d %s", rec.Code, rec.Body)
			}
			wantError(t, "/dev/token?as=root", e.call("", http.MethodGet, "http://localhost/dev/token?as=root", nil), http.StatusBadRequest, "invalid_input")
			// A tampered token goes through the same verification and fails.
			wantUnauthorized(t, "tampered dev token", e.call("", http.MethodGet, "/api/admin/v1/whoami?jwt="+url.QueryEscape(tok[:len(tok)-2]+"xx"), nil))

			// Ensure is idempotent: same site, same secret, old tokens work.
			again := newInvEnv(t, db, false, e.sealKey)
			if again.a != e.a {
				t.Errorf("dev site recreated: %s then %s", e.a, again.a)
			}
			if code, _ := req("/api/admin/v1/whoami", tok); code != http.StatusOK {
				t.Errorf("token after a second Ensure: %d", code)
			}
			// Without dev mode there are no dev routes.
			for _, p := range []string{"/dev/admin", "/dev/me", "/dev/token?as=admin"} {
				if rec := again.call("", http.MethodGet, p, nil); rec.Code != http.StatusNotFound {
					t.Errorf("%s without dev mode: %d", p, rec.Code)
				}
			}
		})
	}
}

func TestAdminExports(t *testing.T) {
	forEachInvDialect(t, func(t *testing.T, e *invEnv) {
		ctx := context.Background()
		const bulk = 12_000 // more than two export batches
		now := time.Now().UTC().Truncate(time.Millisecond)
		creds := make([]models.Credential, bulk)
		for i := range creds {
			c := models.Credential{ID: fmt.Sprintf("bulk-%05d", i), TenantID: e.a, Kind: models.KindAPIKey, OwnerAccountID: fmt.Sprintf("owner-%d", i%50),
				Name: fmt.Sprintf("Bulk %d", i), Hint: "kwk_…abcd", Scopes: "worklogs:view", CreatedAt: now.Add(-time.Duration(i) * time.Second), UpdatedAt: now}
			if i%10 == 0 {
				r := now
				c.RevokedAt, c.RevokedBy, c.RevokeReason = &r, devAdmin, "=cmd|' /C calc'!A0"
			}
			creds[i] = c
		}
		if err := store.NewSeed(e.db).CreateCredentials(ctx, creds, nil); err != nil {
			t.Fatal(err)
		}
		k1, k2 := e.key(e.a, devUser, "Real one"), e.key(e.a, devUser, "Real two")
		e.key(e.b, invUserB, "Other site")
		var entries []models.AccessLogEntry
		for i := range 7000 {
			entries = append(entries, models.AccessLogEntry{TenantID: e.a, At: now.Add(-time.Duration(i) * time.Second), CredentialID: k1.Key.ID, CredentialKind: models.KindAPIKey,
				OwnerAccountID: devUser, Method: "GET", Path: "/4/worklogs", Decision: models.DecisionAllow, IP: "203.0.113.5", UserAgent: "curl/8"})
		}
		for range 50 {
			entries = append(entries, models.AccessLogEntry{TenantID: e.b, At: now, CredentialID: "b", Method: "GET", Path: "/4/teams", Decision: models.DecisionDeny})
		}
		if err := store.NewAccessLog(e.db).Append(ctx, entries); err != nil {
			t.Fatal(err)
		}

		rec := e.call(devAdmin, http.MethodGet, "/api/admin/v1/export/credentials?format=csv", nil)
		if rec.Code != http.StatusOK || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(rec.Header().Get("Content-Disposition"), `attachment; filename="keyward-credentials-`) || !rec.Flushed {
			t.Fatalf("csv export: %d %v flushed=%v", rec.Code, rec.Header(), rec.Flushed)
		}
		if est := rec.Header().Get("X-Total-Estimate"); est == "" || est == "0" {
			t.Errorf("X-Total-Estimate %q", est)
		}
		body := rec.Body.String()
		for _, s := range []string{k1.Secret, k2.Secret, "secret"} {
			if strings.Contains(body, s) {
				t.Errorf("the export contains %q", s)
			}
		}
		rows, err := csvReader(body).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != bulk+3 || strings.Join(rows[0], ",") != "id,kind,name,hint,access,scopes,status,ownerAccountId,ownerDisplayName,ownerActive,createdAt,expiresAt,lastUsedAt,lastUsedIp,lastUsedUserAgent,useCount,revokedAt,revokedBy,revokeReason,clientId" {
			t.Fatalf("csv: %d rows, header %v", len(rows), rows[0])
		}
		seen := map[string]bool{}
		for _, r := range rows[1:] {
			if seen[r[0]] || len(r) != len(rows[0]) {
				t.Errorf("csv row %v duplicated or misshapen", r)
			}
			seen[r[0]] = true
			if r[6] == "revoked" && r[18] != "'=cmd|' /C calc'!A0" {
				t.Errorf("formula not defused: %q", r[18])
			}
			switch {
			case r[0] == k1.Key.ID && (r[7] != devUser || r[8] != devmode.UserDisplayName || r[9] != "true"):
				t.Errorf("known owner in the export: %v", r)
			case strings.HasPrefix(r[0], "bulk-") && (r[8] != "" || r[9] != "true"):
				t.Errorf("owner without a users row in the export: %v", r)
			}
		}
		if !seen[k1.Key.ID] || !seen["bulk-11999"] {
			t.Error("export misses rows")
		}

		rec = e.call(devAdmin, http.MethodGet, "/api/admin/v1/export/credentials?format=ndjson&status=revoked", nil)
		lines := strings.Split(strings.TrimSpace(rec.Body.String()), "\n")
		if rec.Code != http.StatusOK || rec.Header().Get("Content-Type") != "application/x-ndjson" || len(lines) != bulk/10 {
			t.Fatalf("ndjson export: %d, %d lines", rec.Code, len(lines))
		}
		for _, l := range lines {
			var c adminCredential
			if err := json.Unmarshal([]byte(l), &c); err != nil || c.Status != "revoked" || c.ID == "" {
				t.Fatalf("ndjson line %s: %v", l, err)
			}
		}

		rec = e.call(devAdmin, http.MethodGet, "/api/admin/v1/export/access-log?format=csv", nil)
		logRows, err := csvReader(rec.Body.String()).ReadAll()
		if err != nil || rec.Code != http.StatusOK || len(logRows) != 7001 || logRows[0][0] != "id" || !strings.Contains(rec.Header().Get("Content-Disposition"), "keyward-access-log-") {
			t.Fatalf("access log csv: %d, %d rows, %v", rec.Code, len(logRows), err)
		}
		for _, r := range logRows[1:] {
			if r[2] != k1.Key.ID {
				t.Fatalf("another site's record in the export: %v", r)
			}
		}
		rec = e.call(devAdmin, http.MethodGet, "/api/admin/v1/export/access-log?format=ndjson&decision=deny", nil)
		if rec.Code != http.StatusOK || strings.TrimSpace(rec.Body.String()) != "" {
			t.Errorf("empty access log export: %d %q", rec.Code, rec.Body)
		}
		wantError(t, "bad format", e.call(devAdmin, http.MethodGet, "/api/admin/v1/export/credentials?format=xml", nil), http.StatusBadRequest, "invalid_input")
		wantError(t, "bad filter", e.call(devAdmin, http.MethodGet, "/api/admin/v1/export/credentials?status=x", nil), http.StatusBadRequest, "invalid_input")
		if a := e.auditActions(e.a); a["credentials.export"] != 2 || a["access_log.export"] != 2 {
			t.Errorf("audit after exports: %v", a)
		}
	})
}

func csvReader(s string) *csv.Reader { return csv.NewReader(strings.NewReader(s)) }

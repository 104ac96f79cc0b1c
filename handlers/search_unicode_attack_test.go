package handlers_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/keyward/keyward/app/store/storetest"
)

// TestAttackRegression_UnicodeSearch: search lower-cases the query with
// Unicode rules, and SQLite's built-in lower() folded ASCII only, so a key
// with a non-ASCII capital was never found there (nor selected by a bulk
// revocation's search filter). Both engines find it now.
func TestAttackRegression_UnicodeSearch(t *testing.T) {
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			e := newInvEnv(t, storetest.Open(t, d), true)
			e.key(e.a, devUser, "ÄRGER Bot Ωmega")
			for _, q := range []string{"ÄRGER", "ärger", "Ωmega", "ωMEGA", "bot"} {
				var p adminPage
				e.ok(devAdmin, http.MethodGet, "/api/admin/v1/credentials?q="+url.QueryEscape(q), nil, &p)
				if p.Total.Value != 1 {
					t.Errorf("search %q: %d found, want the key named \"ÄRGER Bot Ωmega\"", q, p.Total.Value)
				}
			}
		})
	}
}

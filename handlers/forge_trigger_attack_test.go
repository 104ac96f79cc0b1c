package handlers_test

import (
	"net/http"
	"os"
	"testing"
)

// TestAttackRegression_UIInvocationOnTriggerEndpoints: a page of the app can
// invoke any path of the remote, so any user of a Forge site once posted
// user events (a colleague "deleted") and started reconciliations with the
// FIT of their own page. Tokens naming a user or carrying a UI context are
// refused on the trigger endpoints, and nothing is stored.
func TestAttackRegression_UIInvocationOnTriggerEndpoints(t *testing.T) {
	forEachOffboardEnv(t, func(t *testing.T, e *obEnv) {
		body, err := os.ReadFile("../app/offboard/testdata/forge_event_deleted_user.json")
		if err != nil {
			t.Fatal(err)
		}
		for name, changes := range map[string]map[string]any{
			"page token (principal and context)": nil,
			"principal only":                     {"context": nil},
			"context only":                       {"principal": nil},
		} {
			tok := bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), changes))
			wantError(t, name+": user event", e.do(http.MethodPost, "/forge/events", body, tok...), http.StatusForbidden, "not_a_trigger")
			tok = bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), changes))
			wantError(t, name+": scheduled trigger", e.do(http.MethodPost, "/forge/scheduled", []byte(`{}`), tok...), http.StatusForbidden, "not_a_trigger")
		}
		var events, runs int
		if err := e.DB.SQL().QueryRow("SELECT COUNT(*) FROM webhook_events").Scan(&events); err != nil {
			t.Fatal(err)
		}
		if err := e.DB.SQL().QueryRow("SELECT COUNT(*) FROM job_runs").Scan(&runs); err != nil {
			t.Fatal(err)
		}
		if events != 0 || runs != 0 {
			t.Fatalf("%d events stored and %d job runs started from page tokens, want none", events, runs)
		}
		// The same event from a trigger token is taken.
		if rec := e.do(http.MethodPost, "/forge/events", body, bearerHeader(triggerToken(t, "fit-1", rsaKey(t, 0), nil))...); rec.Code != http.StatusOK {
			t.Fatalf("trigger token: %d %s", rec.Code, rec.Body)
		}
	})
}

package handlers_test

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	logtest "github.com/sirupsen/logrus/hooks/test"
)

// TestAttackRegression_UIInvocationOnTriggerEndpoints: a page of the app can
// invoke any path of the remote, so any user of a Forge site once posted
// user events (a colleague "deleted") and started reconciliations with the
// FIT of their own page. Tokens naming a user (a principal, which only UI
// invocations carry) are refused on the trigger endpoints, and nothing is
// stored. A token with a context but no principal is not refused: a
// Forge-hosted trigger may receive context.cloudId, and refusing genuine
// triggers would stop every Forge site's events; it is logged as a
// warning.
func TestAttackRegression_UIInvocationOnTriggerEndpoints(t *testing.T) {
	forEachOffboardEnv(t, func(t *testing.T, e *obEnv) {
		hook := logtest.NewLocal(e.Log.Logger)
		body, err := os.ReadFile("../app/offboard/testdata/forge_event_deleted_user.json")
		if err != nil {
			t.Fatal(err)
		}
		for name, changes := range map[string]map[string]any{
			"page token (principal and context)": nil,
			"principal only":                     {"context": nil},
			"principal as an object":             {"context": nil, "principal": map[string]any{"accountId": accountID}},
		} {
			tok := bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), changes))
			wantError(t, name+": user event", e.do(http.MethodPost, "/forge/events", body, tok...), http.StatusForbidden, "not_a_trigger")
			tok = bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), changes))
			wantError(t, name+": scheduled trigger", e.do(http.MethodPost, "/forge/scheduled", []byte(`{}`), tok...), http.StatusForbidden, "not_a_trigger")
		}
		count := func(table string) int {
			t.Helper()
			var n int
			if err := e.DB.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if events, runs := count("webhook_events"), count("job_runs"); events != 0 || runs != 0 {
			t.Fatalf("%d events stored and %d job runs started from tokens with a principal, want none", events, runs)
		}

		// Context without a principal: accepted, with a warning.
		hook.Reset()
		contextOnly := map[string]any{"principal": nil}
		if rec := e.do(http.MethodPost, "/forge/events", body, bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), contextOnly))...); rec.Code != http.StatusOK {
			t.Fatalf("context-only token, user event: %d %s", rec.Code, rec.Body)
		}
		if rec := e.do(http.MethodPost, "/forge/scheduled", []byte(`{}`), bearerHeader(fitToken(t, "fit-1", rsaKey(t, 0), contextOnly))...); rec.Code != http.StatusAccepted {
			t.Fatalf("context-only token, scheduled trigger: %d %s", rec.Code, rec.Body)
		}
		if events := count("webhook_events"); events != 1 {
			t.Fatalf("%d events stored from the context-only token, want 1", events)
		}
		warnings := 0
		for _, entry := range hook.AllEntries() {
			if entry.Level == logrus.WarnLevel && strings.Contains(entry.Message, "context without a principal") {
				warnings++
			}
		}
		if warnings != 2 {
			t.Fatalf("%d warnings for the context-only tokens, want 2", warnings)
		}
		// A trigger token (neither principal nor context) is taken without one.
		hook.Reset()
		if rec := e.do(http.MethodPost, "/forge/events", body, bearerHeader(triggerToken(t, "fit-1", rsaKey(t, 0), nil))...); rec.Code != http.StatusOK {
			t.Fatalf("trigger token: %d %s", rec.Code, rec.Body)
		}
		for _, entry := range hook.AllEntries() {
			if strings.Contains(entry.Message, "forge") && entry.Level <= logrus.WarnLevel {
				t.Fatalf("trigger token logged %s: %s", entry.Level, entry.Message)
			}
		}
	})
}

package handlers_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store/storetest"
)

// TestAttackRegression_ReportWebhookReachesInternalAddresses: a site admin (a
// customer of a multi-tenant keyward) sets the report webhook URL. The
// settings accept any https URL, including loopback, link-local (cloud
// metadata) and private addresses, and the delivery client follows
// redirects, to plain http and to other hosts, carrying the report and its
// signature. keyward's own network is reachable from every site's admin
// page; the delivery outcome ("report webhook answered 404", "connection
// refused") is shown back to the admin on the report, which turns it into
// a port scanner.
func TestAttackRegression_ReportWebhookReachesInternalAddresses(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		for _, u := range []string{"https://127.0.0.1:5432/x", "https://169.254.169.254/latest/meta-data/", "https://[::1]/x", "https://10.0.0.5/x", "https://localhost:8443/x", "https://0.0.0.0/x"} {
			rec := e.as("a", atkAdminA, "PUT", "/api/admin/v1/settings/offboarding", map[string]any{"reportWebhookUrl": u, "reportWebhookSecret": "0123456789abcdef-secret"})
			if rec.Code == http.StatusOK {
				t.Errorf("report webhook URL %s accepted", u)
			}
		}
	})
	for _, d := range storetest.Dialects() {
		t.Run(d+"/redirect", func(t *testing.T) {
			t.Parallel()
			var internalHits atomic.Int32
			var gotSig atomic.Value
			internal := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				internalHits.Add(1)
				gotSig.Store(r.Header.Get("X-Keyward-Signature"))
				_, _ = io.Copy(io.Discard, r.Body)
			}))
			defer internal.Close()
			public := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, internal.URL+"/admin/internal-only", http.StatusTemporaryRedirect)
			}))
			defer public.Close()
			env := offboardtest.NewEnv(t, storetest.Open(t, d), offboard.Options{HTTPClient: public.Client()})
			site := env.ConnectSite(t, "ssrf-site", offboardtest.NewFakeJira(t))
			// Stored directly: the settings validation is the subject of the
			// first half; this half tests the delivery client.
			st, err := env.Settings.Get(context.Background(), site.ID)
			if err != nil {
				t.Fatal(err)
			}
			sealed, err := env.Sealer.Seal([]byte("0123456789abcdef-secret"), "tenant/"+site.ID+"/report_webhook_secret")
			if err != nil {
				t.Fatal(err)
			}
			st.ReportWebhookURL, st.ReportWebhookSecretEnc = public.URL+"/hook", sealed
			if err := env.Settings.Save(context.Background(), st); err != nil {
				t.Fatal(err)
			}
			if _, err := env.Svc.Reconcile(context.Background(), offboard.Run{TenantID: site.ID}); err != nil {
				t.Fatal(err)
			}
			if n := internalHits.Load(); n > 0 {
				sig, _ := gotSig.Load().(string)
				t.Errorf("the report delivery followed a redirect to plain-http %s (%d requests, signature %q forwarded)", internal.URL, n, sig[:min(len(sig), 16)])
			}
			reps, _ := env.Reports.List(context.Background(), site.ID, "", 0, 1)
			if len(reps) == 1 && reps[0].DeliveredAt != nil && strings.HasPrefix(internal.URL, "http://") {
				t.Errorf("the delivery to the internal host was recorded as delivered")
			}
		})
	}
}

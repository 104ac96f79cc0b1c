package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/jobs"
	"github.com/keyward/keyward/models"
)

// webhookAs posts a Connect user webhook signed for site A.
func (e *atkEnv) webhookA(identifier string, body []byte) *atkRecorder {
	e.t.Helper()
	tok := connectToken(e.t, atkKeyA, atkSecretA, http.MethodPost, "/webhooks/jira/user", map[string]any{"sub": nil})
	return e.req("POST", "/webhooks/jira/user", "JWT "+tok, body, "X-Atlassian-Webhook-Identifier", identifier)
}

func (e *atkEnv) processEvents() {
	e.t.Helper()
	for range 20 {
		n, err := e.ob.ProcessDue(context.Background(), "test-worker")
		if err != nil {
			e.t.Fatal(err)
		}
		if n == 0 {
			return
		}
	}
}

func atkUserDeleted(account string, ts int64) []byte {
	return []byte(fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"user_deleted","user":{"accountId":%q}}`, ts, account))
}

func (e *atkEnv) auditCount(action string) int {
	e.t.Helper()
	var n int
	if err := e.db.SQL().QueryRow(atkRebind(e, "SELECT COUNT(*) FROM audit_events WHERE action = ?"), action).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// TestAttackGuard_WebhooksMalformedDuplicateOutOfOrder: malformed bodies
// get 400 and store nothing; a duplicate identifier has one effect; a
// deletion followed by a newer "active" update leaves the credentials
// revoked.
func TestAttackGuard_WebhooksMalformedDuplicateOutOfOrder(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		k := e.createKey("a", atkUserA, nil)
		k2 := e.createKey("a", atkUserA, nil)
		for _, body := range []string{`{`, `[]`, `"x"`, `{"webhookEvent":"user_updated","user":{}}`, `{"webhookEvent":"user_updated","user":{"accountId":""}}`,
			`{"webhookEvent":"user_updated","user":{"accountId":"` + strings.Repeat("a", 200) + `"}}`, `{"webhookEvent":"issue_created","user":{"accountId":"x"}}`,
			`{"webhookEvent":"user_updated","user":{"accountId":"a\u0000b"}}`, `{"webhookEvent":"user_updated","user":{"accountId":"x"}} {}`, ``} {
			atkWantClientError(t, "webhook "+body[:min(len(body), 60)], e.webhookA("bad-"+body[:min(len(body), 10)], []byte(body)))
		}
		if n := e.count("webhook_events"); n != 0 {
			t.Fatalf("malformed webhooks stored %d events", n)
		}
		now := time.Now().UnixMilli()
		del := atkUserDeleted(atkUserA, now)
		var acks []string
		for range 3 {
			rec := e.webhookA("dup-1", del)
			if rec.Code != http.StatusOK {
				t.Fatalf("webhook: %d %s", rec.Code, rec.Body)
			}
			acks = append(acks, rec.Body.String())
		}
		if !strings.Contains(acks[0], `"duplicate":false`) || !strings.Contains(acks[1], `"duplicate":true`) || !strings.Contains(acks[2], `"duplicate":true`) {
			t.Errorf("acks %v", acks)
		}
		e.processEvents()
		// The same deletion again under another identifier (a redelivery).
		e.webhookA("dup-2", del)
		e.processEvents()
		if n := e.auditCount("owner.offboard"); n != 2 {
			t.Errorf("owner.offboard audit rows: %d, want 2 (one per credential)", n)
		}
		// Newer "active" event after the deletion.
		e.webhookA("later-active", userUpdated(atkUserA, true, now+60_000))
		e.processEvents()
		for _, s := range []string{k.Secret, k2.Secret} {
			if v := e.verify(s, "GET", "/4/worklogs"); v["active"] != false || v["reason"] != "revoked" {
				t.Errorf("after deleted then updated-active: %v", v)
			}
		}
		u, err := store.NewUsers(e.db).Get(context.Background(), e.a.ID, atkUserA)
		if err != nil || !u.Deleted {
			t.Errorf("user after deleted then active: %+v %v", u, err)
		}
	})
}

// TestAttackGuard_ConcurrentDuplicates: one confirmation token used by ten
// concurrent requests revokes once; ten concurrent refreshes with one
// token give one new pair; ten concurrent decisions on one consent request
// give one code; ten concurrent code exchanges give one grant; ten
// parallel deliveries of one webhook store one event. Nobody gets a 5xx.
func TestAttackGuard_ConcurrentDuplicates(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		const n = 10
		for i := range 5 {
			e.createKey("a", atkUserA, map[string]any{"name": fmt.Sprintf("k%d", i), "access": "full"})
		}
		parallel := func(what string, fn func() int) map[int]int {
			var mu sync.Mutex
			codes := map[int]int{}
			var wg sync.WaitGroup
			start := make(chan struct{})
			for range n {
				wg.Go(func() {
					<-start
					c := fn()
					mu.Lock()
					codes[c]++
					mu.Unlock()
				})
			}
			close(start)
			wg.Wait()
			for c := range codes {
				if c >= 500 {
					t.Errorf("%s: statuses %v include a server error", what, codes)
				}
			}
			if codes[http.StatusOK] != 1 {
				t.Errorf("%s: statuses %v, want exactly one 200", what, codes)
			}
			return codes
		}

		var prev struct {
			Count        int    `json:"count"`
			Confirmation string `json:"confirmation"`
		}
		e.mustOK(e.as("a", atkAdminA, "POST", "/api/admin/v1/credentials/revoke/preview", map[string]any{"all": true}), "preview", http.StatusOK, &prev)
		parallel("confirm", func() int {
			return e.as("a", atkAdminA, "POST", "/api/admin/v1/credentials/revoke", map[string]any{"confirmation": prev.Confirmation, "reason": "race"}).Code
		})
		if got := e.auditCount("credentials.bulk_revoke"); got != 1 {
			t.Errorf("bulk revoke audited %d times", got)
		}
		if got := e.auditCount("credential.bulk_revoke"); got != prev.Count {
			t.Errorf("per-credential audit rows %d, want %d", got, prev.Count)
		}

		id, secret := e.registerClient(map[string]any{})
		_, refresh := e.grant(id, secret, "")
		parallel("refresh", func() int {
			st, _ := e.token(id, secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
			return st
		})

		q := url.Values{"response_type": {"code"}, "client_id": {id}, "redirect_uri": {atkRedir}}
		reqID := e.authorizeRequest(q)
		parallel("decision", func() int {
			return e.as("a", atkUserA, "POST", "/api/me/v1/oauth/requests/"+reqID+"/decision", map[string]any{"approve": true}).Code
		})

		code := e.code(id, "", "")
		parallel("code exchange", func() int {
			st, _ := e.token(id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {atkRedir}})
			return st
		})

		body := userUpdated("557058:someone", true, time.Now().UnixMilli())
		dups := 0
		var mu sync.Mutex
		parallel("webhook", func() int {
			rec := e.webhookA("same-delivery", body)
			if strings.Contains(rec.Body.String(), `"duplicate":true`) {
				mu.Lock()
				dups++
				mu.Unlock()
				return http.StatusAccepted // count duplicates apart
			}
			return rec.Code
		})
		if e.count("webhook_events") != 1 || dups != n-1 {
			t.Errorf("webhook events %d, duplicates %d", e.count("webhook_events"), dups)
		}
	})
}

// TestAttackGuard_ParallelSignedInstalls: the same signed installed
// callback delivered eight times at once creates one tenant and answers
// every delivery 204.
func TestAttackGuard_ParallelSignedInstalls(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		p := installPayload(t, "parallel-site", "")
		var wg sync.WaitGroup
		codes := make([]int, 8)
		for i := range codes {
			wg.Go(func() { codes[i] = e.install(p, "kid-1", rsaKey(t, 0)).Code })
		}
		wg.Wait()
		for i, c := range codes {
			if c != http.StatusNoContent {
				t.Errorf("install %d: %d", i, c)
			}
		}
		var n int
		if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM tenants").Scan(&n); err != nil || n != 1 {
			t.Errorf("tenants after parallel installs: %d %v", n, err)
		}
	})
}

// TestAttackGuard_ReconcileStoppedMidRun: a reconcile run cancelled by
// shutdown records itself as canceled (never stays "running"); a run left
// "running" by a killed process is marked abandoned by the next run.
func TestAttackGuard_ReconcileStoppedMidRun(t *testing.T) {
	forEachAtk(t, func(t *testing.T, e *atkEnv) {
		for i := range 30 {
			owner := fmt.Sprintf("557058:owner-%02d", i)
			e.createKey("a", owner, nil)
			e.fjA.SetUser(owner, true)
		}
		e.fjA.SetLatency(300 * time.Millisecond)
		var started struct {
			RunID int64 `json:"runId"`
		}
		e.mustOK(e.as("a", atkAdminA, "POST", "/api/admin/v1/jobs/reconcile/run", nil), "start", http.StatusAccepted, &started)
		time.Sleep(50 * time.Millisecond)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		e.sched.Stop(ctx)
		var run struct {
			Status string `json:"status"`
		}
		e.mustOK(e.as("a", atkAdminA, "GET", fmt.Sprintf("/api/admin/v1/jobs/runs/%d", started.RunID), nil), "run", http.StatusOK, &run)
		if run.Status != string(models.RunCanceled) {
			t.Errorf("run stopped by shutdown is %q, want canceled", run.Status)
		}
		// Nobody was revoked by a half-done run: Jira never said anyone left.
		if n := e.auditCount("owner.offboard"); n != 0 {
			t.Errorf("%d revocations from a cancelled run", n)
		}
		// A run a killed process left behind.
		old := time.Now().Add(-time.Hour).UTC()
		if _, err := e.db.SQL().Exec(atkRebind(e, `INSERT INTO job_runs (job, tenant_id, triggered_by, status, started_at, heartbeat_at, progress, counts, error, replica)
			VALUES ('reconcile', ?, 'test', 'running', ?, ?, '{}', '{}', '', 'dead')`), e.a.ID, old, old); err != nil {
			t.Fatal(err)
		}
		e.fjA.SetLatency(0)
		sched, err := jobs.New(store.NewJobRuns(e.db), e.db, store.NewAudit(e.db), e.db, e.ob.Log, jobs.ReconcileJob(e.ob, "off"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sched.RunOnce(context.Background(), "reconcile", e.a.ID, "test"); err != nil {
			t.Fatal(err)
		}
		var running int
		if err := e.db.SQL().QueryRow("SELECT COUNT(*) FROM job_runs WHERE status = 'running'").Scan(&running); err != nil || running != 0 {
			t.Errorf("runs still 'running': %d %v", running, err)
		}
		if n := e.auditCount("owner.offboard"); n != 0 {
			t.Errorf("%d revocations of active owners", n)
		}
	})
}

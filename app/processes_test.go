package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// These tests start real keyward processes (the binary built from this
// package) on one PostgreSQL schema, as replicas would run.

// buildKeyward builds the binary once per test binary.
var buildKeyward = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "keyward-bin-")
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "keyward")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// procEnv is a PostgreSQL schema with a Connect site whose Jira is a fake,
// and what a keyward process needs to run on it.
type procEnv struct {
	t    *testing.T
	url  string
	db   *store.DB
	env  *offboardtest.Env
	jira *offboardtest.FakeJira
	site *models.Tenant
	bin  string
}

func newProcEnv(t *testing.T) *procEnv {
	t.Helper()
	url := storetest.PostgresURL(t)
	db, err := store.Open(context.Background(), store.Options{PostgresURL: url})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	storetest.Migrate(t, db)
	bin, err := buildKeyward()
	if err != nil {
		t.Fatal(err)
	}
	env := offboardtest.NewEnv(t, db, offboard.Options{})
	fj := offboardtest.NewFakeJira(t)
	return &procEnv{t: t, url: url, db: db, env: env, jira: fj, site: env.ConnectSite(t, "client-procs", fj), bin: bin}
}

// owners gives n owners a key each; every fifth is inactive in Jira. It
// returns the inactive ones.
func (p *procEnv) owners(n int) (inactive []string) {
	for i := range n {
		id := fmt.Sprintf("557058:proc-%04d", i)
		p.jira.SetUser(id, i%5 != 0)
		p.env.Key(p.t, p.site.ID, id)
		if i%5 == 0 {
			inactive = append(inactive, id)
		}
	}
	return inactive
}

// start starts the binary with args and the database's variables plus
// extra; its output goes to the returned buffer.
func (p *procEnv) start(extra map[string]string, args ...string) (*exec.Cmd, *syncBuffer) {
	p.t.Helper()
	cmd := exec.Command(p.bin, args...)
	cmd.Env = append(os.Environ(), "KEYWARD_DATABASE_URL="+p.url, "KEYWARD_ENCRYPTION_KEY="+p.env.EncryptionKey,
		"KEYWARD_LOG_FORMAT=json", "KEYWARD_PDR_SCHEDULE=off", "KEYWARD_WEEKLY_REPORT_SCHEDULE=off")
	for k, v := range extra {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd, out
}

func (p *procEnv) count(query string, args ...any) int {
	p.t.Helper()
	var n int
	if err := p.db.SQL().QueryRow(query, args...).Scan(&n); err != nil {
		p.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestProcessKilledMidRunIsCaughtUp: a run-job process killed (SIGKILL) in
// the middle of a reconciliation leaves what it committed. A process
// started while it runs is refused; one started after the kill takes the
// lock the dead process lost, marks its run and report abandoned, and
// finishes the work: every inactive owner revoked once, nothing twice.
func TestProcessKilledMidRunIsCaughtUp(t *testing.T) {
	p := newProcEnv(t)
	inactive := p.owners(450) // 5 user/bulk batches, 90 inactive owners
	p.jira.SetLatency(time.Second)
	slow := map[string]string{"KEYWARD_RECONCILE_CONCURRENCY": "1"}

	first, firstOut := p.start(slow, "run-job", "reconcile")
	waitFor(t, "the first batch to be revoked", 30*time.Second, func() bool {
		return p.count("SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL") > 0
	})

	// Another process while the first runs: refused, nothing recorded.
	busy, busyOut := p.start(nil, "run-job", "reconcile")
	if err := busy.Wait(); err == nil || !strings.Contains(busyOut.String(), "already running") {
		t.Fatalf("second run-job while one runs: %v\n%s", err, busyOut)
	}

	if err := first.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = first.Wait()
	revokedByFirst := p.count("SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL")
	if revokedByFirst == 0 || revokedByFirst >= len(inactive) {
		t.Fatalf("killed run revoked %d of %d: kill it mid-run (output:\n%s)", revokedByFirst, len(inactive), firstOut)
	}
	if n := p.count("SELECT COUNT(*) FROM job_runs WHERE status = 'running'"); n != 1 {
		t.Fatalf("%d runs marked running after the kill, want the dead one", n)
	}

	p.jira.SetLatency(0)
	catchUp, out := p.start(nil, "run-job", "reconcile")
	if err := catchUp.Wait(); err != nil {
		t.Fatalf("catch-up run: %v\n%s", err, out)
	}
	if n := p.count("SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL AND revoke_reason = $1", offboard.ReasonReconciled); n != len(inactive) {
		t.Fatalf("after catch-up %d revoked, want %d", n, len(inactive))
	}
	if n := p.count("SELECT COUNT(*) FROM credentials WHERE revoked_at IS NOT NULL AND owner_account_id <> ALL($1)", inactiveArray(inactive)); n != 0 {
		t.Fatalf("%d credentials of active owners revoked", n)
	}
	if n := p.count("SELECT COUNT(*) FROM audit_events WHERE action = $1", offboard.ActionOffboard); n != len(inactive) {
		t.Fatalf("%d audit rows, want one per revoked credential (%d): nothing revoked twice", n, len(inactive))
	}
	if n := p.count("SELECT COUNT(*) FROM job_runs WHERE status = 'abandoned'"); n != 1 {
		t.Fatalf("%d abandoned runs, want the killed one", n)
	}
	if n := p.count("SELECT COUNT(*) FROM reports WHERE status = 'running'"); n != 0 {
		t.Fatalf("%d reports still running", n)
	}
}

func inactiveArray(ids []string) string {
	return "{" + strings.Join(ids, ",") + "}"
}

// TestTwoServeProcessesShareOnePostgres: two serve processes on one
// database, each given every delivery of a burst of user_deleted webhooks
// (as Jira's retries and a load balancer would spread them): each event
// is stored once and revokes once. Both run the reconciliation schedule:
// each tick runs once.
func TestTwoServeProcessesShareOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for a scheduled minute")
	}
	p := newProcEnv(t)
	p.owners(20)
	deleted := []string{"557058:proc-0001", "557058:proc-0002", "557058:proc-0003", "557058:proc-0006", "557058:proc-0007"}
	var bases []string
	for range 2 {
		addr := freeAddr(t)
		p.start(map[string]string{"KEYWARD_ADDR": addr, "KEYWARD_RECONCILE_SCHEDULE": "* * * * *", "KEYWARD_WEBHOOK_POLL": "50ms"}, "serve")
		base := "http://" + addr
		waitFor(t, base+" to be ready", 30*time.Second, func() bool {
			res, err := http.Get(base + "/readyz")
			if err == nil {
				res.Body.Close()
			}
			return err == nil && res.StatusCode == http.StatusOK
		})
		bases = append(bases, base)
	}

	secret := []byte("shared-secret-" + strings.Repeat("x", 24))
	var wg sync.WaitGroup
	for i, account := range deleted {
		body := fmt.Sprintf(`{"timestamp":%d,"webhookEvent":"user_deleted","user":{"accountId":%q}}`, time.Now().UnixMilli(), account)
		for _, base := range bases {
			for range 2 {
				wg.Go(func() {
					req, _ := http.NewRequest(http.MethodPost, base+"/webhooks/jira/user", strings.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
					req.Header.Set("Authorization", "JWT "+connectJWT(t, "client-procs", secret, http.MethodPost, "/webhooks/jira/user"))
					req.Header.Set("X-Atlassian-Webhook-Identifier", fmt.Sprintf("delivery-%d", i))
					res, err := http.DefaultClient.Do(req)
					if err != nil {
						t.Error(err)
						return
					}
					res.Body.Close()
					if res.StatusCode != http.StatusOK && res.StatusCode != http.StatusAccepted {
						t.Errorf("webhook to %s: %d", base, res.StatusCode)
					}
				})
			}
		}
	}
	wg.Wait()
	waitFor(t, "the events to be processed", 30*time.Second, func() bool {
		return p.count("SELECT COUNT(*) FROM webhook_events WHERE status <> 'done'") == 0
	})
	if n := p.count("SELECT COUNT(*) FROM webhook_events"); n != len(deleted) {
		t.Fatalf("%d events stored for %d identifiers delivered 4 times each", n, len(deleted))
	}
	if n := p.count("SELECT COUNT(*) FROM audit_events WHERE action = $1", offboard.ActionOffboard); n != len(deleted) {
		t.Fatalf("%d offboarding audit rows, want one per deleted owner's key (%d)", n, len(deleted))
	}

	// The next minute's tick, run by exactly one of the two.
	waitFor(t, "a scheduled reconciliation", 90*time.Second, func() bool {
		return p.count("SELECT COUNT(*) FROM job_runs WHERE job = 'reconcile' AND scheduled_at IS NOT NULL AND status = 'succeeded'") >= 1
	})
	if n := p.count("SELECT COUNT(*) - COUNT(DISTINCT scheduled_at) FROM job_runs WHERE job = 'reconcile' AND scheduled_at IS NOT NULL"); n != 0 {
		t.Fatalf("%d ticks ran more than once", n)
	}
}

// connectJWT signs what Jira sends with a webhook: HS256 with the site's
// shared secret, iss the clientKey, qsh of the request.
func connectJWT(t *testing.T, clientKey string, secret []byte, method, path string) string {
	t.Helper()
	now := time.Now()
	enc := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	signing := enc(map[string]string{"alg": "HS256", "typ": "JWT"}) + "." +
		enc(map[string]any{"iss": clientKey, "iat": now.Unix(), "exp": now.Add(3 * time.Minute).Unix(), "qsh": auth.QSH(method, path, "")})
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
}

package handlers_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/app/offboard/offboardtest"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/models"
)

// benchSite is the real router with the offboarding service on PostgreSQL,
// served over loopback HTTP, with one installed Connect site.
type benchSite struct {
	env   *offboardtest.Env
	srv   *httptest.Server
	site  *models.Tenant
	token string
}

func newBenchSite(b *testing.B) *benchSite {
	b.Helper()
	db := storetest.Open(b, storetest.Postgres)
	env := offboardtest.NewEnv(b, db, offboard.Options{Poll: 50 * time.Millisecond})
	site := env.ConnectSite(b, "bench-client", offboardtest.NewFakeJira(b))
	e := handlers.New(handlers.Deps{
		Log: env.Log, BaseURL: appBaseURL, BodyLimit: "16K", JWTLeeway: 10 * time.Second,
		DB: db, Tenants: env.TenantSvc, Lifecycle: env.TenantSvc, Admins: adminsOf{}, UserEvents: env.Svc,
	})
	srv := httptest.NewServer(e)
	b.Cleanup(srv.Close)
	u, _ := url.Parse(appBaseURL + "/webhooks/jira/user")
	tok, err := auth.SignOutgoing("bench-client", []byte("shared-secret-"+strings.Repeat("x", 24)), http.MethodPost, u, appBaseURL, time.Now(), time.Hour)
	if err != nil {
		b.Fatal(err)
	}
	return &benchSite{env: env, srv: srv, site: site, token: tok}
}

func (s *benchSite) post(client *http.Client, id string, body []byte) error {
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/webhooks/jira/user", bytes.NewReader(body))
	req.Header.Set("Authorization", "JWT "+s.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Atlassian-Webhook-Identifier", id)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	// Drain the body so the keep-alive connection is reused.
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// BenchmarkWebhookIngestion measures stored-and-acknowledged user webhooks
// per second over loopback HTTP on PostgreSQL (target: at least 3,000/s).
//
//	go test ./handlers -run '^$' -bench WebhookIngestion -benchtime 20000x
func BenchmarkWebhookIngestion(b *testing.B) {
	s := newBenchSite(b)
	const clients = 32
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	var next atomic.Int64
	var failed atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				acct := fmt.Sprintf("557058:%08d", i)
				if err := s.post(client, "wh-"+acct, userUpdated(acct, i%2 == 0, i)); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	b.StopTimer()
	if failed.Load() > 0 {
		b.Fatalf("%d deliveries failed", failed.Load())
	}
	var stored int
	_ = s.env.DB.SQL().QueryRow("SELECT COUNT(*) FROM webhook_events").Scan(&stored)
	if stored != b.N {
		b.Fatalf("stored %d of %d", stored, b.N)
	}
	b.ReportMetric(float64(b.N)/took.Seconds(), "deliveries/s")
}

// BenchmarkDeactivationToRefusal measures the time from a deactivation
// webhook to the first refused verification: in the process whose worker
// revoked (evicted at once), and on another replica whose verifier learns
// through the revocation poller (KEYWARD_REVOCATION_POLL 500 ms). Target:
// p99 at most 1 s.
//
//	go test ./handlers -run '^$' -bench DeactivationToRefusal -benchtime 200x
func BenchmarkDeactivationToRefusal(b *testing.B) {
	s := newBenchSite(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var bg sync.WaitGroup
	defer bg.Wait()
	defer cancel()
	bg.Go(func() { s.env.Svc.RunWorkers(ctx, 4) })
	other := credentials.NewVerifier(store.NewCredentials(s.env.DB), s.env.Log) // another replica's cache
	bg.Go(func() { other.RunPoller(ctx, 500*time.Millisecond) })
	client := &http.Client{}
	verify := func(v *credentials.Verifier, secret string) credentials.Result {
		return v.Verify(ctx, credentials.VerifyRequest{Secret: secret, Method: "GET", Path: "/4/worklogs"})
	}
	var local, remote []time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		acct := fmt.Sprintf("557058:lat%06d", i)
		secret, _ := s.env.Key(b, s.site.ID, acct)
		if !verify(s.env.Verifier, secret).Active || !verify(other, secret).Active {
			b.Fatal("fresh key refused")
		}
		b.StartTimer()
		start := time.Now()
		if err := s.post(client, "lat-"+acct, userUpdated(acct, false, int64(i+1))); err != nil {
			b.Fatal(err)
		}
		var doneLocal, doneRemote bool
		for !doneLocal || !doneRemote {
			if time.Since(start) > 10*time.Second {
				b.Fatalf("key %d still accepted after 10 s", i)
			}
			if !doneLocal && !verify(s.env.Verifier, secret).Active {
				doneLocal = true
				local = append(local, time.Since(start))
			}
			if !doneRemote && !verify(other, secret).Active {
				doneRemote = true
				remote = append(remote, time.Since(start))
			}
			time.Sleep(time.Millisecond)
		}
	}
	b.StopTimer()
	for _, x := range []struct {
		name string
		d    []time.Duration
	}{{"same-replica", local}, {"other-replica", remote}} {
		slices.Sort(x.d)
		p := func(q float64) time.Duration { return x.d[min(len(x.d)-1, int(q*float64(len(x.d))))] }
		b.ReportMetric(float64(p(0.5).Microseconds())/1000, x.name+"-p50-ms")
		b.ReportMetric(float64(p(0.99).Microseconds())/1000, x.name+"-p99-ms")
	}
}

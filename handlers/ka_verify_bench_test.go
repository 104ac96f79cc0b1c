package handlers_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/keyward/keyward/app/store/storetest"
)

// BenchmarkVerifyEndpoint sends POST /v1/verify for a cached key through
// the real router (middleware, JSON in and out, verifier, access log
// queue) in process, without a network. It is the profile target for the
// HTTP hot path.
//
// Target: the HTTP figures are measured end to end with app/tools/loadgen
// (>= 25,000 req/s with the access log off, >= 15,000/s with it on, on 2
// cores shared with the load generator; see BENCHMARKS.md). In process the
// handler must cost well under the 2 cores / 25,000 req/s = 80 µs of CPU
// per request that budget allows.
func BenchmarkVerifyEndpoint(b *testing.B) {
	for _, withLog := range []bool{false, true} {
		name := "access_log_off"
		if withLog {
			name = "access_log_on"
		}
		b.Run(name, func(b *testing.B) {
			s := newKAServer(b, storetest.Open(b, storetest.SQLite), withLog)
			acme := s.install("acme")
			k := s.createKey(acme, kaOwner, map[string]any{"name": "bench", "scopes": []string{"worklogs:view"}})
			body, _ := json.Marshal(kaVerifyReq{Credential: k.Secret, Method: "GET", Path: "/4/worklogs/12345", IP: "203.0.113.9", UserAgent: "tempo-api/1"})
			if v := s.verify(k.Secret, "GET", "/4/worklogs/12345"); !v.Active {
				b.Fatalf("bench key refused: %+v", v)
			}
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rd := bytes.NewReader(body)
				for pb.Next() {
					rd.Reset(body)
					req := httptest.NewRequest(http.MethodPost, "/v1/verify", rd)
					req.Header.Set("Authorization", "Bearer "+kaRSToken)
					req.Header.Set("Content-Type", "application/json")
					rec := httptest.NewRecorder()
					s.e.ServeHTTP(rec, req)
					if rec.Code != http.StatusOK {
						b.Fatalf("status %d: %s", rec.Code, rec.Body)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkVerifyLoopback serves the real router with net/http on a
// loopback port and sends keep-alive POST /v1/verify requests from every
// core, so a -cpuprofile shows the whole server path (net/http included)
// next to a minimal client. PostgreSQL when reachable, as in production.
//
// Target: see BenchmarkVerifyEndpoint; the end-to-end figures come from
// app/tools/loadgen against the real binary.
func BenchmarkVerifyLoopback(b *testing.B) {
	dialect := storetest.Postgres
	if testing.Short() {
		dialect = storetest.SQLite
	}
	s := newKAServer(b, storetest.Open(b, dialect), true)
	acme := s.install("acme")
	k := s.createKey(acme, kaOwner, map[string]any{"name": "bench", "scopes": []string{"worklogs:view"}})
	srv := httptest.NewServer(s.e)
	defer srv.Close()
	body, _ := json.Marshal(kaVerifyReq{Credential: k.Secret, Method: "GET", Path: "/4/worklogs/12345", IP: "203.0.113.9", UserAgent: "tempo-api/1"})
	raw := []byte(fmt.Sprintf("POST /v1/verify HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		srv.Listener.Addr(), kaRSToken, len(body), body))
	b.SetParallelism(8) // 16 connections on 2 cores
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		br := bufio.NewReader(conn)
		for pb.Next() {
			if _, err := conn.Write(raw); err != nil {
				b.Error(err)
				return
			}
			res, err := http.ReadResponse(br, nil)
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

package handlers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/devmode"
	"github.com/keyward/keyward/app/seed"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

// TestInventoryAtScale is the admin console's performance check, run on
// demand:
//
//	KEYWARD_SCALE_CREDENTIALS=1000000 go test -run TestInventoryAtScale -v -timeout 30m ./handlers/
//
// It seeds that many API keys (and as many access log records) on
// PostgreSQL with COPY, then times list requests through the real router
// (authentication, admin check, query, JSON) for several filters, sorts and
// page depths, and streams full exports. Targets: p95 <= 20 ms for every
// list scenario, exports >= 100,000 rows/s. KEYWARD_SCALE_REPORT=path
// writes the results as a Markdown table.
func TestInventoryAtScale(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("KEYWARD_SCALE_CREDENTIALS"))
	if n <= 0 {
		t.Skip("set KEYWARD_SCALE_CREDENTIALS (e.g. 1000000) to run the scale check")
	}
	storetest.RequirePostgres(t)
	ctx := context.Background()
	db := storetest.Open(t, storetest.Postgres)
	e := newInvEnv(t, db, true)

	start := time.Now()
	res, err := seed.Run(ctx, store.NewSeed(db), store.NewAccessLog(db), store.NewAudit(db), seed.Options{
		TenantID: e.a, Users: max(n/50, 400), Keys: n, AccessLog: n, Batch: 50_000, FastSecrets: true,
		Owners: []models.User{{AccountID: devAdmin, DisplayName: devmode.AdminDisplayName, Active: true, UpdatedAt: time.Now()}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, "VACUUM ANALYZE credentials"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.SQL().ExecContext(ctx, "VACUUM ANALYZE access_log"); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded %d keys, %d users, %d access log records in %s (COPY), vacuumed in %s",
		res.Keys, res.Users, res.AccessLog, res.Elapsed.Round(time.Second), (time.Since(start) - res.Elapsed).Round(time.Second))

	// Positions at several depths of the default order, read directly.
	depth := func(offset int) string {
		var created time.Time
		var id string
		err := db.SQL().QueryRowContext(ctx, "SELECT created_at, id FROM credentials WHERE tenant_id = $1 ORDER BY created_at DESC, id DESC OFFSET $2 LIMIT 1", e.a, offset).Scan(&created, &id)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string]any{"s": "-created", "t": created.UTC(), "i": id, "h": "unknown"})
		return "&cursor=" + base64.RawURLEncoding.EncodeToString(b)
	}
	var someOwner string
	if err := db.SQL().QueryRowContext(ctx, "SELECT owner_account_id FROM credentials WHERE tenant_id = $1 OFFSET 12345 LIMIT 1", e.a).Scan(&someOwner); err != nil {
		t.Fatal(err)
	}
	scenarios := []struct{ name, query string }{
		{"first page, newest first", ""},
		{fmt.Sprintf("page at row %d", n/20), depth(n / 20)},
		{fmt.Sprintf("page at row %d", n/2), depth(n / 2)},
		{"last page", depth(n - 30)},
		{"status=active", "status=active"},
		{"status=revoked", "status=revoked"},
		{"status=expired", "status=expired"},
		{"kind=oauth_grant (no match)", "kind=oauth_grant"},
		{"owner=<one person>", "owner=" + someOwner},
		{"scope=worklogs:manage", "scope=worklogs:manage"},
		{"scope=full", "scope=full"},
		{"staleDays=90", "staleDays=90"},
		{"ownerInactive=true", "ownerInactive=true"},
		{"created in one month", "createdFrom=" + url.QueryEscape(time.Now().AddDate(0, -3, 0).Format(time.RFC3339)) + "&createdTo=" + url.QueryEscape(time.Now().AddDate(0, -2, 0).Format(time.RFC3339))},
		{"status=active&scope=worklogs&staleDays=30", "status=active&scope=worklogs&staleDays=30"},
		{"q=payroll (name)", "q=payroll"},
		{"q=<display name>", "q=" + url.QueryEscape("Hana Kim")},
		{"q=<rare, no match>", "q=zzqx"},
		{"sort=-lastUsed", "sort=-lastUsed"},
		{"sort=lastUsed (never used first)", "sort=lastUsed"},
		{"sort=expires", "sort=expires"},
		{"sort=-expires", "sort=-expires"},
		{"sort=name", "sort=name"},
	}
	const warmup, runs = 5, 100
	auth := e.token(devAdmin)
	type result struct {
		name          string
		p50, p95, p99 time.Duration
		items         int
		total         string
	}
	var results []result
	for _, sc := range scenarios {
		target := "/api/admin/v1/credentials?limit=50&" + strings.TrimPrefix(sc.query, "&")
		var lat []time.Duration
		var last *httptest.ResponseRecorder
		for i := 0; i < warmup+runs; i++ {
			req := httptest.NewRequest(http.MethodGet, target, nil)
			req.Header.Set("Authorization", auth)
			rec := httptest.NewRecorder()
			t0 := time.Now()
			e.e.ServeHTTP(rec, req)
			d := time.Since(t0)
			if rec.Code != http.StatusOK {
				t.Fatalf("%s: %d %s", sc.name, rec.Code, rec.Body)
			}
			if i >= warmup {
				lat = append(lat, d)
			}
			last = rec
		}
		slices.Sort(lat)
		var page adminPage
		_ = json.Unmarshal(last.Body.Bytes(), &page)
		total := strconv.FormatInt(page.Total.Value, 10)
		if !page.Total.Exact {
			total = "~" + total
		}
		r := result{sc.name, lat[len(lat)/2], lat[len(lat)*95/100], lat[len(lat)*99/100], len(page.Items), total}
		results = append(results, r)
		t.Logf("%-45s p50 %6.2f ms  p95 %6.2f ms  p99 %6.2f ms  items %2d  total %s", r.name, ms(r.p50), ms(r.p95), ms(r.p99), r.items, r.total)
	}

	type exportResult struct {
		name string
		rows int64
		d    time.Duration
	}
	var exports []exportResult
	for _, ex := range []struct{ name, path string }{
		{"credentials CSV", "/api/admin/v1/export/credentials?format=csv"},
		{"credentials NDJSON", "/api/admin/v1/export/credentials?format=ndjson"},
		{"access log CSV", "/api/admin/v1/export/access-log?format=csv"},
	} {
		req := httptest.NewRequest(http.MethodGet, ex.path, nil)
		req.Header.Set("Authorization", auth)
		w := &countingWriter{header: http.Header{}}
		t0 := time.Now()
		e.e.ServeHTTP(w, req)
		d := time.Since(t0)
		rows := w.lines
		if strings.Contains(ex.path, "csv") {
			rows-- // header
		}
		if w.status != http.StatusOK || rows < int64(n) {
			t.Fatalf("%s: status %d, %d rows", ex.name, w.status, rows)
		}
		exports = append(exports, exportResult{ex.name, rows, d})
		t.Logf("export %-20s %d rows in %s: %.0f rows/s, %d MB, %d flushes, max body buffered %d KB",
			ex.name, rows, d.Round(time.Millisecond), float64(rows)/d.Seconds(), w.bytes>>20, w.flushes, w.maxUnflushed>>10)
	}

	if path := os.Getenv("KEYWARD_SCALE_REPORT"); path != "" {
		var b bytes.Buffer
		fmt.Fprintf(&b, "| scenario (limit=50) | p50 ms | p95 ms | p99 ms | total |\n|---|---:|---:|---:|---:|\n")
		for _, r := range results {
			fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f | %s |\n", r.name, ms(r.p50), ms(r.p95), ms(r.p99), r.total)
		}
		fmt.Fprintf(&b, "\n| export | rows | seconds | rows/s |\n|---|---:|---:|---:|\n")
		for _, x := range exports {
			fmt.Fprintf(&b, "| %s | %d | %.2f | %.0f |\n", x.name, x.rows, x.d.Seconds(), float64(x.rows)/x.d.Seconds())
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range results {
		if r.p95 > 20*time.Millisecond {
			t.Errorf("%s: p95 %.2f ms exceeds 20 ms", r.name, ms(r.p95))
		}
	}
	for _, x := range exports {
		if rate := float64(x.rows) / x.d.Seconds(); rate < 100_000 {
			t.Errorf("export %s: %.0f rows/s, below 100,000", x.name, rate)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// countingWriter is a ResponseWriter that keeps nothing: it counts bytes,
// lines and flushes, and the most bytes written between two flushes.
type countingWriter struct {
	header                  http.Header
	status                  int
	bytes, lines, flushes   int64
	unflushed, maxUnflushed int64
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(s int)   { w.status = s }
func (w *countingWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.bytes += int64(len(p))
	w.unflushed += int64(len(p))
	w.lines += int64(bytes.Count(p, []byte{'\n'}))
	return len(p), nil
}
func (w *countingWriter) Flush() {
	w.flushes++
	w.maxUnflushed = max(w.maxUnflushed, w.unflushed)
	w.unflushed = 0
}

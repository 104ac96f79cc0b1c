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
	t.Logf("seeded %d keys, %d users, %d access log records in %s (COPY, then VACUUM ANALYZE)",
		res.Keys, res.Users, res.AccessLog, time.Since(start).Round(time.Second))

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
	nameDepth := func(offset int) string {
		var name, id string
		err := db.SQL().QueryRowContext(ctx, "SELECT name, id FROM credentials WHERE tenant_id = $1 ORDER BY name DESC, id DESC OFFSET $2 LIMIT 1", e.a, offset).Scan(&name, &id)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(map[string]any{"s": "-name", "v": name, "i": id, "h": "unknown"})
		return "&cursor=" + base64.RawURLEncoding.EncodeToString(b)
	}
	var someOwner, someName string
	err = db.SQL().QueryRowContext(ctx, `SELECT c.owner_account_id, u.display_name FROM credentials c JOIN users u ON u.tenant_id = c.tenant_id AND u.account_id = c.owner_account_id
		WHERE c.tenant_id = $1 OFFSET 12345 LIMIT 1`, e.a).Scan(&someOwner, &someName)
	if err != nil {
		t.Fatal(err)
	}
	// Every scenario must meet the target except the informational ones:
	// a filter against an order no index serves (the natural order of the
	// filter, used when no sort is given, is the fast one).
	scenarios := []struct {
		name, query string
		info        bool
	}{
		{"first page, newest first", "", false},
		{fmt.Sprintf("page at row %d", n/20), depth(n / 20), false},
		{fmt.Sprintf("page at row %d", n/2), depth(n / 2), false},
		{"last page", depth(n - 30), false},
		{"status=active", "status=active", false},
		{"status=revoked", "status=revoked", false},
		{"status=expired (natural order -expires)", "status=expired", false},
		{"kind=oauth_grant (no match)", "kind=oauth_grant", false},
		{"owner=<one person>", "owner=" + someOwner, false},
		{"scope=worklogs:manage", "scope=worklogs:manage", false},
		{"scope=full", "scope=full", false},
		{"scope=approvals (area)", "scope=approvals", false},
		{"staleDays=90 (natural order lastUsed)", "staleDays=90", false},
		{"ownerInactive=true", "ownerInactive=true", false},
		{"created in one month", "createdFrom=" + url.QueryEscape(time.Now().AddDate(0, -3, 0).Format(time.RFC3339)) + "&createdTo=" + url.QueryEscape(time.Now().AddDate(0, -2, 0).Format(time.RFC3339)), false},
		{"used in the last day", "lastUsedFrom=" + url.QueryEscape(time.Now().AddDate(0, 0, -1).Format(time.RFC3339)), false},
		{"status=active&scope=worklogs&ownerInactive=true", "status=active&scope=worklogs&ownerInactive=true", false},
		{"q=payroll (common name)", "q=payroll", false},
		{"q=<a person's name>", "q=" + url.QueryEscape(someName), false},
		{"q=<rare, no match>", "q=zzqx", false},
		{"sort=-lastUsed", "sort=-lastUsed", false},
		{"sort=lastUsed (never used first)", "sort=lastUsed", false},
		{"sort=expires", "sort=expires", false},
		{"sort=-expires", "sort=-expires", false},
		{"sort=name", "sort=name", false},
		{"sort=-name, page at row n/2", "sort=-name" + nameDepth(n/2), false},
		{"status=expired&sort=-created", "status=expired&sort=-created", true},
		{"staleDays=90&sort=-created", "staleDays=90&sort=-created", true},
	}
	const warmup, runs = 5, 100
	auth := e.token(devAdmin)
	type result struct {
		name          string
		p50, p95, p99 time.Duration
		items         int
		total         string
		info          bool
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
		r := result{sc.name, lat[len(lat)/2], lat[len(lat)*95/100], lat[len(lat)*99/100], len(page.Items), total, sc.info}
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
			name := r.name
			if r.info {
				name += " (informational: no index serves this order)"
			}
			fmt.Fprintf(&b, "| %s | %.2f | %.2f | %.2f | %s |\n", name, ms(r.p50), ms(r.p95), ms(r.p99), r.total)
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
		if !r.info && r.p95 > 20*time.Millisecond {
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

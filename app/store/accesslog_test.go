package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

var accessPaths = []string{"/4/worklogs", "/4/work_attributes", "/4/work%25", "/4/workXattributes"}

// accessEntries makes n deterministic records of a tenant, one millisecond
// apart from start.
func accessEntries(tenant string, n int, start time.Time) []models.AccessLogEntry {
	out := make([]models.AccessLogEntry, n)
	for i := range out {
		d := models.DecisionAllow
		reason := ""
		if i%5 == 0 {
			d, reason = models.DecisionDeny, models.ReasonScopeDenied
		}
		out[i] = models.AccessLogEntry{
			TenantID: tenant, At: start.Add(time.Duration(i) * time.Millisecond),
			CredentialID: fmt.Sprintf("cred-%d", i%10), CredentialKind: models.KindAPIKey,
			OwnerAccountID: fmt.Sprintf("owner-%d", i%7), Method: "GET", Path: accessPaths[i%len(accessPaths)],
			Decision: d, Reason: reason, IP: "203.0.113.7", UserAgent: "curl/8",
		}
	}
	return out
}

func TestAccessLogAppendAndList(t *testing.T) {
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := store.NewAccessLog(db)
		if err := s.Append(ctx, nil); err != nil {
			t.Fatalf("Append(nil): %v", err)
		}
		batch := accessEntries("A", 5000, at)
		if err := s.Append(ctx, batch); err != nil {
			t.Fatalf("Append 5000: %v", err)
		}
		if err := s.Append(ctx, accessEntries("B", 300, at)); err != nil {
			t.Fatalf("Append B: %v", err)
		}
		single := models.AccessLogEntry{TenantID: "A", At: at.Add(time.Hour), CredentialID: "cred-single", CredentialKind: models.KindOAuthGrant, OwnerAccountID: "owner-x", Method: "POST", Path: "/4/plans", Decision: models.DecisionDeny, Reason: models.ReasonRevoked, IP: "2001:db8::1", UserAgent: "app/1.0"}
		if err := s.Append(ctx, []models.AccessLogEntry{single}); err != nil {
			t.Fatalf("Append 1: %v", err)
		}

		// Keyset pagination walks every record of A exactly once, newest first.
		var all []models.AccessLogEntry
		cursor := int64(0)
		for {
			page, err := s.List(ctx, store.AccessLogFilter{TenantID: "A", BeforeID: cursor, Limit: 1000})
			if err != nil {
				t.Fatal(err)
			}
			if len(page) == 0 {
				break
			}
			all = append(all, page...)
			cursor = page[len(page)-1].ID
		}
		if len(all) != 5001 {
			t.Fatalf("paged through %d records of A, want 5001", len(all))
		}
		for i, e := range all {
			if e.TenantID != "A" {
				t.Fatalf("record %d of tenant %q listed for A", e.ID, e.TenantID)
			}
			if i > 0 && e.ID >= all[i-1].ID {
				t.Fatalf("ids not strictly decreasing: %d after %d", e.ID, all[i-1].ID)
			}
		}
		got := all[0]
		single.ID = got.ID
		if !got.At.Equal(single.At) {
			t.Errorf("At = %v, want %v", got.At, single.At)
		}
		got.At = single.At
		if got != single {
			t.Errorf("newest record = %+v\nwant %+v", got, single)
		}
		if last := all[len(all)-1]; !last.At.Equal(at) || last.CredentialID != "cred-0" || last.Decision != models.DecisionDeny {
			t.Errorf("oldest record = %+v", last)
		}

		count := func(f store.AccessLogFilter) int {
			t.Helper()
			f.Limit = 1000
			n := 0
			for {
				page, err := s.List(ctx, f)
				if err != nil {
					t.Fatalf("List(%+v): %v", f, err)
				}
				for _, e := range page {
					if e.TenantID != f.TenantID {
						t.Fatalf("List(%+v) returned a record of tenant %q", f, e.TenantID)
					}
				}
				n += len(page)
				if len(page) < f.Limit {
					return n
				}
				f.BeforeID = page[len(page)-1].ID
			}
		}
		from, to := at.Add(1000*time.Millisecond), at.Add(1500*time.Millisecond+500*time.Microsecond)
		cases := []struct {
			name string
			f    store.AccessLogFilter
			want int
		}{
			{"credential", store.AccessLogFilter{CredentialID: "cred-3"}, 500},
			{"owner", store.AccessLogFilter{OwnerID: "owner-0"}, 715},
			{"decision deny", store.AccessLogFilter{Decision: "deny"}, 1001},
			{"decision allow", store.AccessLogFilter{Decision: "allow"}, 4000},
			{"path prefix", store.AccessLogFilter{PathPrefix: "/4/work"}, 5000},
			{"path prefix with _ is literal", store.AccessLogFilter{PathPrefix: "/4/work_"}, 1250},
			{"path prefix with % is literal", store.AccessLogFilter{PathPrefix: "/4/work%"}, 1250},
			{"from", store.AccessLogFilter{From: &from}, 4001},
			{"from and to", store.AccessLogFilter{From: &from, To: &to}, 501},
			{"combined", store.AccessLogFilter{CredentialID: "cred-0", Decision: "deny", From: &from, To: &to}, 51},
			{"no match", store.AccessLogFilter{CredentialID: "cred-none"}, 0},
		}
		for _, c := range cases {
			c.f.TenantID = "A"
			if n := count(c.f); n != c.want {
				t.Errorf("%s: %d records, want %d", c.name, n, c.want)
			}
		}
		// Another tenant's filter that matches its own rows never sees A's.
		if n := count(store.AccessLogFilter{TenantID: "B", CredentialID: "cred-3"}); n != 30 {
			t.Errorf("B cred-3: %d records, want 30", n)
		}
		if n := count(store.AccessLogFilter{TenantID: "B", CredentialID: "cred-single"}); n != 0 {
			t.Errorf("B sees A's credential: %d records", n)
		}
		if n := count(store.AccessLogFilter{TenantID: ""}); n != 0 {
			t.Errorf("empty tenant id lists %d records, want none", n)
		}

		def, err := s.List(ctx, store.AccessLogFilter{TenantID: "A"})
		if err != nil || len(def) != 100 {
			t.Errorf("default limit: %d records, %v; want 100", len(def), err)
		}
	})
}

// TestAccessLogAppendInTx checks Append inside a transaction on SQLite,
// where it joins the caller's transaction.
func TestAccessLogAppendInTx(t *testing.T) {
	db := storetest.Open(t, storetest.SQLite)
	ctx := context.Background()
	s := store.NewAccessLog(db)
	err := db.InTx(ctx, func(ctx context.Context) error {
		if err := s.Append(ctx, accessEntries("A", 3, at)); err != nil {
			return err
		}
		return fmt.Errorf("roll back")
	})
	if err == nil {
		t.Fatal("InTx returned nil")
	}
	if got, _ := s.List(ctx, store.AccessLogFilter{TenantID: "A"}); len(got) != 0 {
		t.Errorf("%d records survived the rollback", len(got))
	}
}

package inventory

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

func TestParseFilter(t *testing.T) {
	ok := []struct {
		query string
		check func(f Filter) bool
	}{
		{"", func(f Filter) bool { return f == Filter{} }},
		{"kind=oauth_grant&status=expired", func(f Filter) bool { return f.Kind == "oauth_grant" && f.Status == "expired" }},
		{"scope=worklogs:view", func(f Filter) bool { return f.Scope == "worklogs:view" }},
		{"scope=full", func(f Filter) bool { return f.Scope == "full" }},
		{"createdFrom=2025-01-01T00:00:00%2B02:00", func(f Filter) bool { return f.CreatedFrom.Equal(time.Date(2024, 12, 31, 22, 0, 0, 0, time.UTC)) }},
		{"staleDays=90&ownerInactive=true", func(f Filter) bool { return f.StaleDays == 90 && f.OwnerInactive }},
		{"q=%20payroll%20&jwt=ignored", func(f Filter) bool { return f.Q == "payroll" }},
	}
	for _, tc := range ok {
		v, _ := url.ParseQuery(tc.query)
		f, err := ParseFilter(v.Get)
		if err != nil || !tc.check(f) {
			t.Errorf("%q: %+v, %v", tc.query, f, err)
		}
	}
	bad := map[string]string{
		"kind=key": "kind", "status=live": "status", "scope=a%20b": "scope", "scope=Worklogs": "scope",
		"createdTo=2025-13-01": "createdTo", "lastUsedFrom=now": "lastUsedFrom", "staleDays=-1": "staleDays",
		"staleDays=3651": "staleDays", "ownerInactive=yes": "ownerInactive", "owner=" + strings.Repeat("a", 129): "owner",
		"lastUsedFrom=2025-01-02T00:00:00Z&lastUsedTo=2025-01-01T00:00:00Z": "lastUsedTo",
	}
	for q, field := range bad {
		v, _ := url.ParseQuery(q)
		_, err := ParseFilter(v.Get)
		var ve *models.ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != field {
			t.Errorf("%q: %v, want a %s field error", q, err, field)
		}
	}
}

func TestFilterFromJSON(t *testing.T) {
	f, err := FilterFromJSON(map[string]any{"status": "active", "staleDays": float64(30), "ownerInactive": true, "owner": nil})
	if err != nil || f.Status != "active" || f.StaleDays != 30 || !f.OwnerInactive || f.Owner != "" {
		t.Errorf("%+v %v", f, err)
	}
	for _, obj := range []map[string]any{{"nope": "x"}, {"owner": []any{"x"}}, {"status": "x"}, {"staleDays": 1.5}} {
		_, err := FilterFromJSON(obj)
		var ve *models.ValidationError
		if !errors.As(err, &ve) || !strings.HasPrefix(ve.Fields[0].Field, "filter.") {
			t.Errorf("%v: %v", obj, err)
		}
	}
}

func TestSortAndCursor(t *testing.T) {
	for _, s := range []string{"created", "-created", "lastUsed", "-lastUsed", "expires", "-expires", "name", "-name"} {
		got, err := ParseSort(s)
		if err != nil || got.String() != s {
			t.Errorf("%s: %v %v", s, got, err)
		}
	}
	if s, err := ParseSort(""); err != nil || s != (Sort{}) {
		t.Errorf("no sort: %v %v", s, err)
	}
	for f, want := range map[Filter]string{{}: "-created", {Status: "expired"}: "-expires", {StaleDays: 90}: "lastUsed", {Status: "active", Q: "x"}: "-created"} {
		if got := (Sort{}).orDefault(f).String(); got != want {
			t.Errorf("natural order of %+v: %s, want %s", f, got, want)
		}
	}
	for _, s := range []string{"Created", "--name", "id", "-"} {
		if _, err := ParseSort(s); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("%q accepted", s)
		}
	}
	ts := time.Date(2025, 5, 6, 7, 8, 9, 123456000, time.UTC)
	name := "Payroll"
	for _, tc := range []struct {
		sort Sort
		pos  store.Position
	}{
		{Sort{store.SortCreated, true}, store.Position{Time: &ts, ID: "a"}},
		{Sort{store.SortLastUsed, false}, store.Position{Null: true, ID: "b"}},
		{Sort{store.SortName, false}, store.Position{String: &name, ID: "c"}},
	} {
		enc := cursorAt(tc.pos, tc.sort, 42, true, "h").encode()
		c, err := decodeCursor(enc, tc.sort)
		if err != nil || c.ID != tc.pos.ID || c.Total != 42 || !c.Exact || c.Null != tc.pos.Null {
			t.Errorf("%v round trip: %+v %v", tc.sort, c, err)
		}
		if tc.pos.Time != nil && !c.Time.Equal(ts) {
			t.Errorf("time lost: %v", c.Time)
		}
		other := Sort{store.SortExpires, false}
		if _, err := decodeCursor(enc, other); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("cursor accepted for another order: %v", err)
		}
	}
	for _, n := range []string{"0", "201", "x", "-1"} {
		if _, err := ParseLimit(n); err == nil {
			t.Errorf("limit %s accepted", n)
		}
	}
}

func FuzzDecodeCursor(f *testing.F) {
	ts := time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)
	f.Add(cursorAt(store.Position{Time: &ts, ID: "x"}, DefaultSort, 1, false, "h").encode(), "-created")
	f.Add("eyJzIjoibmFtZSIsImkiOiJ4In0", "name")
	f.Add("!!", "expires")
	f.Fuzz(func(t *testing.T, s, sort string) {
		so, err := ParseSort(sort)
		if err != nil {
			return
		}
		c, err := decodeCursor(s, so)
		if err != nil {
			if !errors.Is(err, models.ErrInvalid) {
				t.Fatalf("error %v is not invalid input", err)
			}
			return
		}
		p := c.position()
		if p.ID == "" || (so.Key == store.SortName) != (p.String != nil) || (so.Key != store.SortName && p.Time == nil && !p.Null) {
			t.Fatalf("accepted cursor %q gives an unusable position %+v", s, p)
		}
	})
}

package inventory

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestIDDigest(t *testing.T) {
	sum := func(ids ...string) string {
		t.Helper()
		s, n, err := digestOfIDs(slices.Clone(ids))
		if err != nil {
			t.Fatal(err)
		}
		if n != int64(len(ids)) {
			t.Fatalf("digest of %v covers %d ids", ids, n)
		}
		return s
	}
	// The order ids come in does not matter; streaming sorted ids gives
	// the same digest as sorting them afterwards.
	ids := []string{"b", "a-c", "B", "ab", "a_c", "é", "019a-ff"}
	reversed := slices.Clone(ids)
	slices.Reverse(reversed)
	if sum(ids...) != sum(reversed...) {
		t.Error("digest depends on the order of the ids")
	}
	sorted := slices.Sorted(slices.Values(ids))
	d := newIDDigest()
	for _, id := range sorted {
		if err := d.add(id); err != nil {
			t.Fatal(err)
		}
	}
	if s, _ := d.sum(); s != sum(ids...) {
		t.Error("streamed digest differs from the sorted one")
	}
	// Different sets differ, also when their ids concatenate alike.
	for _, pair := range [][2][]string{
		{{"ab", "c"}, {"a", "bc"}},
		{{"a"}, {"a", "b"}},
		{{}, {""}},
		{{"x", "y"}, {"x", "z"}},
	} {
		if sum(pair[0]...) == sum(pair[1]...) {
			t.Errorf("%q and %q share a digest", pair[0], pair[1])
		}
	}
	// Ids out of order or repeated are refused rather than hashed.
	for _, bad := range [][]string{{"b", "a"}, {"a", "a"}} {
		d := newIDDigest()
		err := d.add(bad[0])
		if err == nil {
			err = d.add(bad[1])
		}
		if err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The digest is stored with the selection but is no field of Selection,
// which is what callers build: a caller cannot choose it.
func TestStoredSelectionDigest(t *testing.T) {
	now := time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)
	in := storedSelection{Selection: Selection{Filter: &Filter{Status: "expired"}, CreatedAtOrBefore: &now}, Digest: "abc"}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var out storedSelection
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Digest != "abc" || out.Filter == nil || out.Filter.Status != "expired" || !out.CreatedAtOrBefore.Equal(now) {
		t.Errorf("round trip %s: %+v", b, out)
	}
	sel, err := json.Marshal(in.Selection)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(sel), "abc") {
		t.Errorf("Selection alone carries the digest: %s", sel)
	}
	// A confirmation stored before digests existed has none.
	var old storedSelection
	if err := json.Unmarshal([]byte(`{"all":true,"createdAtOrBefore":"2025-01-02T03:04:05Z"}`), &old); err != nil || old.Digest != "" || !old.All {
		t.Errorf("old selection: %+v %v", old, err)
	}
}

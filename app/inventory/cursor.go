package inventory

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// Sort is an inventory order: a key and a direction.
type Sort struct {
	Key  store.SortKey
	Desc bool
}

// DefaultSort is newest first.
var DefaultSort = Sort{Key: store.SortCreated, Desc: true}

// ParseSort reads "created", "-created", "lastUsed", "-lastUsed",
// "expires", "-expires", "name" or "-name"; "" gives the zero Sort, which
// the service replaces with the filter's natural order (see NaturalSort).
func ParseSort(s string) (Sort, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return Sort{}, nil
	}
	out := Sort{Key: store.SortKey(strings.TrimPrefix(s, "-")), Desc: strings.HasPrefix(s, "-")}
	switch out.Key {
	case store.SortCreated, store.SortLastUsed, store.SortExpires, store.SortName:
		return out, nil
	}
	return Sort{}, models.Invalid("sort", "must be created, lastUsed, expires or name, with - for descending")
}

// NaturalSort is the order used when none is asked for: the one an index
// serves directly for the filter, and what an admin looks for with it.
// Expired credentials come most recently expired first, stale ones stalest
// first, everything else newest first.
func NaturalSort(f Filter) Sort {
	switch {
	case f.Status == string(models.StatusExpired):
		return Sort{Key: store.SortExpires, Desc: true}
	case f.StaleDays > 0:
		return Sort{Key: store.SortLastUsed}
	}
	return DefaultSort
}

func (s Sort) orDefault(f Filter) Sort {
	if s.Key == "" {
		return NaturalSort(f)
	}
	return s
}

func (s Sort) String() string {
	if s.Desc {
		return "-" + string(s.Key)
	}
	return string(s.Key)
}

// cursor is the opaque position of a page: where the previous page ended,
// in which order and for which filter, and the total computed for its
// first page (so later pages need no count).
type cursor struct {
	Sort   string     `json:"s"`
	Null   bool       `json:"n,omitempty"`
	Time   *time.Time `json:"t,omitempty"`
	Str    *string    `json:"v,omitempty"`
	ID     string     `json:"i"`
	Total  int64      `json:"tv"`
	Exact  bool       `json:"tx,omitempty"`
	Filter string     `json:"h"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

var errBadCursor = models.Invalid("cursor", "invalid cursor: start again from the first page")

func decodeCursor(s string, sort Sort) (*cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(s) > 2048 {
		return nil, errBadCursor
	}
	var c cursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		return nil, errBadCursor
	}
	if c.Sort != sort.String() {
		return nil, models.Invalid("cursor", "the cursor belongs to another sort order")
	}
	if (sort.Key == store.SortName) != (c.Str != nil) || (sort.Key != store.SortName && c.Time == nil && !c.Null) {
		return nil, errBadCursor
	}
	return &c, nil
}

func (c *cursor) position() *store.Position {
	return &store.Position{Time: c.Time, String: c.Str, Null: c.Null, ID: c.ID}
}

func cursorAt(p store.Position, sort Sort, total int64, exact bool, filterHash string) cursor {
	return cursor{Sort: sort.String(), Null: p.Null, Time: p.Time, Str: p.String, ID: p.ID, Total: total, Exact: exact, Filter: filterHash}
}

// hash fingerprints a filter, so a cursor reused with other filters gets a
// fresh total.
func (f Filter) hash() string {
	b, _ := json.Marshal(f)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

// ParseLimit reads a page size from 1 to MaxPageSize; "" is
// DefaultPageSize.
func ParseLimit(s string) (int, error) {
	if s = strings.TrimSpace(s); s == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, models.Invalid("limit", "must be an integer from 1 to 200")
	}
	return n, nil
}

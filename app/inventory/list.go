package inventory

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// ListInput asks for one page of the inventory.
type ListInput struct {
	Filter Filter
	Sort   Sort
	Cursor string // "" for the first page
	Limit  int
}

// Page is one page of the inventory.
type Page struct {
	Items      []store.InventoryCredential
	NextCursor string // "" on the last page
	Total      int64
	TotalExact bool
	At         time.Time // when statuses were decided
}

// List returns one page of the site's credentials. The total is exact up to
// a few thousand and an estimate above; it is computed for the first page
// and carried by the cursor to the next ones.
func (s *Service) List(ctx context.Context, tenantID string, in ListInput) (*Page, error) {
	if in.Limit < 1 || in.Limit > MaxPageSize {
		in.Limit = DefaultPageSize
	}
	in.Sort = in.Sort.orDefault(in.Filter)
	now := s.now()
	hash := in.Filter.hash()
	var (
		after *store.Position
		total int64 = -1
		exact bool
	)
	if in.Cursor != "" {
		c, err := decodeCursor(in.Cursor, in.Sort)
		if err != nil {
			return nil, err
		}
		after = c.position()
		if c.Filter == hash {
			total, exact = c.Total, c.Exact
		}
	}
	f := in.Filter.storeFilter(tenantID, now)
	rows, err := s.store.ListCredentials(ctx, f, store.CredentialPage{Sort: in.Sort.Key, Desc: in.Sort.Desc, After: after, Limit: in.Limit + 1})
	if err != nil {
		return nil, err
	}
	more := len(rows) > in.Limit
	if more {
		rows = rows[:in.Limit]
	}
	switch {
	case after == nil && !more:
		total, exact = int64(len(rows)), true
	case total < 0:
		if total, exact, err = s.store.CountCredentials(ctx, f, exactTotalUpTo, countBudget); err != nil {
			return nil, err
		}
		if after == nil && total < int64(len(rows))+1 {
			total, exact = int64(len(rows))+1, false
		}
	}
	page := &Page{Items: rows, Total: total, TotalExact: exact, At: now}
	if more {
		page.NextCursor = cursorAt(store.PositionOf(&rows[len(rows)-1], in.Sort.Key), in.Sort, total, exact, hash).encode()
	}
	return page, nil
}

// Detail is one credential with its most recent uses.
type Detail struct {
	Credential   store.InventoryCredential
	RecentAccess []models.AccessLogEntry
	At           time.Time
}

// Get returns a credential of the site with its recent access log; another
// site's id is models.ErrNotFound.
func (s *Service) Get(ctx context.Context, tenantID, id string) (*Detail, error) {
	c, err := s.store.GetCredential(ctx, tenantID, id)
	if err != nil {
		return nil, err
	}
	entries, err := s.store.AccessLogBatch(ctx, store.AccessLogFilter{TenantID: tenantID, CredentialID: c.ID}, RecentAccess)
	if err != nil {
		return nil, err
	}
	return &Detail{Credential: *c, RecentAccess: entries, At: s.now()}, nil
}

// UsersInput asks for one page of owners.
type UsersInput struct {
	Q             string
	OwnerInactive bool
	Cursor        string
	Limit         int
}

// UsersPage is one page of owners in accountId order.
type UsersPage struct {
	Items      []store.OwnerSummary
	NextCursor string
}

// Users returns the people who own credentials in the site, with counts.
func (s *Service) Users(ctx context.Context, tenantID string, in UsersInput) (*UsersPage, error) {
	if in.Limit < 1 || in.Limit > MaxPageSize {
		in.Limit = DefaultPageSize
	}
	if len(in.Q) > maxSearchLength {
		return nil, models.Invalid("q", "at most 200 characters")
	}
	var after string
	if in.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.Cursor)
		if err != nil || len(b) == 0 || len(b) > maxAccountIDChars {
			return nil, errBadCursor
		}
		after = string(b)
	}
	rows, err := s.store.ListOwners(ctx, store.OwnerFilter{TenantID: tenantID, Search: strings.TrimSpace(in.Q), Inactive: in.OwnerInactive, After: after, Limit: in.Limit + 1, Now: s.now()})
	if err != nil {
		return nil, err
	}
	page := &UsersPage{Items: rows}
	if len(rows) > in.Limit {
		page.Items = rows[:in.Limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(rows[in.Limit-1].AccountID))
	}
	return page, nil
}

// AccessLogInput asks for one page of the access log.
type AccessLogInput struct {
	Filter AccessLogFilter
	Cursor string
	Limit  int
}

// AccessLogPage is one page of the access log, newest first.
type AccessLogPage struct {
	Items      []models.AccessLogEntry
	NextCursor string
}

// AccessLog returns one page of the site's access log.
func (s *Service) AccessLog(ctx context.Context, tenantID string, in AccessLogInput) (*AccessLogPage, error) {
	if in.Limit < 1 || in.Limit > MaxPageSize {
		in.Limit = DefaultPageSize
	}
	f := in.Filter.storeFilter(tenantID)
	if in.Cursor != "" {
		n, err := strconv.ParseInt(in.Cursor, 10, 64)
		if err != nil || n < 1 {
			return nil, errBadCursor
		}
		f.BeforeID = n
	}
	rows, err := s.store.AccessLogBatch(ctx, f, in.Limit+1)
	if err != nil {
		return nil, err
	}
	page := &AccessLogPage{Items: rows}
	if len(rows) > in.Limit {
		page.Items = rows[:in.Limit]
		page.NextCursor = strconv.FormatInt(rows[in.Limit-1].ID, 10)
	}
	return page, nil
}

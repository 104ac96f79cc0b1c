package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/keyward/keyward/models"
)

// Inventory reads every credential of a site for its administrators: one
// filter and keyset order shared by the list, the exports and bulk
// revocation, owner summaries, and the confirmations of bulk revocations.
type Inventory struct{ db *DB }

// NewInventory returns the inventory store.
func NewInventory(db *DB) *Inventory { return &Inventory{db: db} }

// CredentialFilter selects credentials of one tenant. Zero fields do not
// restrict. Ranges are [From, To).
type CredentialFilter struct {
	TenantID       string
	IDs            []string
	Kind           models.CredentialKind
	Status         models.CredentialStatus
	OwnerAccountID string
	// Scope is one granted scope as stored ("worklogs:view", "full") or an
	// area name ("worklogs"), which matches either level of it.
	Scope                    string
	ScopeIsArea              bool
	CreatedFrom, CreatedTo   *time.Time
	LastUsedFrom, LastUsedTo *time.Time
	// UnusedSince keeps credentials with no use since then: last used
	// before it, or never used and created before it.
	UnusedSince   *time.Time
	OwnerInactive bool
	// Search matches a substring of the name, the display hint or the
	// owner's display name (case-insensitive), or the owner's accountId.
	Search string
	// CreatedAtOrBefore bounds a bulk revocation to what existed at its
	// preview.
	CreatedAtOrBefore *time.Time
	// NotRevoked keeps only credentials that a revocation would change.
	NotRevoked bool
	// Now decides the active and expired statuses.
	Now time.Time

	// searchOwners are the accounts whose display name matches Search,
	// looked up first so the planner can use the owner index; nil: match
	// names in a subquery.
	searchOwners []string
}

// conditions renders f as SQL over the credentials table aliased c.
func (f *CredentialFilter) conditions() (*where, error) {
	if f.TenantID == "" {
		return nil, fmt.Errorf("credential filter: tenant required: %w", models.ErrInvalid)
	}
	w := &where{}
	w.add("c.tenant_id = ?", f.TenantID)
	if len(f.IDs) > 0 {
		w.add("c.id IN ?", f.IDs)
	}
	if f.Kind != "" {
		w.add("c.kind = ?", string(f.Kind))
	}
	now := f.Now.UTC()
	switch f.Status {
	case "":
	case models.StatusActive:
		w.add("c.revoked_at IS NULL AND (c.expires_at IS NULL OR c.expires_at > ?)", now)
	case models.StatusExpired:
		w.add("c.revoked_at IS NULL AND c.expires_at <= ?", now)
	case models.StatusRevoked:
		w.add("c.revoked_at IS NOT NULL")
	default:
		return nil, fmt.Errorf("credential filter: status %q: %w", f.Status, models.ErrInvalid)
	}
	if f.NotRevoked {
		w.add("c.revoked_at IS NULL")
	}
	if f.OwnerAccountID != "" {
		w.add("c.owner_account_id = ?", f.OwnerAccountID)
	}
	if f.Scope != "" {
		// Scopes are stored space-separated. A token matches whole, at the
		// start, the end or in the middle; the patterns stay on the bare
		// column so the planner estimates them from its statistics.
		sc := escapeLike(f.Scope)
		if f.ScopeIsArea {
			w.add(`(c.scopes LIKE ? ESCAPE '\' OR c.scopes LIKE ? ESCAPE '\')`, sc+":%", "% "+sc+":%")
		} else {
			w.add(`(c.scopes = ? OR c.scopes LIKE ? ESCAPE '\' OR c.scopes LIKE ? ESCAPE '\' OR c.scopes LIKE ? ESCAPE '\')`, f.Scope, sc+" %", "% "+sc, "% "+sc+" %")
		}
	}
	w.addTime("c.created_at >= ?", f.CreatedFrom)
	w.addTime("c.created_at < ?", f.CreatedTo)
	w.addTime("c.created_at <= ?", f.CreatedAtOrBefore)
	w.addTime("c.last_used_at >= ?", f.LastUsedFrom)
	w.addTime("c.last_used_at < ?", f.LastUsedTo)
	if f.UnusedSince != nil {
		t := f.UnusedSince.UTC()
		w.add("(c.last_used_at < ? OR (c.last_used_at IS NULL AND c.created_at < ?))", t, t)
	}
	if f.OwnerInactive {
		w.add("EXISTS (SELECT 1 FROM users u WHERE u.tenant_id = c.tenant_id AND u.account_id = c.owner_account_id AND (NOT u.active OR u.deleted))")
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		like := "%" + escapeLike(strings.ToLower(s)) + "%"
		if f.searchOwners != nil {
			w.add(`(LOWER(c.name) LIKE ? ESCAPE '\' OR LOWER(c.hint) LIKE ? ESCAPE '\' OR c.owner_account_id IN ?)`,
				like, like, append([]string{s}, f.searchOwners...))
		} else {
			w.add(`(LOWER(c.name) LIKE ? ESCAPE '\' OR LOWER(c.hint) LIKE ? ESCAPE '\' OR c.owner_account_id = ?
				OR c.owner_account_id IN (SELECT u.account_id FROM users u WHERE u.tenant_id = ? AND LOWER(u.display_name) LIKE ? ESCAPE '\'))`,
				like, like, s, f.TenantID, like)
		}
	}
	return w, nil
}

// maxSearchOwners bounds the accounts a search resolves up front; a
// broader match stays a subquery.
const maxSearchOwners = 500

// resolveSearch looks up the accounts whose display name matches the
// search, so the credential query can use the owner index (and, with the
// trigram indexes on PostgreSQL, turn a rare match into a few index
// lookups instead of a walk through the whole inventory).
func (s *Inventory) resolveSearch(ctx context.Context, f *CredentialFilter) error {
	q := strings.TrimSpace(f.Search)
	if q == "" || f.searchOwners != nil {
		return nil
	}
	ids, err := s.db.strings(ctx, `SELECT account_id FROM users WHERE tenant_id = ? AND LOWER(display_name) LIKE ? ESCAPE '\' LIMIT ?`,
		f.TenantID, "%"+escapeLike(strings.ToLower(q))+"%", maxSearchOwners+1)
	if err != nil {
		return translate(err, "search owners")
	}
	if len(ids) <= maxSearchOwners {
		f.searchOwners = append(make([]string, 0, len(ids)), ids...)
	}
	return nil
}

// emptyNullSegment reports whether the filter rules out the NULL segment
// of an order, so a page does not walk it.
func (f *CredentialFilter) emptyNullSegment(col sortColumn) bool {
	switch col.name {
	case "c.expires_at":
		return f.Status == models.StatusExpired
	case "c.last_used_at":
		return f.LastUsedFrom != nil || f.LastUsedTo != nil
	}
	return false
}

// InventoryCredential is a credential with what the inventory shows of its
// owner.
type InventoryCredential struct {
	models.Credential
	OwnerDisplayName string
	OwnerKnown       bool // the owner has a users row
	OwnerActive      bool
}

// SortKey names a keyset order of the inventory.
type SortKey string

// Inventory orders. Every order ends with the id, so it is total.
const (
	SortCreated  SortKey = "created"
	SortLastUsed SortKey = "lastUsed"
	SortExpires  SortKey = "expires"
	SortName     SortKey = "name"
)

// sortColumn describes a column a keyset order runs on. nulls says where
// NULLs sit in ascending order: "" for a NOT NULL column, "low" (never used
// is the oldest use) or "high" (never expires is the latest expiry).
type sortColumn struct {
	name  string
	nulls string
	time  bool
}

var sortColumns = map[SortKey]sortColumn{
	SortCreated:  {name: "c.created_at", time: true},
	SortLastUsed: {name: "c.last_used_at", nulls: "low", time: true},
	SortExpires:  {name: "c.expires_at", nulls: "high", time: true},
	SortName:     {name: "c.name"},
}

// Position is a place in a keyset order: the sort value (nil for NULL) and
// the id of the last row seen.
type Position struct {
	Time   *time.Time
	String *string
	Null   bool
	ID     string
}

// CredentialPage asks for one page in an order, after a position.
type CredentialPage struct {
	Sort  SortKey
	Desc  bool
	After *Position // nil: from the start
	Limit int
	// NoOwners leaves the owner fields empty (exports fill them from
	// Owners, cached across batches, rather than join every batch).
	NoOwners bool
}

// segment is a run of rows a single index range scan returns in order: the
// NULLs of a nullable sort column, or its non-NULL values.
type segment struct{ null bool }

func (col sortColumn) segments(desc bool) []segment {
	switch {
	case col.nulls == "":
		return []segment{{}}
	case (col.nulls == "low") != desc: // NULLs come first
		return []segment{{null: true}, {}}
	default:
		return []segment{{}, {null: true}}
	}
}

// PositionOf returns where a row sits in an order.
func PositionOf(c *InventoryCredential, key SortKey) Position {
	p := Position{ID: c.ID}
	var t *time.Time
	switch key {
	case SortName:
		name := c.Name
		p.String = &name
		return p
	case SortLastUsed:
		t = c.LastUsedAt
	case SortExpires:
		t = c.ExpiresAt
	default:
		ct := c.CreatedAt
		t = &ct
	}
	if t == nil {
		p.Null = true
	} else {
		v := t.UTC()
		p.Time = &v
	}
	return p
}

// inventoryColumns are what the inventory shows (not updated_at, which
// only drives cache invalidation). An owner without a users row counts as
// active, as the verifier treats them.
const inventoryColumns = `c.id, c.tenant_id, c.kind, c.owner_account_id, c.name, c.hint, c.scopes, c.client_id,
	c.created_at, c.expires_at, c.revoked_at, c.revoked_by, c.revoke_reason,
	c.last_used_at, c.last_used_ip, c.last_used_ua, c.use_count,
	u.account_id IS NOT NULL, COALESCE(u.display_name, ''), COALESCE(u.active, TRUE) AND NOT COALESCE(u.deleted, FALSE)`

// credentialColumnsNoOwner has the shape of inventoryColumns without the
// owner join.
const credentialColumnsNoOwner = `c.id, c.tenant_id, c.kind, c.owner_account_id, c.name, c.hint, c.scopes, c.client_id,
	c.created_at, c.expires_at, c.revoked_at, c.revoked_by, c.revoke_reason,
	c.last_used_at, c.last_used_ip, c.last_used_ua, c.use_count, FALSE, '', TRUE`

const ownerJoin = ` LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.account_id = c.owner_account_id`

// ListCredentials returns up to p.Limit credentials matching f in p's
// order, after p.After. Each page is at most two index range scans, so its
// cost does not grow with its depth.
func (s *Inventory) ListCredentials(ctx context.Context, f CredentialFilter, p CredentialPage) ([]InventoryCredential, error) {
	col, ok := sortColumns[p.Sort]
	if !ok {
		return nil, fmt.Errorf("list credentials: sort %q: %w", p.Sort, models.ErrInvalid)
	}
	if err := s.resolveSearch(ctx, &f); err != nil {
		return nil, err
	}
	base, err := f.conditions()
	if err != nil {
		return nil, err
	}
	if p.Limit <= 0 {
		return nil, nil
	}
	dir, cmp := "ASC", ">"
	if p.Desc {
		dir, cmp = "DESC", "<"
	}
	segs := col.segments(p.Desc)
	start := 0
	if p.After != nil && col.nulls != "" {
		for i, sg := range segs {
			if sg.null == p.After.Null {
				start = i
			}
		}
	}
	out := make([]InventoryCredential, 0, p.Limit)
	for i := start; i < len(segs) && len(out) < p.Limit; i++ {
		if segs[i].null && f.emptyNullSegment(col) {
			continue
		}
		w := base.clone()
		if col.nulls != "" {
			if segs[i].null {
				w.add(col.name + " IS NULL")
			} else {
				w.add(col.name + " IS NOT NULL")
			}
		}
		if p.After != nil && i == start {
			if segs[i].null {
				w.add("c.id "+cmp+" ?", p.After.ID)
			} else {
				v, err := p.After.value(col)
				if err != nil {
					return nil, err
				}
				w.add("("+col.name+", c.id) "+cmp+" (?, ?)", v, p.After.ID)
			}
		}
		// The page is cut first, then joined with its owners: the join never
		// sees more than the page.
		order := " ORDER BY " + col.name + " " + dir + ", c.id " + dir
		q := "SELECT " + inventoryColumns + " FROM (SELECT c.* FROM credentials c WHERE " + w.String() + order +
			fmt.Sprintf(" LIMIT %d", p.Limit-len(out)) + ") c" + ownerJoin + order
		if p.NoOwners {
			q = "SELECT " + credentialColumnsNoOwner + " FROM credentials c WHERE " + w.String() + order + fmt.Sprintf(" LIMIT %d", p.Limit-len(out))
		}
		rows, err := s.scanCredentials(ctx, q, w.args, p.Limit-len(out))
		if err != nil {
			return nil, translate(err, "list credentials")
		}
		out = append(out, rows...)
	}
	return out, nil
}

func (p *Position) value(col sortColumn) (any, error) {
	switch {
	case col.time && p.Time != nil:
		return p.Time.UTC(), nil
	case !col.time && p.String != nil:
		return *p.String, nil
	}
	return nil, fmt.Errorf("cursor does not fit the order: %w", models.ErrInvalid)
}

// GetCredential returns one credential of the tenant with its owner.
func (s *Inventory) GetCredential(ctx context.Context, tenantID, id string) (*InventoryCredential, error) {
	rows, err := s.scanCredentials(ctx, "SELECT "+inventoryColumns+" FROM credentials c"+ownerJoin+" WHERE c.tenant_id = ? AND c.id = ?", []any{tenantID, id}, 1)
	if err != nil {
		return nil, translate(err, "get credential")
	}
	if len(rows) == 0 {
		return nil, translate(errNotFound, "get credential")
	}
	return &rows[0], nil
}

func (s *Inventory) scanCredentials(ctx context.Context, q string, args []any, capacity int) ([]InventoryCredential, error) {
	out := make([]InventoryCredential, 0, capacity)
	err := s.db.query(ctx, q, args, func(rows rows) error {
		for rows.Next() {
			var (
				r                           InventoryCredential
				kind                        string
				created, expires, rev, used nullTime
			)
			err := rows.Scan(&r.ID, &r.TenantID, &kind, &r.OwnerAccountID, &r.Name, &r.Hint, &r.Scopes, &r.ClientID,
				&created, &expires, &rev, &r.RevokedBy, &r.RevokeReason,
				&used, &r.LastUsedIP, &r.LastUsedUA, &r.UseCount,
				&r.OwnerKnown, &r.OwnerDisplayName, &r.OwnerActive)
			if err != nil {
				return err
			}
			r.Kind = models.CredentialKind(kind)
			r.CreatedAt = created.value()
			r.ExpiresAt, r.RevokedAt, r.LastUsedAt = expires.ptr(), rev.ptr(), used.ptr()
			out = append(out, r)
		}
		return nil
	})
	return out, err
}

// CountCredentials returns how many credentials match f: exactly when there
// are at most exactUpTo, otherwise (on PostgreSQL) the planner's estimate,
// which costs a plan and no scan. With budget > 0 the exact count gets at
// most that long on PostgreSQL before the estimate stands in; do not call
// it so inside a transaction, which a cancelled statement would abort.
func (s *Inventory) CountCredentials(ctx context.Context, f CredentialFilter, exactUpTo int, budget time.Duration) (n int64, exact bool, err error) {
	var (
		q   string
		w   *where
		est int64
	)
	if err := s.resolveSearch(ctx, &f); err != nil {
		return 0, false, err
	}
	if w, err = f.conditions(); err != nil {
		return 0, false, err
	}
	q = "SELECT 1 FROM credentials c WHERE " + w.String()
	if s.db.IsPostgres() {
		if est, err = s.db.estimateRows(ctx, q, w.args); err != nil {
			return 0, false, translate(err, "estimate credentials")
		}
	}
	if !s.db.IsPostgres() {
		// SQLite has no estimate; a single-node site counts exactly.
		bound := max(exactUpTo, sqliteExactCountUpTo)
		n, err := s.db.boundedCount(ctx, q, w.args, bound)
		return n, n <= int64(bound), translate(err, "count credentials")
	}
	if est > int64(exactUpTo) {
		return est, false, nil
	}
	err = s.db.planned(ctx, budget, func(ctx context.Context) error {
		var err error
		n, err = s.db.boundedCount(ctx, q, w.args, exactUpTo)
		return err
	})
	switch {
	case errors.Is(err, errOverBudget):
		return max(est, int64(exactUpTo)+1), false, nil
	case err != nil:
		return 0, false, translate(err, "count credentials")
	case n > int64(exactUpTo):
		return max(n, est), false, nil
	}
	return n, true, nil
}

// EachCredentialID calls fn with the id of every credential matching f, in
// ascending byte order of the ids (PostgreSQL sorts them with the "C"
// collation, SQLite's BINARY is the same), as one streamed query: one
// consistent snapshot, and memory that does not grow with the matches. An
// error from fn stops the walk and is returned as it is.
func (s *Inventory) EachCredentialID(ctx context.Context, f CredentialFilter, fn func(id string) error) error {
	if err := s.resolveSearch(ctx, &f); err != nil {
		return err
	}
	w, err := f.conditions()
	if err != nil {
		return err
	}
	order := " ORDER BY c.id"
	if s.db.IsPostgres() {
		order = ` ORDER BY c.id COLLATE "C"`
	}
	var fnErr error
	err = s.db.query(ctx, "SELECT c.id FROM credentials c WHERE "+w.String()+order, w.args, func(r rows) error {
		var id string
		for r.Next() {
			if err := r.Scan(&id); err != nil {
				return err
			}
			if fnErr = fn(id); fnErr != nil {
				return fnErr
			}
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return translate(err, "credential ids")
}

// sqliteExactCountUpTo bounds the counts of SQLite, which has no planner
// estimate to fall back on.
const sqliteExactCountUpTo = 1_000_000

// OwnerFilter selects the owners of credentials of one tenant.
type OwnerFilter struct {
	TenantID string
	Search   string // display name substring (case-insensitive) or exact accountId
	Inactive bool   // only owners whose account is deactivated or deleted
	After    string // keyset: accountIds after this one
	Limit    int
	Now      time.Time
}

// OwnerSummary is one owner of credentials with counts.
type OwnerSummary struct {
	AccountID         string
	DisplayName       string
	Known             bool
	Active            bool
	ActiveCredentials int64
	TotalCredentials  int64
	LastUsedAt        *time.Time
}

// ListOwners returns owners of credentials in accountId order: the page of
// owners is walked on the owner index, then only that page is aggregated.
func (s *Inventory) ListOwners(ctx context.Context, f OwnerFilter) ([]OwnerSummary, error) {
	if f.TenantID == "" {
		return nil, fmt.Errorf("list owners: tenant required: %w", models.ErrInvalid)
	}
	w := &where{}
	w.add("c.tenant_id = ?", f.TenantID)
	if f.After != "" {
		w.add("c.owner_account_id > ?", f.After)
	}
	if f.Inactive {
		w.add("c.owner_account_id IN (SELECT u.account_id FROM users u WHERE u.tenant_id = ? AND (NOT u.active OR u.deleted))", f.TenantID)
	}
	if s := strings.TrimSpace(f.Search); s != "" {
		w.add(`(c.owner_account_id = ? OR c.owner_account_id IN (SELECT u.account_id FROM users u WHERE u.tenant_id = ? AND LOWER(u.display_name) LIKE ? ESCAPE '\'))`,
			s, f.TenantID, "%"+escapeLike(strings.ToLower(s))+"%")
	}
	ids, err := s.db.strings(ctx, "SELECT DISTINCT c.owner_account_id FROM credentials c WHERE "+w.String()+
		fmt.Sprintf(" ORDER BY c.owner_account_id LIMIT %d", max(f.Limit, 1)), w.args...)
	if err != nil || len(ids) == 0 {
		return nil, translate(err, "list owners")
	}
	byID := make(map[string]*OwnerSummary, len(ids))
	out := make([]OwnerSummary, len(ids))
	for i, id := range ids {
		out[i] = OwnerSummary{AccountID: id, Active: true}
		byID[id] = &out[i]
	}
	rows, err := s.db.conn(ctx).Raw(`SELECT owner_account_id, COUNT(*),
		SUM(CASE WHEN revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?) THEN 1 ELSE 0 END), MAX(last_used_at)
		FROM credentials WHERE tenant_id = ? AND owner_account_id IN ? GROUP BY owner_account_id`, f.Now.UTC(), f.TenantID, ids).Rows()
	if err != nil {
		return nil, translate(err, "count owner credentials")
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id            string
			total, active int64
			last          nullTime
		)
		if err := rows.Scan(&id, &total, &active, &last); err != nil {
			return nil, translate(err, "count owner credentials")
		}
		if o := byID[id]; o != nil {
			o.TotalCredentials, o.ActiveCredentials, o.LastUsedAt = total, active, last.ptr()
		}
	}
	if err := rows.Err(); err != nil {
		return nil, translate(err, "count owner credentials")
	}
	var users []models.User
	if err := s.db.conn(ctx).Table("users").Where("tenant_id = ? AND account_id IN ?", f.TenantID, ids).Find(&users).Error; err != nil {
		return nil, translate(err, "owner users")
	}
	for _, u := range users {
		if o := byID[u.AccountID]; o != nil {
			o.DisplayName, o.Known, o.Active = u.DisplayName, true, u.Active && !u.Deleted
		}
	}
	return out, nil
}

// Owner is what the inventory shows of a credential's owner.
type Owner struct {
	DisplayName string
	Active      bool
}

// Owners returns the known users among accountIDs of the tenant.
func (s *Inventory) Owners(ctx context.Context, tenantID string, accountIDs []string) (map[string]Owner, error) {
	out := make(map[string]Owner, len(accountIDs))
	if len(accountIDs) == 0 {
		return out, nil
	}
	err := s.db.query(ctx, "SELECT account_id, display_name, active AND NOT deleted FROM users WHERE tenant_id = ? AND account_id IN ?",
		[]any{tenantID, accountIDs}, func(r rows) error {
			for r.Next() {
				var id string
				var o Owner
				if err := r.Scan(&id, &o.DisplayName, &o.Active); err != nil {
					return err
				}
				out[id] = o
			}
			return nil
		})
	return out, translate(err, "owners")
}

// OwnerKnown reports whether an account owns credentials in the tenant or
// is a known user of it.
func (s *Inventory) OwnerKnown(ctx context.Context, tenantID, accountID string) (bool, error) {
	var n int64
	err := s.db.conn(ctx).Raw(`SELECT COUNT(*) FROM (SELECT 1 FROM credentials WHERE tenant_id = ? AND owner_account_id = ? LIMIT 1) a`, tenantID, accountID).Scan(&n).Error
	if err != nil || n > 0 {
		return n > 0, translate(err, "owner known")
	}
	err = s.db.conn(ctx).Raw(`SELECT COUNT(*) FROM users WHERE tenant_id = ? AND account_id = ?`, tenantID, accountID).Scan(&n).Error
	return n > 0, translate(err, "owner known")
}

// AccessLogBatch returns up to limit access log records matching f, newest
// first (f.Limit is ignored): the export's keyset batches.
func (s *Inventory) AccessLogBatch(ctx context.Context, f AccessLogFilter, limit int) ([]models.AccessLogEntry, error) {
	w := accessLogConditions(f)
	q := "SELECT id, tenant_id, at, credential_id, credential_kind, owner_account_id, method, path, decision, reason, ip, user_agent FROM access_log WHERE " +
		w.String() + fmt.Sprintf(" ORDER BY id DESC LIMIT %d", limit)
	out := make([]models.AccessLogEntry, 0, limit)
	err := s.db.query(ctx, q, w.args, func(rows rows) error {
		for rows.Next() {
			var (
				e              models.AccessLogEntry
				at             nullTime
				kind, decision string
			)
			if err := rows.Scan(&e.ID, &e.TenantID, &at, &e.CredentialID, &kind, &e.OwnerAccountID, &e.Method, &e.Path, &decision, &e.Reason, &e.IP, &e.UserAgent); err != nil {
				return err
			}
			e.At, e.CredentialKind, e.Decision = at.value(), models.CredentialKind(kind), models.Decision(decision)
			out = append(out, e)
		}
		return nil
	})
	return out, translate(err, "access log batch")
}

// EstimateAccessLog returns a fast size hint of the records matching f: the
// planner's estimate on PostgreSQL, a count bounded by upTo on SQLite.
func (s *Inventory) EstimateAccessLog(ctx context.Context, f AccessLogFilter, upTo int) (int64, error) {
	w := accessLogConditions(f)
	q := "SELECT 1 FROM access_log WHERE " + w.String()
	if s.db.IsPostgres() {
		n, err := s.db.estimateRows(ctx, q, w.args)
		return n, translate(err, "estimate access log")
	}
	n, err := s.db.boundedCount(ctx, q, w.args, upTo)
	return n, translate(err, "estimate access log")
}

func accessLogConditions(f AccessLogFilter) *where {
	w := &where{}
	w.add("tenant_id = ?", f.TenantID)
	if f.CredentialID != "" {
		w.add("credential_id = ?", f.CredentialID)
	}
	if f.OwnerID != "" {
		w.add("owner_account_id = ?", f.OwnerID)
	}
	if f.Decision != "" {
		w.add("decision = ?", f.Decision)
	}
	if f.PathPrefix != "" {
		w.add(`path LIKE ? ESCAPE '\'`, escapeLike(f.PathPrefix)+"%")
	}
	w.addTime("at >= ?", f.From)
	w.addTime("at < ?", f.To)
	if f.BeforeID > 0 {
		w.add("id < ?", f.BeforeID)
	}
	return w
}

package store

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/models"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Credentials stores API keys and OAuth grants and the hashes of the secrets
// that authenticate as them.
type Credentials struct {
	db        *DB
	lastPrune atomic.Int64 // unix nanos of the last prune of change notices
}

// NewCredentials returns the credential store.
func NewCredentials(db *DB) *Credentials { return &Credentials{db: db} }

// Create inserts a credential and its first secret hash.
func (s *Credentials) Create(ctx context.Context, c *models.Credential, secret *models.CredentialSecret) error {
	return s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.conn(ctx).Table("credentials").Create(c).Error; err != nil {
			return translate(err, "create credential")
		}
		if secret == nil {
			return nil
		}
		return translate(s.db.conn(ctx).Table("credential_secrets").Create(secret).Error, "create credential secret")
	})
}

// AddSecret stores one more secret hash for a credential of the tenant.
func (s *Credentials) AddSecret(ctx context.Context, secret *models.CredentialSecret) error {
	return translate(s.db.conn(ctx).Table("credential_secrets").Create(secret).Error, "add credential secret")
}

// Get returns a credential of the tenant.
func (s *Credentials) Get(ctx context.Context, tenantID, id string) (*models.Credential, error) {
	var c models.Credential
	err := s.db.conn(ctx).Table("credentials").Where("tenant_id = ? AND id = ?", tenantID, id).Take(&c).Error
	if err != nil {
		return nil, translate(err, "get credential")
	}
	return &c, nil
}

// GetForUpdate returns a credential of the tenant, locking its row on
// PostgreSQL until the transaction in ctx ends.
func (s *Credentials) GetForUpdate(ctx context.Context, tenantID, id string) (*models.Credential, error) {
	var c models.Credential
	q := s.db.conn(ctx).Table("credentials").Where("tenant_id = ? AND id = ?", tenantID, id)
	if s.db.IsPostgres() {
		q = q.Clauses(forUpdate())
	}
	if err := q.Take(&c).Error; err != nil {
		return nil, translate(err, "get credential")
	}
	return &c, nil
}

// ListByOwner returns a user's credentials of one kind in the tenant, newest
// first.
func (s *Credentials) ListByOwner(ctx context.Context, tenantID, ownerID string, kind models.CredentialKind, limit int) ([]models.Credential, error) {
	var out []models.Credential
	err := s.db.conn(ctx).Table("credentials").
		Where("tenant_id = ? AND owner_account_id = ? AND kind = ?", tenantID, ownerID, kind).
		Order("created_at DESC, id DESC").Limit(limit).Find(&out).Error
	return out, translate(err, "list credentials")
}

// Update writes the mutable fields of a credential of its tenant and bumps
// updated_at, which tells every replica's verifier to reload it.
func (s *Credentials) Update(ctx context.Context, c *models.Credential) error {
	res := s.db.conn(ctx).Table("credentials").Where("tenant_id = ? AND id = ?", c.TenantID, c.ID).
		Select("name", "hint", "scopes", "expires_at", "revoked_at", "revoked_by", "revoke_reason", "updated_at").
		Updates(c)
	if res.Error != nil {
		return translate(res.Error, "update credential")
	}
	if res.RowsAffected == 0 {
		return translate(errNotFound, "update credential")
	}
	return nil
}

// ExpireSecrets sets the expiry of every secret of a credential that has
// none or a later one.
func (s *Credentials) ExpireSecrets(ctx context.Context, tenantID, credentialID string, at time.Time) error {
	err := s.db.conn(ctx).Table("credential_secrets").
		Where("tenant_id = ? AND credential_id = ? AND (expires_at IS NULL OR expires_at > ?)", tenantID, credentialID, at).
		Update("expires_at", at).Error
	return translate(err, "expire credential secrets")
}

// SecretMatch is a credential found by the hash of a presented secret.
type SecretMatch struct {
	models.Credential
	SecretExpiresAt *time.Time
	OwnerActive     bool
	TenantState     models.TenantState
}

// FindBySecret looks a presented secret up by its hash. This is the one
// lookup not scoped by tenant: the secret itself says which tenant it
// belongs to.
func (s *Credentials) FindBySecret(ctx context.Context, hash []byte) (*SecretMatch, error) {
	var m SecretMatch
	q := s.db.conn(ctx).Table("credential_secrets AS s").Joins("JOIN credentials c ON c.id = s.credential_id AND c.tenant_id = s.tenant_id")
	err := withState(q, "s.expires_at AS secret_expires_at").Where("s.hash = ?", hash).Take(&m).Error
	if err != nil {
		return nil, translate(err, "find credential by secret")
	}
	return &m, nil
}

// FindWithState returns a credential of the tenant with the state of its
// owner and site, decided by the same rule as FindBySecret (SecretExpiresAt
// is nil).
func (s *Credentials) FindWithState(ctx context.Context, tenantID, id string) (*SecretMatch, error) {
	var m SecretMatch
	err := withState(s.db.conn(ctx).Table("credentials AS c"), "NULL AS secret_expires_at").
		Where("c.tenant_id = ? AND c.id = ?", tenantID, id).Take(&m).Error
	if err != nil {
		return nil, translate(err, "find credential")
	}
	return &m, nil
}

// withState selects a credential c (already in q) with whether its
// owner is active (unknown users count as active, as the verifier assumes)
// and its site's state: the one place that rule is written.
func withState(q *gorm.DB, extra string) *gorm.DB {
	return q.Select("c.*, " + extra + ", COALESCE(u.active, TRUE) AND NOT COALESCE(u.deleted, FALSE) AS owner_active, t.state AS tenant_state").
		Joins("JOIN tenants t ON t.id = c.tenant_id").
		Joins("LEFT JOIN users u ON u.tenant_id = c.tenant_id AND u.account_id = c.owner_account_id")
}

// Touch records that credentials changed now, in a statement of its own:
// call it after the change committed, so other replicas' pollers, which
// look back a few seconds from their own reading of the clock, cannot miss
// a change whose transaction ran long. The notice goes to the narrow
// credential_changes table, not to the credential row, whose many indexes
// a second update would rewrite. On PostgreSQL the time is the database's,
// the same clock pollers read (Now). Notices older than changeRetention are
// pruned, at most once a minute per process.
func (s *Credentials) Touch(ctx context.Context, ids []string) error {
	for start := 0; start < len(ids); start += 500 {
		if err := s.db.noticeChanges(ctx, "id IN ?", ids[start:min(start+500, len(ids))]); err != nil {
			return translate(err, "touch credentials")
		}
	}
	return s.pruneChanges(ctx)
}

// noticeChanges stamps a change notice now (the database's clock on
// PostgreSQL) for every credential matching cond.
func (db *DB) noticeChanges(ctx context.Context, cond string, args ...any) error {
	stamp := any(time.Now().UTC())
	if db.IsPostgres() {
		stamp = gorm.Expr("clock_timestamp()")
	}
	return db.conn(ctx).Exec(`INSERT INTO credential_changes (tenant_id, credential_id, changed_at)
		SELECT tenant_id, id, ? FROM credentials WHERE `+cond, append([]any{stamp}, args...)...).Error
}

// changeRetention is how long change notices are kept: far longer than a
// poller's look-back and than a cache entry's life (30 s).
const changeRetention = 10 * time.Minute

func (s *Credentials) pruneChanges(ctx context.Context) error {
	now := time.Now()
	last := s.lastPrune.Load()
	if now.UnixNano()-last < int64(time.Minute) || !s.lastPrune.CompareAndSwap(last, now.UnixNano()) {
		return nil
	}
	err := s.db.conn(ctx).Exec(`DELETE FROM credential_changes WHERE changed_at < ?`, now.Add(-changeRetention).UTC()).Error
	return translate(err, "prune credential changes")
}

// Now is the clock that updated_at stamps of Touch follow: the database's
// on PostgreSQL (replicas' own clocks may drift), this process's on SQLite.
func (s *Credentials) Now(ctx context.Context) (time.Time, error) {
	if !s.db.IsPostgres() {
		return time.Now().UTC(), nil
	}
	var t time.Time
	err := s.db.conn(ctx).Raw("SELECT clock_timestamp()").Scan(&t).Error
	return t.UTC(), translate(err, "read database clock")
}

// ChangedSinceLimit bounds the ids one ChangedSince call returns; a caller
// that gets this many must assume it missed some.
const ChangedSinceLimit = 100_000

// ChangedSince returns the ids of credentials updated, or noticed changed
// (Touch), at or after t, for cache invalidation across replicas.
func (s *Credentials) ChangedSince(ctx context.Context, t time.Time) ([]string, error) {
	var ids []string
	t = t.UTC()
	err := s.db.conn(ctx).Raw(`SELECT id FROM credentials WHERE updated_at >= ?
		UNION SELECT credential_id FROM credential_changes WHERE changed_at >= ?
		LIMIT ?`, t, t, ChangedSinceLimit).Scan(&ids).Error
	return ids, translate(err, "credentials changed since")
}

// ApplyUsage adds batched uses to credentials: use count, and last-used
// time, IP and user agent when newer. It leaves updated_at alone, so usage
// never invalidates caches.
func (s *Credentials) ApplyUsage(ctx context.Context, batch []models.Usage) error {
	if len(batch) == 0 {
		return nil
	}
	return translate(s.db.InTx(ctx, func(ctx context.Context) error {
		for _, u := range batch {
			err := s.db.conn(ctx).Exec(`UPDATE credentials SET use_count = use_count + ?,
				last_used_at = CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_at END,
				last_used_ip = CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_ip END,
				last_used_ua = CASE WHEN last_used_at IS NULL OR last_used_at < ? THEN ? ELSE last_used_ua END
				WHERE tenant_id = ? AND id = ?`,
				u.Count, u.At, u.At, u.At, u.IP, u.At, u.UserAgent, u.TenantID, u.CredentialID).Error
			if err != nil {
				return err
			}
		}
		return nil
	}), "apply usage")
}

// RevokeFilter selects active credentials of one tenant to revoke. It must
// name what it selects: ids, an owner or owners, an OAuth client or an
// inventory filter (revoke-everything is an empty Match). A filter with
// only a tenant (and a kind) is refused rather than read as "everything",
// and an empty, non-nil IDs or Owners list selects nothing: a caller whose
// lookup found no ids must never revoke the whole site.
type RevokeFilter struct {
	TenantID       string
	IDs            []string // nil: not restricted by id
	OwnerAccountID string   // empty: any owner
	Owners         []string // nil: not restricted by owners; else any of these accounts (at most MaxRevokeOwners)
	ClientID       string   // empty: any OAuth client
	Kind           models.CredentialKind
	Match          *CredentialFilter // nil: no further restriction; else also an inventory filter (admin bulk revocation)
}

// MaxRevokeOwners bounds RevokeFilter.Owners.
const MaxRevokeOwners = 1000

// check refuses filters that name nothing and reports whether f can match.
func (f *RevokeFilter) check() (matches bool, err error) {
	switch {
	case f.TenantID == "":
		return false, fmt.Errorf("revoke credentials: tenant required: %w", models.ErrInvalid)
	case len(f.Owners) > MaxRevokeOwners:
		return false, fmt.Errorf("revoke credentials: at most %d owners at once: %w", MaxRevokeOwners, models.ErrInvalid)
	case f.IDs != nil && len(f.IDs) == 0, f.Owners != nil && len(f.Owners) == 0:
		return false, nil
	case f.IDs == nil && f.OwnerAccountID == "" && f.Owners == nil && f.ClientID == "" && f.Match == nil:
		return false, fmt.Errorf("revoke credentials: the filter selects nothing by name (ids, owner, client or inventory filter): %w", models.ErrInvalid)
	}
	return true, nil
}

// RevokeMatching revokes every active credential matching f and returns
// the revoked credentials (as they are after the change): one UPDATE …
// RETURNING, or one per 500 ids. Already revoked credentials are left
// untouched, also when another transaction revokes them meanwhile (the
// row lock makes the UPDATE re-check revoked_at).
func (s *Credentials) RevokeMatching(ctx context.Context, f RevokeFilter, at time.Time, by, reason string) ([]models.Credential, error) {
	if ok, err := f.check(); !ok {
		return nil, err
	}
	var match *where
	if f.Match != nil {
		m := *f.Match
		m.TenantID = f.TenantID
		w, err := m.conditions()
		if err != nil {
			return nil, translate(err, "revoke credentials")
		}
		match = w
	}
	var out []models.Credential
	revoke := func(ctx context.Context, ids []string) error {
		q := s.db.conn(ctx).Table("credentials").Where("tenant_id = ? AND revoked_at IS NULL", f.TenantID)
		if ids != nil {
			q = q.Where("id IN ?", ids)
		}
		if f.OwnerAccountID != "" {
			q = q.Where("owner_account_id = ?", f.OwnerAccountID)
		}
		if f.Owners != nil {
			q = q.Where("owner_account_id IN ?", f.Owners)
		}
		if f.ClientID != "" {
			q = q.Where("client_id = ?", f.ClientID)
		}
		if f.Kind != "" {
			q = q.Where("kind = ?", f.Kind)
		}
		if match != nil {
			q = q.Where("id IN (SELECT c.id FROM credentials c WHERE "+match.String()+")", match.args...)
		}
		var got []models.Credential
		err := q.Model(&got).Clauses(clause.Returning{}).
			Updates(map[string]any{"revoked_at": at, "revoked_by": by, "revoke_reason": reason, "updated_at": at}).Error
		out = append(out, got...)
		return err
	}
	err := s.db.InTx(ctx, func(ctx context.Context) error {
		if f.IDs == nil {
			return revoke(ctx, nil)
		}
		for start := 0; start < len(f.IDs); start += 500 {
			if err := revoke(ctx, f.IDs[start:min(start+500, len(f.IDs))]); err != nil {
				return err
			}
		}
		return nil
	})
	for i := range out {
		out[i].RevokedAt, out[i].RevokedBy, out[i].RevokeReason, out[i].UpdatedAt = &at, by, reason, at
	}
	return out, translate(err, "revoke credentials")
}

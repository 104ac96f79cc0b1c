package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"

	"github.com/keyward/keyward/models"
)

// Seed bulk-loads demo and benchmark data: COPY on PostgreSQL, multi-row
// inserts in one transaction on SQLite.
type Seed struct{ db *DB }

// NewSeed returns the bulk loader.
func NewSeed(db *DB) *Seed { return &Seed{db: db} }

// UpsertUsers creates users or updates their name and status.
func (s *Seed) UpsertUsers(ctx context.Context, users []models.User) error {
	if len(users) == 0 {
		return nil
	}
	err := s.db.conn(ctx).Table("users").Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "tenant_id"}, {Name: "account_id"}},
		DoUpdates: clause.AssignmentColumns([]string{"display_name", "email", "account_type", "active", "deleted", "updated_at"}),
	}).CreateInBatches(users, 500).Error
	return translate(err, "upsert users")
}

var (
	credentialColumns = []string{"id", "tenant_id", "kind", "owner_account_id", "name", "hint", "scopes", "client_id",
		"created_at", "updated_at", "expires_at", "revoked_at", "revoked_by", "revoke_reason",
		"last_used_at", "last_used_ip", "last_used_ua", "use_count"}
	// hash is not first: GORM expands a []byte right after "(" into a list.
	secretColumns = []string{"tenant_id", "credential_id", "hash", "created_at", "expires_at"}
)

func optTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UTC()
}

// CreateCredentials inserts credentials and their secret hashes in bulk.
func (s *Seed) CreateCredentials(ctx context.Context, creds []models.Credential, secrets []models.CredentialSecret) error {
	credRow := func(i int) []any {
		c := &creds[i]
		return []any{c.ID, c.TenantID, string(c.Kind), c.OwnerAccountID, c.Name, c.Hint, c.Scopes, c.ClientID,
			c.CreatedAt.UTC(), c.UpdatedAt.UTC(), optTime(c.ExpiresAt), optTime(c.RevokedAt), c.RevokedBy, c.RevokeReason,
			optTime(c.LastUsedAt), c.LastUsedIP, c.LastUsedUA, c.UseCount}
	}
	secretRow := func(i int) []any {
		x := &secrets[i]
		return []any{x.TenantID, x.CredentialID, x.Hash, x.CreatedAt.UTC(), optTime(x.ExpiresAt)}
	}
	if s.db.IsPostgres() {
		if err := s.db.copyRows(ctx, "credentials", credentialColumns, len(creds), credRow); err != nil {
			return translate(err, "copy credentials")
		}
		return translate(s.db.copyRows(ctx, "credential_secrets", secretColumns, len(secrets), secretRow), "copy credential secrets")
	}
	return translate(s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.insertRows(ctx, "credentials", credentialColumns, len(creds), credRow); err != nil {
			return err
		}
		return s.db.insertRows(ctx, "credential_secrets", secretColumns, len(secrets), secretRow)
	}), "insert credentials")
}

// Seeded reports whether the tenant's audit trail holds an action, e.g.
// the marker of a demo seed.
func (s *Seed) Seeded(ctx context.Context, tenantID, action string) (bool, error) {
	var n int64
	err := s.db.conn(ctx).Raw("SELECT COUNT(*) FROM (SELECT 1 FROM audit_events WHERE tenant_id = ? AND action = ? LIMIT 1) a", tenantID, action).Row().Scan(&n)
	return n > 0, translate(err, "seeded")
}

// Analyze tidies up after a bulk load: fresh planner statistics, so
// estimates and plans see the new rows at once, and on PostgreSQL a vacuum,
// which also moves the trigram indexes' pending entries into the index
// (autovacuum would, later) and lets index-only scans skip the heap. It
// must not run inside a transaction.
func (s *Seed) Analyze(ctx context.Context) error {
	if !s.db.IsPostgres() {
		return translate(s.db.conn(ctx).Exec("ANALYZE").Error, "analyze")
	}
	return translate(s.db.conn(ctx).Exec("VACUUM (ANALYZE) users, credentials, credential_secrets, access_log").Error, "vacuum analyze")
}

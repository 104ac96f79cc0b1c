package store

import (
	"context"
	"time"
)

// Confirmation is a pending admin action previewed and waiting for its
// single-use confirmation token, which only its hash identifies.
type Confirmation struct {
	ID        string // SHA-256 (hex) of the token
	TenantID  string
	Actor     string
	Action    string
	Selection string // JSON, as the service wrote it
	Count     int64
	CreatedAt time.Time
	ExpiresAt time.Time
	UsedAt    *time.Time
}

// CreateConfirmation stores a confirmation and forgets those that expired
// more than a day ago.
func (s *Inventory) CreateConfirmation(ctx context.Context, c *Confirmation) error {
	return translate(s.db.InTx(ctx, func(ctx context.Context) error {
		if err := s.db.conn(ctx).Exec("DELETE FROM admin_confirmations WHERE expires_at < ?", c.CreatedAt.Add(-24*time.Hour).UTC()).Error; err != nil {
			return err
		}
		return s.db.conn(ctx).Table("admin_confirmations").Create(c).Error
	}), "create confirmation")
}

// ConfirmationForUpdate returns a confirmation of the tenant, locking it
// until the transaction in ctx ends (SQLite transactions are serialised).
func (s *Inventory) ConfirmationForUpdate(ctx context.Context, tenantID, id string) (*Confirmation, error) {
	var c Confirmation
	q := s.db.conn(ctx).Table("admin_confirmations").Where("tenant_id = ? AND id = ?", tenantID, id)
	if s.db.IsPostgres() {
		q = q.Clauses(forUpdate())
	}
	if err := q.Take(&c).Error; err != nil {
		return nil, translate(err, "get confirmation")
	}
	return &c, nil
}

// UseConfirmation marks an unused confirmation of the tenant used; a used
// one gives models.ErrConflict.
func (s *Inventory) UseConfirmation(ctx context.Context, tenantID, id string, at time.Time) error {
	res := s.db.conn(ctx).Table("admin_confirmations").Where("tenant_id = ? AND id = ? AND used_at IS NULL", tenantID, id).Update("used_at", at.UTC())
	if res.Error != nil {
		return translate(res.Error, "use confirmation")
	}
	if res.RowsAffected == 0 {
		return translate(errConflict, "use confirmation")
	}
	return nil
}

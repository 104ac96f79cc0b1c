package store

import (
	"context"

	"github.com/keyward/keyward/models"
)

// Tenants stores installations (one per Jira site).
type Tenants struct{ db *DB }

// NewTenants returns the tenant store.
func NewTenants(db *DB) *Tenants { return &Tenants{db: db} }

// Create inserts a new tenant. A clientKey or installationId already taken
// gives models.ErrConflict.
func (s *Tenants) Create(ctx context.Context, t *models.Tenant) error {
	return translate(s.db.conn(ctx).Table("tenants").Create(t).Error, "create tenant")
}

// Save writes every field of an existing tenant.
func (s *Tenants) Save(ctx context.Context, t *models.Tenant) error {
	res := s.db.conn(ctx).Table("tenants").Where("id = ?", t.ID).Select("*").Updates(t)
	if res.Error != nil {
		return translate(res.Error, "save tenant")
	}
	if res.RowsAffected == 0 {
		return translate(errNotFound, "save tenant")
	}
	return nil
}

// Get returns a tenant by its id.
func (s *Tenants) Get(ctx context.Context, id string) (*models.Tenant, error) {
	return s.first(ctx, "get tenant", "id = ?", id)
}

// ByClientKey returns the tenant of a Connect clientKey.
func (s *Tenants) ByClientKey(ctx context.Context, clientKey string) (*models.Tenant, error) {
	if clientKey == "" {
		return nil, translate(errNotFound, "tenant by client key")
	}
	return s.first(ctx, "tenant by client key", "client_key = ?", clientKey)
}

// ByForgeInstallation returns the tenant of a Forge installationId.
func (s *Tenants) ByForgeInstallation(ctx context.Context, installationID string) (*models.Tenant, error) {
	if installationID == "" {
		return nil, translate(errNotFound, "tenant by installation")
	}
	return s.first(ctx, "tenant by installation", "forge_installation_id = ?", installationID)
}

// ByCloudID returns the tenant of a Jira cloudId.
func (s *Tenants) ByCloudID(ctx context.Context, cloudID string) (*models.Tenant, error) {
	if cloudID == "" {
		return nil, translate(errNotFound, "tenant by cloud id")
	}
	return s.first(ctx, "tenant by cloud id", "cloud_id = ?", cloudID)
}

// ListInstalled returns every tenant in the installed state.
func (s *Tenants) ListInstalled(ctx context.Context) ([]models.Tenant, error) {
	var out []models.Tenant
	err := s.db.conn(ctx).Table("tenants").Where("state = ?", models.TenantInstalled).Order("id").Find(&out).Error
	return out, translate(err, "list tenants")
}

// ByClientKeyForUpdate is ByClientKey that, on PostgreSQL, locks the row
// until the transaction in ctx ends (SQLite transactions already exclude
// each other). Call it inside InTx before writing the tenant back.
func (s *Tenants) ByClientKeyForUpdate(ctx context.Context, clientKey string) (*models.Tenant, error) {
	if clientKey == "" {
		return nil, translate(errNotFound, "tenant by client key")
	}
	return s.lockFirst(ctx, "tenant by client key", "client_key = ?", clientKey)
}

// ByForgeInstallationForUpdate is ByForgeInstallation that, on PostgreSQL,
// locks the row until the transaction in ctx ends.
func (s *Tenants) ByForgeInstallationForUpdate(ctx context.Context, installationID string) (*models.Tenant, error) {
	if installationID == "" {
		return nil, translate(errNotFound, "tenant by installation")
	}
	return s.lockFirst(ctx, "tenant by installation", "forge_installation_id = ?", installationID)
}

func (s *Tenants) first(ctx context.Context, what, query string, arg any) (*models.Tenant, error) {
	var t models.Tenant
	if err := s.db.conn(ctx).Table("tenants").Where(query, arg).Take(&t).Error; err != nil {
		return nil, translate(err, what)
	}
	return &t, nil
}

func (s *Tenants) lockFirst(ctx context.Context, what, query string, arg any) (*models.Tenant, error) {
	var t models.Tenant
	q := s.db.conn(ctx).Table("tenants").Where(query, arg)
	if s.db.IsPostgres() {
		q = q.Clauses(forUpdate())
	}
	if err := q.Take(&t).Error; err != nil {
		return nil, translate(err, what)
	}
	return &t, nil
}

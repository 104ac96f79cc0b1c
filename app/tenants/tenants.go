// Package tenants owns the installation lifecycle: Connect installed,
// uninstalled, enabled and disabled callbacks, Forge installations and the
// per-site secrets (shared secret, Forge system token) kept sealed at rest.
package tenants

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/models"
)

// Store is the tenant persistence the service needs.
type Store interface {
	Create(ctx context.Context, t *models.Tenant) error
	Save(ctx context.Context, t *models.Tenant) error
	Get(ctx context.Context, id string) (*models.Tenant, error)
	ByClientKey(ctx context.Context, clientKey string) (*models.Tenant, error)
	ByForgeInstallation(ctx context.Context, installationID string) (*models.Tenant, error)
	// ByClientKeyForUpdate and ByForgeInstallationForUpdate read the tenant
	// and keep other writers of its row waiting until the transaction in
	// ctx ends, so a read-modify-write loses no parallel change.
	ByClientKeyForUpdate(ctx context.Context, clientKey string) (*models.Tenant, error)
	ByForgeInstallationForUpdate(ctx context.Context, installationID string) (*models.Tenant, error)
}

// Auditor records lifecycle actions.
type Auditor interface {
	Record(ctx context.Context, e models.AuditEvent) error
}

// Sealer encrypts secrets at rest.
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// TxRunner runs a function in one database transaction, and functions
// after the outermost transaction commits.
type TxRunner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AfterCommit(ctx context.Context, f func())
}

// Service manages tenants.
type Service struct {
	store  Store
	seal   Sealer
	audit  Auditor
	tx     TxRunner
	log    *logrus.Entry
	now    func() time.Time
	maxKey int
	sites  secretCache
}

// NewService builds the tenant service. defaultMaxKeyDays is the upper bound
// of API key lifetimes for sites that set none.
func NewService(store Store, seal Sealer, audit Auditor, tx TxRunner, log *logrus.Entry, defaultMaxKeyDays int) *Service {
	return &Service{store: store, seal: seal, audit: audit, tx: tx, log: log, now: func() time.Time { return time.Now().UTC() }, maxKey: defaultMaxKeyDays}
}

// Get returns a tenant by id.
func (s *Service) Get(ctx context.Context, id string) (*models.Tenant, error) {
	return s.store.Get(ctx, id)
}

// MaxKeyLifetimeDays is the upper bound of API key lifetimes in a site.
func (s *Service) MaxKeyLifetimeDays(t *models.Tenant) int {
	if t.MaxKeyLifetimeDays > 0 {
		return t.MaxKeyLifetimeDays
	}
	return s.maxKey
}

func secretContext(tenantID, field string) string { return "tenant/" + tenantID + "/" + field }

// SharedSecret returns the Connect shared secret of the installed site with
// this clientKey. Sites that are not installed have no usable secret.
func (s *Service) SharedSecret(ctx context.Context, clientKey string) (*models.Tenant, []byte, error) {
	now := time.Now()
	if t, secret, ok := s.sites.get(clientKey, now); ok {
		return t, secret, nil
	}
	gen := s.sites.generation()
	t, err := s.store.ByClientKey(ctx, clientKey)
	if err != nil {
		return nil, nil, err
	}
	if t.State == models.TenantUninstalled || len(t.SharedSecretEnc) == 0 {
		return nil, nil, fmt.Errorf("tenant %s is %s: %w", t.ID, t.State, models.ErrNotFound)
	}
	secret, err := s.seal.Open(t.SharedSecretEnc, secretContext(t.ID, "shared_secret"))
	if err != nil {
		return nil, nil, fmt.Errorf("open shared secret of tenant %s: %w", t.ID, err)
	}
	s.sites.put(clientKey, t, secret, now, gen)
	return t, secret, nil
}

// forgetAfterCommit drops a Connect site from the secret cache once the
// transaction in ctx has committed its change.
func (s *Service) forgetAfterCommit(ctx context.Context, clientKey string) {
	if clientKey == "" {
		return
	}
	s.tx.AfterCommit(ctx, func() { s.sites.forget(clientKey) })
}

// maxConflictRetries bounds how often a write that lost a race for a new
// row (models.ErrConflict) is applied again on top of the winner.
const maxConflictRetries = 3

// ForgeSystemToken returns the newest Forge app system token of a site.
func (s *Service) ForgeSystemToken(t *models.Tenant) (string, error) {
	if len(t.ForgeSystemTokenEnc) == 0 {
		return "", fmt.Errorf("tenant %s has no forge system token: %w", t.ID, models.ErrUnavailable)
	}
	b, err := s.seal.Open(t.ForgeSystemTokenEnc, secretContext(t.ID, "forge_system_token"))
	if err != nil {
		return "", fmt.Errorf("open forge system token of tenant %s: %w", t.ID, err)
	}
	return string(b), nil
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

func isNotFound(err error) bool { return errors.Is(err, models.ErrNotFound) }

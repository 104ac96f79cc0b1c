// Package inventory holds the rules of the admin console: one inventory of
// a site's API keys and OAuth grants with filters, search, sorts and keyset
// pages; a credential's detail; revocation of one credential, of a person's
// credentials, and in bulk behind a preview and a single-use confirmation;
// owner summaries; the access log; and streamed exports.
package inventory

import (
	"context"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// Store is the inventory persistence the service needs.
type Store interface {
	ListCredentials(ctx context.Context, f store.CredentialFilter, p store.CredentialPage) ([]store.InventoryCredential, error)
	CountCredentials(ctx context.Context, f store.CredentialFilter, exactUpTo int, budget time.Duration) (int64, bool, error)
	EachCredentialID(ctx context.Context, f store.CredentialFilter, fn func(id string) error) error
	GetCredential(ctx context.Context, tenantID, id string) (*store.InventoryCredential, error)
	ListOwners(ctx context.Context, f store.OwnerFilter) ([]store.OwnerSummary, error)
	OwnerKnown(ctx context.Context, tenantID, accountID string) (bool, error)
	Owners(ctx context.Context, tenantID string, accountIDs []string) (map[string]store.Owner, error)
	AccessLogBatch(ctx context.Context, f store.AccessLogFilter, limit int) ([]models.AccessLogEntry, error)
	EstimateAccessLog(ctx context.Context, f store.AccessLogFilter, upTo int) (int64, error)
	CreateConfirmation(ctx context.Context, c *store.Confirmation) error
	ConfirmationForUpdate(ctx context.Context, tenantID, id string) (*store.Confirmation, error)
	UseConfirmation(ctx context.Context, tenantID, id string, at time.Time) error
}

// Revoker revokes credentials in one transaction with an audit row each.
type Revoker interface {
	Revoke(ctx context.Context, f store.RevokeFilter, r credentials.Revocation) ([]models.Credential, error)
}

// Evictor drops revoked credentials from the verifier's cache.
type Evictor interface {
	Invalidate(credentialIDs ...string)
}

// Auditor records admin actions in the transaction of the change.
type Auditor interface {
	Record(ctx context.Context, e models.AuditEvent) error
}

// TxRunner runs a function in one database transaction.
type TxRunner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Admin is the site administrator acting.
type Admin struct {
	TenantID  string
	AccountID string
}

// Limits of the admin API.
const (
	DefaultPageSize   = 50
	MaxPageSize       = 200
	ExportBatch       = 5000
	RecentAccess      = 50
	PreviewSample     = 20
	MaxSelectedIDs    = 1000
	ConfirmationTTL   = 10 * time.Minute
	exactTotalUpTo    = 1000
	countBudget       = 10 * time.Millisecond
	estimateUpTo      = 1_000_000
	maxReasonLength   = 500
	maxSearchLength   = 200
	maxAccountIDChars = 128
)

// Service answers the admin console.
type Service struct {
	store   Store
	revoker Revoker
	evict   Evictor
	audit   Auditor
	tx      TxRunner
	log     *logrus.Entry
	now     func() time.Time
}

// NewService builds the inventory service.
func NewService(st Store, revoker Revoker, evict Evictor, audit Auditor, tx TxRunner, log *logrus.Entry) *Service {
	return &Service{store: st, revoker: revoker, evict: evict, audit: audit, tx: tx, log: log, now: func() time.Time { return time.Now().UTC() }}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

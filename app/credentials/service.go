// Package credentials owns the rules of keyward's credentials: issuing,
// regenerating and revoking API keys (plaintext shown once, only hashes
// kept), listing them for their owners, and verifying presented secrets for
// resource servers through an in-memory cache that revocations reach at once
// in this process and within a bounded delay on every replica.
package credentials

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// Store is the credential persistence the service needs.
type Store interface {
	Create(ctx context.Context, c *models.Credential, secret *models.CredentialSecret) error
	AddSecret(ctx context.Context, secret *models.CredentialSecret) error
	Get(ctx context.Context, tenantID, id string) (*models.Credential, error)
	GetForUpdate(ctx context.Context, tenantID, id string) (*models.Credential, error)
	ListByOwner(ctx context.Context, tenantID, ownerID string, kind models.CredentialKind, limit int) ([]models.Credential, error)
	Update(ctx context.Context, c *models.Credential) error
	ExpireSecrets(ctx context.Context, tenantID, credentialID string, at time.Time) error
	FindBySecret(ctx context.Context, hash []byte) (*store.SecretMatch, error)
	ChangedSince(ctx context.Context, t time.Time) ([]string, error)
	ApplyUsage(ctx context.Context, batch []models.Usage) error
	RevokeMatching(ctx context.Context, f store.RevokeFilter, at time.Time, by, reason string) ([]models.Credential, error)
	Touch(ctx context.Context, ids []string) error
	Now(ctx context.Context) (time.Time, error)
}

// Auditor records actions in the transaction of the change.
type Auditor interface {
	Record(ctx context.Context, e models.AuditEvent) error
}

// TxRunner runs a function in one database transaction, and functions
// after the outermost transaction commits.
type TxRunner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	AfterCommit(ctx context.Context, f func())
}

// Service manages API keys for their owners.
type Service struct {
	store    Store
	audit    Auditor
	tx       TxRunner
	verifier *Verifier
	log      *logrus.Entry
	now      func() time.Time
}

// NewService builds the key service. The verifier is told about every
// change at once.
func NewService(st Store, audit Auditor, tx TxRunner, verifier *Verifier, log *logrus.Entry) *Service {
	return &Service{store: st, audit: audit, tx: tx, verifier: verifier, log: log, now: utcMicros}
}

// utcMicros is the service clock: UTC, truncated to the microsecond that
// PostgreSQL keeps, so a key as returned at creation equals the key as
// read back later (PostgreSQL would round the nanoseconds away).
func utcMicros() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

// changed publishes committed changes of credentials: this process's
// verifier forgets them at once, and a fresh updated_at stamp written after
// the commit lets every other replica's poller find them, however long the
// changing transaction ran. Inside a caller's transaction both wait for its
// commit.
func (s *Service) changed(ctx context.Context, ids ...string) {
	if len(ids) == 0 {
		return
	}
	s.tx.AfterCommit(ctx, func() {
		s.verifier.Invalidate(ids...)
		if err := s.store.Touch(context.WithoutCancel(ctx), ids); err != nil {
			s.log.WithError(err).WithField("credentials", len(ids)).Error("could not stamp changed credentials; other replicas see the change when their cache entries age out")
		}
	})
}

func newID() string { return uuid.Must(uuid.NewV7()).String() }

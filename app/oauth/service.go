// Package oauth is keyward's OAuth 2.0 authorization server for three-legged
// access: OAuth clients registered by site admins, the authorization code
// flow with PKCE whose consent page lives inside the site's Jira, token
// issuance with refresh rotation and reuse detection, RFC 7009 revocation,
// RFC 7662 introspection and RFC 8414 metadata.
//
// A grant is a credential of kind oauth_grant (owner: the authorizing user,
// client_id: the app, scopes: what was granted, expires_at: the sliding
// refresh expiry), so it appears in the inventory beside API keys, is
// revoked like one, and its access tokens (hashes in credential_secrets
// with their own expiry) verify through /v1/verify exactly like API keys.
// Refresh tokens and authorization codes are stored as SHA-256 hashes only.
package oauth

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/google/uuid"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// Store is the OAuth persistence the service needs.
type Store interface {
	CreateClient(ctx context.Context, c *models.OAuthClient) error
	GetClient(ctx context.Context, tenantID, id string) (*models.OAuthClient, error)
	ClientByID(ctx context.Context, id string) (*models.OAuthClient, error)
	ListClients(ctx context.Context, tenantID string) ([]models.OAuthClient, error)
	UpdateClient(ctx context.Context, c *models.OAuthClient) error
	DeleteClient(ctx context.Context, tenantID, id string) error

	CreateRequest(ctx context.Context, r *models.OAuthRequest) error
	GetRequest(ctx context.Context, tenantID, id string) (*models.OAuthRequest, error)
	RequestByCode(ctx context.Context, tenantID string, codeHash []byte) (*models.OAuthRequest, error)
	DecideRequest(ctx context.Context, r *models.OAuthRequest, now time.Time) error
	UseCode(ctx context.Context, tenantID string, codeHash []byte, at time.Time) (bool, error)
	SetCodeGrant(ctx context.Context, tenantID, requestID, grantID string) error
	DeleteExpiredRequests(ctx context.Context, t time.Time) (int64, error)

	CreateRefreshToken(ctx context.Context, r *models.OAuthRefreshToken) error
	GetRefreshToken(ctx context.Context, tenantID string, hash []byte) (*models.OAuthRefreshToken, error)
	RefreshTokenByHash(ctx context.Context, hash []byte) (*models.OAuthRefreshToken, error)
	UseRefreshToken(ctx context.Context, tenantID string, hash []byte, at time.Time) (bool, error)
	SetReplacedBy(ctx context.Context, tenantID string, hash, successor []byte) error
	PruneGrant(ctx context.Context, tenantID, grantID string, t time.Time) error

	GrantState(ctx context.Context, tenantID, grantID string) (*store.SecretMatch, error)
	ActiveGrantOwners(ctx context.Context, tenantID, clientID string, now time.Time) ([]store.GrantOwner, error)
}

// CredentialStore is the part of the credential store that grants and
// access tokens use.
type CredentialStore interface {
	Create(ctx context.Context, c *models.Credential, secret *models.CredentialSecret) error
	AddSecret(ctx context.Context, secret *models.CredentialSecret) error
	Get(ctx context.Context, tenantID, id string) (*models.Credential, error)
	GetForUpdate(ctx context.Context, tenantID, id string) (*models.Credential, error)
	Update(ctx context.Context, c *models.Credential) error
	ListByOwner(ctx context.Context, tenantID, ownerID string, kind models.CredentialKind, limit int) ([]models.Credential, error)
	FindBySecret(ctx context.Context, hash []byte) (*store.SecretMatch, error)
}

// Revoker revokes credentials with audit and verifier cache eviction
// (credentials.Service).
type Revoker interface {
	Revoke(ctx context.Context, f store.RevokeFilter, r credentials.Revocation) ([]models.Credential, error)
}

// Tenants finds the site a client belongs to.
type Tenants interface {
	Get(ctx context.Context, id string) (*models.Tenant, error)
}

// Groups tells whether a user belongs to any of a site's groups (asked of
// Jira; tests use a fake).
type Groups interface {
	IsGroupMember(ctx context.Context, t *models.Tenant, accountID string, groups []string) (bool, error)
}

// Auditor records actions in the transaction of the change.
type Auditor interface {
	Record(ctx context.Context, e models.AuditEvent) error
}

// TxRunner runs a function in one database transaction.
type TxRunner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Default lifetimes.
const (
	DefaultAccessTTL  = time.Hour
	DefaultRefreshTTL = 90 * 24 * time.Hour
	DefaultCodeTTL    = 60 * time.Second
	// RequestTTL is how long a user has to decide on a consent page.
	RequestTTL = 10 * time.Minute
	// RefreshReuseGrace is how long after a refresh token was rotated a
	// second presentation of it is refused without revoking the grant: the
	// loser of two concurrent refreshes (or a client's network retry) must
	// not kill the winner's fresh tokens. Later presentations are reuse and
	// revoke the whole grant.
	RefreshReuseGrace = 5 * time.Second
)

// Config is the authorization server's configuration.
type Config struct {
	Issuer     string // KEYWARD_BASE_URL, no trailing slash
	AccessTTL  time.Duration
	RefreshTTL time.Duration // sliding: every refresh extends the grant this long
	CodeTTL    time.Duration
	Consent    ConsentPages
}

// Deps are the collaborators of the service.
type Deps struct {
	Store       Store
	Credentials CredentialStore
	Revoker     Revoker
	Tenants     Tenants
	Groups      Groups // nil: clients restricted to groups admit only their named users
	Audit       Auditor
	Tx          TxRunner
	Log         *logrus.Entry
}

// Service is the authorization server.
type Service struct {
	cfg Config
	Deps
	now func() time.Time
}

// NewService builds the authorization server; zero lifetimes take the
// defaults.
func NewService(cfg Config, d Deps) *Service {
	if cfg.AccessTTL <= 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.RefreshTTL <= 0 {
		cfg.RefreshTTL = DefaultRefreshTTL
	}
	if cfg.CodeTTL <= 0 {
		cfg.CodeTTL = DefaultCodeTTL
	}
	return &Service{cfg: cfg, Deps: d, now: func() time.Time { return time.Now().UTC() }}
}

// SetClock replaces the service's clock (tests only).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// Issuer is the issuer identifier (RFC 8414).
func (s *Service) Issuer() string { return s.cfg.Issuer }

func newID() string { return uuid.Must(uuid.NewV7()).String() }

// randomID returns an unguessable identifier (144 random bits, URL-safe).
func randomID() (string, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), nil
}

package models

import "time"

// CredentialKind names what a credential is.
type CredentialKind string

// Credential kinds. Every kind lives in the same inventory.
const (
	KindAPIKey     CredentialKind = "api_key"
	KindOAuthGrant CredentialKind = "oauth_grant"
)

// CredentialStatus is the derived state of a credential at a point in time.
type CredentialStatus string

// Credential statuses.
const (
	StatusActive  CredentialStatus = "active"
	StatusExpired CredentialStatus = "expired"
	StatusRevoked CredentialStatus = "revoked"
)

// Credential is one API key or OAuth grant owned by a Jira user of a tenant.
// Secrets never appear here: the secrets that authenticate as a credential are
// stored as SHA-256 hashes in CredentialSecret rows.
type Credential struct {
	ID             string
	TenantID       string
	Kind           CredentialKind
	OwnerAccountID string
	Name           string
	Hint           string // display hint of the current secret, e.g. "kwk_…a1B2"
	Scopes         string // canonical space-separated scope list ("full" for full access)
	ClientID       string // OAuth client of a grant
	CreatedAt      time.Time
	UpdatedAt      time.Time
	ExpiresAt      *time.Time
	RevokedAt      *time.Time
	RevokedBy      string
	RevokeReason   string
	LastUsedAt     *time.Time
	LastUsedIP     string
	LastUsedUA     string
	UseCount       int64
}

// Status derives the credential's status at now.
func (c *Credential) Status(now time.Time) CredentialStatus {
	switch {
	case c.RevokedAt != nil:
		return StatusRevoked
	case c.ExpiresAt != nil && !now.Before(*c.ExpiresAt):
		return StatusExpired
	default:
		return StatusActive
	}
}

// CredentialSecret is the hash of one secret that authenticates as a
// credential: the current API key, an overlapping previous key after a
// regenerate, or an OAuth access token.
type CredentialSecret struct {
	Hash         []byte // SHA-256 of the whole secret
	TenantID     string
	CredentialID string
	CreatedAt    time.Time
	ExpiresAt    *time.Time // nil: lives as long as the credential
}

// Usage is a batch of uses of one credential, merged in memory before it is
// written.
type Usage struct {
	TenantID     string
	CredentialID string
	At           time.Time
	IP           string
	UserAgent    string
	Count        int64
}

// User is a Jira account known to a tenant: an owner of credentials.
type User struct {
	TenantID    string
	AccountID   string
	DisplayName string
	Email       string
	AccountType string
	Active      bool
	Deleted     bool
	CheckedAt   *time.Time
	UpdatedAt   time.Time
}

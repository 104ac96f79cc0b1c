package models

import "time"

// OAuthClientType says whether an OAuth client can keep a secret.
type OAuthClientType string

// OAuth client types (RFC 6749 section 2.1).
const (
	OAuthConfidential OAuthClientType = "confidential" // a server that keeps a client secret
	OAuthPublic       OAuthClientType = "public"       // a native or browser app: no secret, PKCE required
)

// OAuthClient is an app registered by a site admin that users may authorize
// for delegated, scoped access. Its secret is stored as a SHA-256 hash only.
type OAuthClient struct {
	ID             string // public client_id; it determines the tenant
	TenantID       string
	Name           string
	OwnerAccountID string // the person responsible for the app
	Type           OAuthClientType
	RedirectURIs   []string // matched exactly
	AllowedScopes  string   // canonical scope list: the most a grant may hold
	AllowedUsers   []string // accountIds; with AllowedGroups empty too: anyone in the site
	AllowedGroups  []string // Jira group ids (or names)
	SecretHash     []byte   // confidential clients only
	SecretHint     string
	CreatedBy      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	DisabledAt     *time.Time
}

// Restricted reports whether only named users or groups may authorize the
// client.
func (c *OAuthClient) Restricted() bool {
	return len(c.AllowedUsers) > 0 || len(c.AllowedGroups) > 0
}

// OAuthRequest is one authorization request, from the validated
// /oauth/authorize call through the user's decision to the single-use
// authorization code it produced (stored as a hash) and the grant that code
// was exchanged for.
type OAuthRequest struct {
	ID                  string
	TenantID            string
	ClientID            string
	RedirectURI         string // as the client sent it (or the one registered, when omitted)
	RedirectURIGiven    bool   // the token request must repeat redirect_uri when true
	Scopes              string // canonical scope list requested
	State               string
	CodeChallenge       string
	CodeChallengeMethod string // "S256" or ""
	CreatedAt           time.Time
	ExpiresAt           time.Time  // of the pending request
	DecidedAt           *time.Time // nil while pending
	DecidedBy           string     // accountId of the user who decided
	Approved            bool
	CodeHash            []byte
	CodeExpiresAt       *time.Time
	CodeUsedAt          *time.Time
	GrantID             string // the grant the code was exchanged for
}

// OAuthRefreshToken is the hash of one refresh token of a grant. A used
// token has a successor (ReplacedBy); presenting it again is reuse.
type OAuthRefreshToken struct {
	Hash       []byte
	TenantID   string
	GrantID    string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     *time.Time
	ReplacedBy []byte
}

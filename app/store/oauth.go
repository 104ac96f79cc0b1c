package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/keyward/keyward/models"
)

// OAuth stores OAuth clients, authorization requests (with their hashed
// codes) and hashed refresh tokens. Grants and access tokens are
// credentials (see Credentials).
type OAuth struct {
	db    *DB
	creds *Credentials
}

// NewOAuth returns the OAuth store.
func NewOAuth(db *DB) *OAuth { return &OAuth{db: db, creds: NewCredentials(db)} }

// clientRow is an oauth_clients row; lists are JSON arrays.
type clientRow struct {
	ID             string     `gorm:"column:id"`
	TenantID       string     `gorm:"column:tenant_id"`
	Name           string     `gorm:"column:name"`
	OwnerAccountID string     `gorm:"column:owner_account_id"`
	ClientType     string     `gorm:"column:client_type"`
	RedirectURIs   string     `gorm:"column:redirect_uris"`
	AllowedScopes  string     `gorm:"column:allowed_scopes"`
	AllowedUsers   string     `gorm:"column:allowed_users"`
	AllowedGroups  string     `gorm:"column:allowed_groups"`
	SecretHash     []byte     `gorm:"column:secret_hash"`
	SecretHint     string     `gorm:"column:secret_hint"`
	CreatedBy      string     `gorm:"column:created_by"`
	CreatedAt      time.Time  `gorm:"column:created_at"`
	UpdatedAt      time.Time  `gorm:"column:updated_at"`
	DisabledAt     *time.Time `gorm:"column:disabled_at"`
}

func jsonList(l []string) string {
	if l == nil {
		l = []string{}
	}
	b, _ := json.Marshal(l)
	return string(b)
}

func parseList(s string) []string {
	out := []string{}
	_ = json.Unmarshal([]byte(s), &out)
	return out
}

func toClientRow(c *models.OAuthClient) *clientRow {
	return &clientRow{
		ID: c.ID, TenantID: c.TenantID, Name: c.Name, OwnerAccountID: c.OwnerAccountID, ClientType: string(c.Type),
		RedirectURIs: jsonList(c.RedirectURIs), AllowedScopes: c.AllowedScopes, AllowedUsers: jsonList(c.AllowedUsers),
		AllowedGroups: jsonList(c.AllowedGroups), SecretHash: c.SecretHash, SecretHint: c.SecretHint, CreatedBy: c.CreatedBy,
		CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, DisabledAt: c.DisabledAt,
	}
}

func (r *clientRow) model() *models.OAuthClient {
	return &models.OAuthClient{
		ID: r.ID, TenantID: r.TenantID, Name: r.Name, OwnerAccountID: r.OwnerAccountID, Type: models.OAuthClientType(r.ClientType),
		RedirectURIs: parseList(r.RedirectURIs), AllowedScopes: r.AllowedScopes, AllowedUsers: parseList(r.AllowedUsers),
		AllowedGroups: parseList(r.AllowedGroups), SecretHash: r.SecretHash, SecretHint: r.SecretHint, CreatedBy: r.CreatedBy,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, DisabledAt: r.DisabledAt,
	}
}

// CreateClient inserts a client.
func (s *OAuth) CreateClient(ctx context.Context, c *models.OAuthClient) error {
	return translate(s.db.conn(ctx).Table("oauth_clients").Create(toClientRow(c)).Error, "create oauth client")
}

// GetClient returns a client of the tenant.
func (s *OAuth) GetClient(ctx context.Context, tenantID, id string) (*models.OAuthClient, error) {
	var r clientRow
	if err := s.db.conn(ctx).Table("oauth_clients").Where("tenant_id = ? AND id = ?", tenantID, id).Take(&r).Error; err != nil {
		return nil, translate(err, "get oauth client")
	}
	return r.model(), nil
}

// ClientByID returns a client by its public id alone. This is the one client
// lookup not scoped by tenant: an authorization or token request names only
// the client, and the client determines the tenant.
func (s *OAuth) ClientByID(ctx context.Context, id string) (*models.OAuthClient, error) {
	var r clientRow
	if err := s.db.conn(ctx).Table("oauth_clients").Where("id = ?", id).Take(&r).Error; err != nil {
		return nil, translate(err, "oauth client by id")
	}
	return r.model(), nil
}

// ListClients returns the tenant's clients, newest first.
func (s *OAuth) ListClients(ctx context.Context, tenantID string) ([]models.OAuthClient, error) {
	var rows []clientRow
	err := s.db.conn(ctx).Table("oauth_clients").Where("tenant_id = ?", tenantID).Order("created_at DESC, id DESC").Limit(10000).Find(&rows).Error
	if err != nil {
		return nil, translate(err, "list oauth clients")
	}
	out := make([]models.OAuthClient, len(rows))
	for i := range rows {
		out[i] = *rows[i].model()
	}
	return out, nil
}

// UpdateClient writes every mutable field of a client of its tenant.
func (s *OAuth) UpdateClient(ctx context.Context, c *models.OAuthClient) error {
	res := s.db.conn(ctx).Table("oauth_clients").Where("tenant_id = ? AND id = ?", c.TenantID, c.ID).
		Select("name", "owner_account_id", "redirect_uris", "allowed_scopes", "allowed_users", "allowed_groups", "secret_hash", "secret_hint", "updated_at", "disabled_at").
		Updates(toClientRow(c))
	if res.Error != nil {
		return translate(res.Error, "update oauth client")
	}
	if res.RowsAffected == 0 {
		return translate(errNotFound, "update oauth client")
	}
	return nil
}

// DeleteClient deletes a client of the tenant with its pending requests.
func (s *OAuth) DeleteClient(ctx context.Context, tenantID, id string) error {
	res := s.db.conn(ctx).Exec("DELETE FROM oauth_clients WHERE tenant_id = ? AND id = ?", tenantID, id)
	if res.Error != nil {
		return translate(res.Error, "delete oauth client")
	}
	if res.RowsAffected == 0 {
		return translate(errNotFound, "delete oauth client")
	}
	return nil
}

// requestRow is an oauth_requests row.
type requestRow struct {
	ID                  string     `gorm:"column:id"`
	TenantID            string     `gorm:"column:tenant_id"`
	ClientID            string     `gorm:"column:client_id"`
	RedirectURI         string     `gorm:"column:redirect_uri"`
	RedirectURIGiven    bool       `gorm:"column:redirect_uri_given"`
	Scopes              string     `gorm:"column:scopes"`
	State               string     `gorm:"column:state"`
	CodeChallenge       string     `gorm:"column:code_challenge"`
	CodeChallengeMethod string     `gorm:"column:code_challenge_method"`
	CreatedAt           time.Time  `gorm:"column:created_at"`
	ExpiresAt           time.Time  `gorm:"column:expires_at"`
	DecidedAt           *time.Time `gorm:"column:decided_at"`
	DecidedBy           string     `gorm:"column:decided_by"`
	Approved            bool       `gorm:"column:approved"`
	CodeHash            []byte     `gorm:"column:code_hash"`
	CodeExpiresAt       *time.Time `gorm:"column:code_expires_at"`
	CodeUsedAt          *time.Time `gorm:"column:code_used_at"`
	GrantID             string     `gorm:"column:grant_id"`
}

// CreateRequest stores a validated, pending authorization request.
func (s *OAuth) CreateRequest(ctx context.Context, r *models.OAuthRequest) error {
	row := requestRow(*r)
	q := s.db.conn(ctx).Table("oauth_requests")
	if row.CodeHash == nil {
		q = q.Omit("code_hash") // NULL, not an empty blob: the column is unique when set
	}
	return translate(q.Create(&row).Error, "create oauth request")
}

// GetRequest returns an authorization request of the tenant.
func (s *OAuth) GetRequest(ctx context.Context, tenantID, id string) (*models.OAuthRequest, error) {
	return s.request(ctx, "get oauth request", "tenant_id = ? AND id = ?", tenantID, id)
}

// RequestByCode returns the authorization request that issued a code, by
// the code's hash, in the tenant.
func (s *OAuth) RequestByCode(ctx context.Context, tenantID string, codeHash []byte) (*models.OAuthRequest, error) {
	return s.request(ctx, "oauth request by code", "tenant_id = ? AND code_hash = ?", tenantID, codeHash)
}

func (s *OAuth) request(ctx context.Context, what, query string, args ...any) (*models.OAuthRequest, error) {
	var row requestRow
	if err := s.db.conn(ctx).Table("oauth_requests").Where(query, args...).Take(&row).Error; err != nil {
		return nil, translate(err, what)
	}
	r := models.OAuthRequest(row)
	return &r, nil
}

// DecideRequest records the user's decision on a pending, unexpired request
// (and, when approved, the hash and expiry of its code). A request already
// decided or expired gives models.ErrConflict: exactly one decision wins.
func (s *OAuth) DecideRequest(ctx context.Context, r *models.OAuthRequest, now time.Time) error {
	res := s.db.conn(ctx).Table("oauth_requests").
		Where("tenant_id = ? AND id = ? AND decided_at IS NULL AND expires_at > ?", r.TenantID, r.ID, now).
		Updates(map[string]any{"decided_at": r.DecidedAt, "decided_by": r.DecidedBy, "approved": r.Approved, "code_hash": r.CodeHash, "code_expires_at": r.CodeExpiresAt})
	if res.Error != nil {
		return translate(res.Error, "decide oauth request")
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("decide oauth request %s: already decided or expired: %w", r.ID, errConflict)
	}
	return nil
}

// UseCode marks a code used if it is unused, and reports whether this call
// did so: of concurrent calls with the same code exactly one gets true.
func (s *OAuth) UseCode(ctx context.Context, tenantID string, codeHash []byte, at time.Time) (bool, error) {
	res := s.db.conn(ctx).Exec("UPDATE oauth_requests SET code_used_at = ? WHERE tenant_id = ? AND code_hash = ? AND code_used_at IS NULL", at, tenantID, codeHash)
	if res.Error != nil {
		return false, translate(res.Error, "use authorization code")
	}
	return res.RowsAffected == 1, nil
}

// SetCodeGrant records the grant a code was exchanged for.
func (s *OAuth) SetCodeGrant(ctx context.Context, tenantID, requestID, grantID string) error {
	err := s.db.conn(ctx).Exec("UPDATE oauth_requests SET grant_id = ? WHERE tenant_id = ? AND id = ?", grantID, tenantID, requestID).Error
	return translate(err, "set code grant")
}

// DeleteExpiredRequests deletes requests whose pending life and code life
// both ended before t, and returns how many.
func (s *OAuth) DeleteExpiredRequests(ctx context.Context, t time.Time) (int64, error) {
	res := s.db.conn(ctx).Exec("DELETE FROM oauth_requests WHERE expires_at < ? AND (code_expires_at IS NULL OR code_expires_at < ?)", t, t)
	return res.RowsAffected, translate(res.Error, "delete expired oauth requests")
}

// CreateRefreshToken stores the hash of a new refresh token.
func (s *OAuth) CreateRefreshToken(ctx context.Context, r *models.OAuthRefreshToken) error {
	return translate(s.db.conn(ctx).Table("oauth_refresh_tokens").Create(r).Error, "create refresh token")
}

// GetRefreshToken returns a refresh token of the tenant by its hash.
func (s *OAuth) GetRefreshToken(ctx context.Context, tenantID string, hash []byte) (*models.OAuthRefreshToken, error) {
	var r models.OAuthRefreshToken
	if err := s.db.conn(ctx).Table("oauth_refresh_tokens").Where("tenant_id = ? AND hash = ?", tenantID, hash).Take(&r).Error; err != nil {
		return nil, translate(err, "get refresh token")
	}
	return &r, nil
}

// RefreshTokenByHash looks a refresh token up by its hash alone, for
// introspection by a resource server: the secret says which tenant it
// belongs to.
func (s *OAuth) RefreshTokenByHash(ctx context.Context, hash []byte) (*models.OAuthRefreshToken, error) {
	var r models.OAuthRefreshToken
	if err := s.db.conn(ctx).Table("oauth_refresh_tokens").Where("hash = ?", hash).Take(&r).Error; err != nil {
		return nil, translate(err, "refresh token by hash")
	}
	return &r, nil
}

// UseRefreshToken marks an unused, unexpired refresh token used and reports
// whether this call did so: of concurrent calls with the same token exactly
// one gets true.
func (s *OAuth) UseRefreshToken(ctx context.Context, tenantID string, hash []byte, at time.Time) (bool, error) {
	res := s.db.conn(ctx).Exec("UPDATE oauth_refresh_tokens SET used_at = ? WHERE tenant_id = ? AND hash = ? AND used_at IS NULL AND expires_at > ?", at, tenantID, hash, at)
	if res.Error != nil {
		return false, translate(res.Error, "use refresh token")
	}
	return res.RowsAffected == 1, nil
}

// SetReplacedBy links a used refresh token to its successor.
func (s *OAuth) SetReplacedBy(ctx context.Context, tenantID string, hash, successor []byte) error {
	err := s.db.conn(ctx).Exec("UPDATE oauth_refresh_tokens SET replaced_by = ? WHERE tenant_id = ? AND hash = ?", successor, tenantID, hash).Error
	return translate(err, "link refresh token")
}

// PruneGrant deletes a grant's refresh tokens that expired before t and its
// access token hashes that expired before t, so a long-lived grant does not
// accumulate rows.
func (s *OAuth) PruneGrant(ctx context.Context, tenantID, grantID string, t time.Time) error {
	if err := s.db.conn(ctx).Exec("DELETE FROM oauth_refresh_tokens WHERE tenant_id = ? AND grant_id = ? AND expires_at < ?", tenantID, grantID, t).Error; err != nil {
		return translate(err, "prune refresh tokens")
	}
	err := s.db.conn(ctx).Exec("DELETE FROM credential_secrets WHERE tenant_id = ? AND credential_id = ? AND expires_at IS NOT NULL AND expires_at < ?", tenantID, grantID, t).Error
	return translate(err, "prune access tokens")
}

// GrantState returns a grant of the tenant with the state of its owner and
// site, decided by the rule /v1/verify applies to its access tokens
// (Credentials.FindWithState), so refresh tokens and access tokens agree.
func (s *OAuth) GrantState(ctx context.Context, tenantID, grantID string) (*SecretMatch, error) {
	m, err := s.creds.FindWithState(ctx, tenantID, grantID)
	if err == nil && m.Kind != models.KindOAuthGrant {
		return nil, translate(errNotFound, "grant state")
	}
	return m, err
}

// GrantOwner is one grant and the user it belongs to.
type GrantOwner struct {
	ID             string
	OwnerAccountID string
}

// ActiveGrantOwners returns the grants of a client of the tenant that are
// neither revoked nor expired at now, with their owners.
func (s *OAuth) ActiveGrantOwners(ctx context.Context, tenantID, clientID string, now time.Time) ([]GrantOwner, error) {
	var out []GrantOwner
	err := s.db.conn(ctx).Table("credentials").Select("id, owner_account_id").
		Where("tenant_id = ? AND client_id = ? AND kind = ? AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)",
			tenantID, clientID, models.KindOAuthGrant, now.UTC()).
		Order("id").Find(&out).Error
	return out, translate(err, "list active grants of oauth client")
}

package oauth

import (
	"context"
	"errors"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/token"
	"github.com/keyward/keyward/models"
)

// Introspection is an RFC 7662 answer. Only Active is set for a token that
// is not active.
type Introspection struct {
	Active    bool   `json:"active"`
	Scope     string `json:"scope,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Sub       string `json:"sub,omitempty"` // the authorizing user's accountId
	TokenType string `json:"token_type,omitempty"`
	Exp       int64  `json:"exp,omitempty"`
	Iat       int64  `json:"iat,omitempty"`
	Iss       string `json:"iss,omitempty"`
	Tenant    string `json:"tenant,omitempty"` // keyward's id of the Jira site
	GrantID   string `json:"grant_id,omitempty"`
}

var inactive = &Introspection{}

// Introspect tells whether an access or refresh token is active. caller is
// the authenticated client, which sees only its own tokens, or nil for a
// resource server authenticated with a KEYWARD_VERIFY_TOKENS bearer, which
// sees every site's. Expired, revoked, unknown and malformed tokens are
// inactive, never an error, and so are tokens /v1/verify would refuse as
// site_inactive or owner_inactive (a refresh token too: its grant is judged
// by the same rule, see Store.GrantState).
func (s *Service) Introspect(ctx context.Context, caller *models.OAuthClient, tok string) (*Introspection, error) {
	if tok == "" {
		return nil, oerr(ErrCodeInvalidRequest, "token is required")
	}
	kind, err := token.Parse(tok)
	if err != nil {
		return inactive, nil
	}
	h := token.Hash(tok)
	now := s.now()
	var (
		m    *store.SecretMatch
		out  = &Introspection{Active: true, Iss: s.cfg.Issuer}
		exp  = now
		used bool
	)
	switch kind {
	case token.KindAccessToken:
		if m, err = s.Credentials.FindBySecret(ctx, h[:]); errors.Is(err, models.ErrNotFound) {
			return inactive, nil
		} else if err != nil {
			return nil, err
		}
		if m.SecretExpiresAt == nil {
			return inactive, nil
		}
		exp, out.TokenType = *m.SecretExpiresAt, "Bearer"
	case token.KindRefreshToken:
		var rt *models.OAuthRefreshToken
		if caller != nil {
			rt, err = s.Store.GetRefreshToken(ctx, caller.TenantID, h[:])
		} else {
			rt, err = s.Store.RefreshTokenByHash(ctx, h[:])
		}
		if errors.Is(err, models.ErrNotFound) {
			return inactive, nil
		} else if err != nil {
			return nil, err
		}
		if m, err = s.Store.GrantState(ctx, rt.TenantID, rt.GrantID); errors.Is(err, models.ErrNotFound) {
			return inactive, nil
		} else if err != nil {
			return nil, err
		}
		exp, used, out.TokenType, out.Iat = rt.ExpiresAt, rt.UsedAt != nil, "refresh_token", rt.CreatedAt.Unix()
	default:
		return inactive, nil
	}
	g := &m.Credential
	if used || !now.Before(exp) || g.Kind != models.KindOAuthGrant || g.Status(now) != models.StatusActive || inactiveReason(m) != "" {
		return inactive, nil
	}
	if caller != nil && (g.TenantID != caller.TenantID || g.ClientID != caller.ID) {
		return inactive, nil
	}
	if g.ExpiresAt != nil && g.ExpiresAt.Before(exp) {
		exp = *g.ExpiresAt
	}
	out.Scope, out.ClientID, out.Sub, out.Exp, out.Tenant, out.GrantID = g.Scopes, g.ClientID, g.OwnerAccountID, exp.Unix(), g.TenantID, g.ID
	return out, nil
}

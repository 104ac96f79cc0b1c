package oauth

import (
	"context"
	"errors"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/token"
	"github.com/keyward/keyward/models"
)

// RevokeToken serves RFC 7009 revocation for an authenticated client.
// Revoking a refresh token or an access token revokes the whole grant, so
// every token of it dies (RFC 7009 section 2.1 allows both). Unknown,
// malformed or another client's tokens are answered like success (nil) and
// change nothing. The hint only says where to look first; keyward tokens
// name their kind, so a wrong hint changes nothing.
func (s *Service) RevokeToken(ctx context.Context, c *models.OAuthClient, tok, hint string) error {
	if tok == "" {
		return oerr(ErrCodeInvalidRequest, "token is required")
	}
	kind, err := token.Parse(tok)
	if err != nil {
		return nil
	}
	grantID := ""
	h := token.Hash(tok)
	switch kind {
	case token.KindAccessToken:
		m, err := s.Credentials.FindBySecret(ctx, h[:])
		if errors.Is(err, models.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if m.TenantID == c.TenantID && m.ClientID == c.ID && m.Kind == models.KindOAuthGrant {
			grantID = m.ID
		}
	case token.KindRefreshToken:
		rt, err := s.Store.GetRefreshToken(ctx, c.TenantID, h[:])
		if errors.Is(err, models.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		g, err := s.Credentials.Get(ctx, c.TenantID, rt.GrantID)
		if errors.Is(err, models.ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if g.ClientID == c.ID {
			grantID = g.ID
		}
	default:
		return oerr(ErrCodeUnsupportedTokenType, "only access and refresh tokens can be revoked here")
	}
	if grantID == "" {
		return nil
	}
	_, err = s.Revoker.Revoke(ctx, store.RevokeFilter{TenantID: c.TenantID, IDs: []string{grantID}, Kind: models.KindOAuthGrant},
		credentials.Revocation{Actor: "oauth_client:" + c.ID, Reason: "revoked by the app (token revocation)", Action: "oauth_grant.revoke",
			Details: map[string]any{"tokenType": kind.String(), "hint": hint}})
	return err
}

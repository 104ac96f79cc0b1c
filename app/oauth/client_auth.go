package oauth

import (
	"context"
	"crypto/subtle"
	"errors"

	"github.com/keyward/keyward/app/token"
	"github.com/keyward/keyward/models"
)

// ClientAuth is how a client identified itself on the token, revocation or
// introspection endpoint.
type ClientAuth struct {
	ClientID string
	Secret   string // empty: none presented
	Basic    bool   // sent with HTTP Basic (client_secret_basic)
}

// AuthenticateClient checks a client's credentials: confidential clients
// must present their secret (client_secret_basic or client_secret_post),
// public clients only their client_id. Every failure is invalid_client.
func (s *Service) AuthenticateClient(ctx context.Context, a ClientAuth) (*models.OAuthClient, error) {
	fail := func(description string) error {
		return &Error{Code: ErrCodeInvalidClient, Description: description, BasicAuth: a.Basic}
	}
	if a.ClientID == "" {
		return nil, fail("client authentication is required")
	}
	c, err := s.Store.ClientByID(ctx, a.ClientID)
	if errors.Is(err, models.ErrNotFound) {
		return nil, fail("unknown client or bad secret")
	} else if err != nil {
		return nil, err
	}
	switch c.Type {
	case models.OAuthConfidential:
		if a.Secret == "" {
			return nil, fail("this client must authenticate with its client secret")
		}
		if _, err := token.Parse(a.Secret); err != nil || len(c.SecretHash) == 0 {
			return nil, fail("unknown client or bad secret")
		}
		h := token.Hash(a.Secret)
		if subtle.ConstantTimeCompare(h[:], c.SecretHash) != 1 {
			return nil, fail("unknown client or bad secret")
		}
	case models.OAuthPublic:
		if a.Secret != "" {
			return nil, fail("public clients have no client secret")
		}
	default:
		return nil, fail("unknown client type")
	}
	if c.DisabledAt != nil {
		return nil, fail("this app has been disabled by the site's administrators")
	}
	t, err := s.Tenants.Get(ctx, c.TenantID)
	if err != nil {
		return nil, err
	}
	if t.State != models.TenantInstalled {
		return nil, fail("keyward is not enabled on this app's Jira site")
	}
	return c, nil
}

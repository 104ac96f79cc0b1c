package oauth

import (
	"context"
	"fmt"
	"unicode/utf8"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

const maxGrantsListed = 1000

// Grants returns the apps a user authorized in their site (grants of every
// status), newest first.
func (s *Service) Grants(ctx context.Context, u User) ([]models.Credential, error) {
	return s.Credentials.ListByOwner(ctx, u.Tenant.ID, u.AccountID, models.KindOAuthGrant, maxGrantsListed)
}

// RevokeOwnGrant revokes one of the user's grants with all its tokens.
// Another user's grant (or another site's) is models.ErrNotFound; revoking
// a revoked grant returns it unchanged.
func (s *Service) RevokeOwnGrant(ctx context.Context, u User, id, reason string) (*models.Credential, error) {
	if utf8.RuneCountInString(reason) > 500 {
		return nil, models.Invalid("reason", "at most 500 characters")
	}
	if reason == "" {
		reason = "revoked by the user"
	}
	g, err := s.Credentials.Get(ctx, u.Tenant.ID, id)
	if err != nil {
		return nil, err
	}
	if g.OwnerAccountID != u.AccountID || g.Kind != models.KindOAuthGrant {
		return nil, fmt.Errorf("grant %s: %w", id, models.ErrNotFound)
	}
	revoked, err := s.Revoker.Revoke(ctx, store.RevokeFilter{TenantID: u.Tenant.ID, IDs: []string{id}, OwnerAccountID: u.AccountID, Kind: models.KindOAuthGrant},
		credentials.Revocation{Actor: u.AccountID, Reason: reason, Action: "oauth_grant.revoke"})
	if err != nil {
		return nil, err
	}
	if len(revoked) == 1 {
		return &revoked[0], nil
	}
	return s.Credentials.Get(ctx, u.Tenant.ID, id)
}

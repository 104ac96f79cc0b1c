package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// inactiveReason is why /v1/verify refuses every token of a grant whatever
// the token (models.ReasonSiteInactive or models.ReasonOwnerInactive), or ""
// when neither applies. m comes from FindBySecret or Store.GrantState, so
// introspection and refresh decide on the same facts as the verifier.
func inactiveReason(m *store.SecretMatch) string {
	switch {
	case m.TenantState != models.TenantInstalled:
		return models.ReasonSiteInactive
	case !m.OwnerActive:
		return models.ReasonOwnerInactive
	}
	return ""
}

// inactiveDescription explains an inactiveReason to the app.
var inactiveDescription = map[string]string{
	models.ReasonSiteInactive:  "keyward is not enabled on this app's Jira site",
	models.ReasonOwnerInactive: "the user who authorized the app is not active in Jira",
}

// stillAllowed applies the client's restriction to named users or groups to
// a grant's owner again, the way the consent page did (mayAuthorize, which
// may ask Jira about groups). When the membership cannot be checked it
// fails closed with temporarily_unavailable: the caller refuses, and
// revokes nothing.
func (s *Service) stillAllowed(ctx context.Context, c *models.OAuthClient, accountID string) (bool, error) {
	if !c.Restricted() {
		return true, nil
	}
	t, err := s.Tenants.Get(ctx, c.TenantID)
	if err != nil {
		return false, fmt.Errorf("load site %s of client %s: %w", c.TenantID, c.ID, err)
	}
	ok, err := s.mayAuthorize(ctx, t, c, accountID)
	if err != nil {
		s.Log.WithError(err).WithFields(map[string]any{"tenant": c.TenantID, "client": c.ID}).Warn("oauth: could not check the app's group restriction")
		return false, oerr(ErrCodeTemporarilyUnavailable, "could not check the app's group restriction with Jira; try again later")
	}
	return ok, nil
}

// codeUserAllowed tells whether the client still admits the user who
// approved the code (the restriction may have changed since the consent).
// It runs before the exchange's transaction because a group check asks
// Jira; an unknown code or another client's is left to the exchange to
// refuse.
func (s *Service) codeUserAllowed(ctx context.Context, c *models.OAuthClient, codeHash []byte) (bool, error) {
	if !c.Restricted() {
		return true, nil
	}
	r, err := s.Store.RequestByCode(ctx, c.TenantID, codeHash)
	if errors.Is(err, models.ErrNotFound) {
		return true, nil
	} else if err != nil {
		return false, err
	}
	if r.ClientID != c.ID || r.CodeUsedAt != nil {
		return true, nil
	}
	return s.stillAllowed(ctx, c, r.DecidedBy)
}

// refreshUserExcluded returns the id of the active grant a refresh token
// belongs to when the client no longer admits the grant's owner, and ""
// otherwise (also for unknown tokens and other clients' ones, which the
// refresh refuses). It runs before the refresh's transaction because a
// group check asks Jira, and fails closed when Jira cannot answer.
func (s *Service) refreshUserExcluded(ctx context.Context, c *models.OAuthClient, hash []byte) (string, error) {
	if !c.Restricted() {
		return "", nil
	}
	rt, err := s.Store.GetRefreshToken(ctx, c.TenantID, hash)
	if errors.Is(err, models.ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	g, err := s.Credentials.Get(ctx, c.TenantID, rt.GrantID)
	if errors.Is(err, models.ErrNotFound) {
		return "", nil
	} else if err != nil {
		return "", err
	}
	if g.ClientID != c.ID || g.Kind != models.KindOAuthGrant || g.Status(s.now()) != models.StatusActive {
		return "", nil
	}
	ok, err := s.stillAllowed(ctx, c, g.OwnerAccountID)
	if err != nil || ok {
		return "", err
	}
	return g.ID, nil
}

// revokeExcludedGrants revokes, in the transaction in ctx and with one
// audit record each, the active grants of c whose owners c no longer
// admits. It decides only when the restriction is to named users alone (or
// groups cannot be asked about): whether an owner is in one of the allowed
// groups is Jira's to say, and is checked at their next refresh.
func (s *Service) revokeExcludedGrants(ctx context.Context, a Admin, c *models.OAuthClient) error {
	if !c.Restricted() || len(c.AllowedGroups) > 0 && s.Groups != nil {
		return nil
	}
	grants, err := s.Store.ActiveGrantOwners(ctx, c.TenantID, c.ID, s.now())
	if err != nil {
		return err
	}
	var ids []string
	for _, g := range grants {
		// No group check here, so mayAuthorize needs no site and asks no one.
		if ok, err := s.mayAuthorize(ctx, nil, c, g.OwnerAccountID); err != nil {
			return err
		} else if !ok {
			ids = append(ids, g.ID)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err = s.Revoker.Revoke(ctx, store.RevokeFilter{TenantID: c.TenantID, IDs: ids, ClientID: c.ID, Kind: models.KindOAuthGrant},
		credentials.Revocation{Actor: a.AccountID, Reason: reasonUserNotAllowed, Action: actionUserNotAllowed, Details: map[string]any{"client": c.ID}})
	if err != nil {
		return fmt.Errorf("revoke the grants client %s no longer admits: %w", c.ID, err)
	}
	return nil
}

// The revocation of a grant whose owner the app no longer admits.
const (
	reasonUserNotAllowed = "the app's administrators no longer allow this user"
	actionUserNotAllowed = "oauth_grant.user_not_allowed"
)

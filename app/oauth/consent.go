package oauth

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/keyward/keyward/app/token"
	"github.com/keyward/keyward/models"
)

// User is the person on the consent page, identified by Jira (a verified
// Connect context JWT or Forge Invocation Token).
type User struct {
	Tenant    *models.Tenant
	AccountID string
}

// PendingRequest is what the consent page shows.
type PendingRequest struct {
	Request *models.OAuthRequest
	Client  *models.OAuthClient
	// Allowed is false when the app is restricted to named users or groups
	// that do not include the user: they may only deny.
	Allowed bool
}

// RedirectHost is the host (or scheme, for private-use URIs) the browser
// returns to, for the consent page to show.
func (p *PendingRequest) RedirectHost() string {
	u, err := url.Parse(p.Request.RedirectURI)
	if err != nil {
		return ""
	}
	if u.Host != "" {
		return u.Host
	}
	return u.Scheme + ":"
}

// PendingRequest returns a pending authorization request of the user's
// site. Another site's request, an expired one and an unknown one are
// models.ErrNotFound; a request already decided is models.ErrConflict.
func (s *Service) PendingRequest(ctx context.Context, u User, id string) (*PendingRequest, error) {
	r, err := s.Store.GetRequest(ctx, u.Tenant.ID, id)
	if err != nil {
		return nil, err
	}
	if !s.now().Before(r.ExpiresAt) {
		return nil, fmt.Errorf("authorization request %s expired: %w", id, models.ErrNotFound)
	}
	if r.DecidedAt != nil {
		return nil, fmt.Errorf("authorization request %s was already decided: %w", id, models.ErrConflict)
	}
	c, err := s.Store.GetClient(ctx, u.Tenant.ID, r.ClientID)
	if err != nil {
		return nil, err
	}
	if c.DisabledAt != nil {
		return nil, fmt.Errorf("client %s is disabled: %w", c.ID, models.ErrNotFound)
	}
	ok, err := s.mayAuthorize(ctx, u.Tenant, c, u.AccountID)
	if err != nil {
		return nil, err
	}
	return &PendingRequest{Request: r, Client: c, Allowed: ok}, nil
}

// mayAuthorize applies the client's restriction to named users or groups.
func (s *Service) mayAuthorize(ctx context.Context, t *models.Tenant, c *models.OAuthClient, accountID string) (bool, error) {
	if !c.Restricted() || slices.Contains(c.AllowedUsers, accountID) {
		return true, nil
	}
	if len(c.AllowedGroups) == 0 || s.Groups == nil {
		return false, nil
	}
	ok, err := s.Groups.IsGroupMember(ctx, t, accountID, c.AllowedGroups)
	if err != nil {
		return false, fmt.Errorf("check group membership: %w: %w", models.ErrUnavailable, err)
	}
	return ok, nil
}

// Decide records the user's approval or denial of a pending request and
// returns where the consent page sends the browser: the app's redirect_uri
// with code and state, or with error=access_denied. Only one decision per
// request counts; approving an app the user may not authorize is
// models.ErrForbidden.
func (s *Service) Decide(ctx context.Context, u User, id string, approve bool) (string, error) {
	p, err := s.PendingRequest(ctx, u, id)
	if err != nil {
		return "", err
	}
	if approve && !p.Allowed {
		return "", fmt.Errorf("the administrators restricted %q to named users or groups: %w", p.Client.Name, models.ErrForbidden)
	}
	r := p.Request
	now := s.now()
	r.DecidedAt, r.DecidedBy, r.Approved = &now, u.AccountID, approve
	params := url.Values{"state": {r.State}, "iss": {s.cfg.Issuer}}
	action := "oauth.consent_deny"
	if approve {
		code, err := token.New(token.KindAuthCode)
		if err != nil {
			return "", err
		}
		h := token.Hash(code)
		exp := now.Add(s.cfg.CodeTTL)
		r.CodeHash, r.CodeExpiresAt = h[:], &exp
		params.Set("code", code)
		action = "oauth.consent_approve"
	} else {
		params.Set("error", ErrCodeAccessDenied)
		params.Set("error_description", "the user denied the request")
	}
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.DecideRequest(ctx, r, now); err != nil {
			return err
		}
		return s.Audit.Record(ctx, auditEvent(r.TenantID, now, u.AccountID, action, "oauth_client", r.ClientID, "", map[string]any{"request": r.ID, "scopes": r.Scopes, "client": p.Client.Name}))
	})
	if err != nil {
		return "", err
	}
	return withParams(r.RedirectURI, params), nil
}

func auditEvent(tenantID string, at time.Time, actor, action, targetType, targetID, reason string, details map[string]any) models.AuditEvent {
	d := "{}"
	if details != nil {
		if b, err := json.Marshal(details); err == nil {
			d = string(b)
		}
	}
	return models.AuditEvent{TenantID: tenantID, At: at.UTC(), Actor: actor, Action: action, TargetType: targetType, TargetID: targetID, Reason: reason, Details: d}
}

// splitScopes turns a canonical scope list into a slice (never nil).
func splitScopes(s string) []string {
	f := strings.Fields(s)
	if f == nil {
		return []string{}
	}
	return f
}

package oauth

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/scope"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/token"
	"github.com/keyward/keyward/models"
)

// Limits of client registration input.
const (
	MaxClientNameLength = 100
	MaxRedirectURIs     = 20
	MaxAllowedEntries   = 500
)

// Admin is a site administrator acting on the site's clients.
type Admin struct {
	TenantID  string
	AccountID string
}

// ClientInput registers or changes a client. On update, nil fields are left
// as they are; a client's type cannot change.
type ClientInput struct {
	Name          *string
	Owner         *string // accountId; default: the registering admin
	Type          models.OAuthClientType
	RedirectURIs  []string
	AllowedScopes []string
	AllowedUsers  []string
	AllowedGroups []string
	Disabled      *bool
}

// IssuedClient is a client with its plaintext secret, returned once
// (confidential clients only).
type IssuedClient struct {
	Client models.OAuthClient
	Secret string
}

// apply validates in and writes it onto c; creating says whether absent
// required fields are errors.
func (in *ClientInput) apply(c *models.OAuthClient, creating bool) error {
	v := &models.ValidationError{}
	if in.Name != nil || creating {
		name := ""
		if in.Name != nil {
			name = strings.TrimSpace(*in.Name)
		}
		switch {
		case name == "":
			v.Add("name", "required")
		case utf8.RuneCountInString(name) > MaxClientNameLength:
			v.Add("name", fmt.Sprintf("at most %d characters", MaxClientNameLength))
		case strings.ContainsFunc(name, models.UnsafeInName):
			v.Add("name", "must not contain control or bidirectional formatting characters")
		}
		c.Name = name
	}
	if in.Owner != nil {
		c.OwnerAccountID = strings.TrimSpace(*in.Owner)
		if len(c.OwnerAccountID) > 128 {
			v.Add("owner", "at most 128 characters")
		}
	}
	if creating {
		switch in.Type {
		case models.OAuthConfidential, models.OAuthPublic:
			c.Type = in.Type
		case "":
			c.Type = models.OAuthConfidential
		default:
			v.Add("type", `must be "confidential" or "public"`)
		}
	}
	if in.RedirectURIs != nil || creating {
		switch {
		case len(in.RedirectURIs) == 0:
			v.Add("redirectUris", "at least one redirect URI is required")
		case len(in.RedirectURIs) > MaxRedirectURIs:
			v.Add("redirectUris", fmt.Sprintf("at most %d", MaxRedirectURIs))
		}
		for i, u := range in.RedirectURIs {
			if msg := checkRedirectURI(u, c.Type); msg != "" {
				v.Add(fmt.Sprintf("redirectUris[%d]", i), msg)
			} else if slices.Index(in.RedirectURIs, u) != i {
				v.Add(fmt.Sprintf("redirectUris[%d]", i), "duplicate")
			}
		}
		c.RedirectURIs = slices.Clone(in.RedirectURIs)
	}
	if in.AllowedScopes != nil || creating {
		set, err := scope.Parse(in.AllowedScopes)
		switch {
		case err != nil:
			if pe, ok := err.(*scope.ParseError); ok {
				for _, p := range pe.Problems {
					v.Add(fmt.Sprintf("allowedScopes[%d]", p.Index), p.Message)
				}
			} else {
				v.Add("allowedScopes", err.Error())
			}
		case set == (scope.Set{}):
			v.Add("allowedScopes", `at least one scope is required (e.g. "worklogs:view", or "full")`)
		}
		c.AllowedScopes = set.String()
	}
	list := func(field string, in []string, dst *[]string) {
		if in == nil {
			if creating {
				*dst = []string{}
			}
			return
		}
		out := make([]string, 0, len(in))
		for i, s := range in {
			s = strings.TrimSpace(s)
			if s == "" || len(s) > 128 {
				v.Add(fmt.Sprintf("%s[%d]", field, i), "must be 1 to 128 characters")
				continue
			}
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
		if len(out) > MaxAllowedEntries {
			v.Add(field, fmt.Sprintf("at most %d entries", MaxAllowedEntries))
		}
		*dst = out
	}
	list("allowedUsers", in.AllowedUsers, &c.AllowedUsers)
	list("allowedGroups", in.AllowedGroups, &c.AllowedGroups)
	return v.Err()
}

// CreateClient registers a client in the admin's site. A confidential
// client's secret is in the result and nowhere else.
func (s *Service) CreateClient(ctx context.Context, a Admin, in ClientInput) (*IssuedClient, error) {
	now := s.now()
	c := &models.OAuthClient{ID: newID(), TenantID: a.TenantID, OwnerAccountID: a.AccountID, CreatedBy: a.AccountID, CreatedAt: now, UpdatedAt: now}
	if err := in.apply(c, true); err != nil {
		return nil, err
	}
	if in.Disabled != nil && *in.Disabled {
		c.DisabledAt = &now
	}
	secret := ""
	if c.Type == models.OAuthConfidential {
		var err error
		if secret, err = setSecret(c); err != nil {
			return nil, err
		}
	}
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.Store.CreateClient(ctx, c); err != nil {
			return err
		}
		return s.Audit.Record(ctx, clientAudit(c, a.AccountID, "oauth_client.create", "", now))
	})
	if err != nil {
		return nil, err
	}
	return &IssuedClient{Client: *c, Secret: secret}, nil
}

func setSecret(c *models.OAuthClient) (string, error) {
	secret, err := token.New(token.KindClientSecret)
	if err != nil {
		return "", err
	}
	h := token.Hash(secret)
	c.SecretHash, c.SecretHint = h[:], token.Hint(secret)
	return secret, nil
}

func clientAudit(c *models.OAuthClient, actor, action, reason string, now time.Time) models.AuditEvent {
	return auditEvent(c.TenantID, now, actor, action, "oauth_client", c.ID, reason, map[string]any{
		"name": c.Name, "type": c.Type, "redirectUris": c.RedirectURIs, "allowedScopes": c.AllowedScopes,
		"allowedUsers": c.AllowedUsers, "allowedGroups": c.AllowedGroups, "owner": c.OwnerAccountID, "disabled": c.DisabledAt != nil,
	})
}

// Clients lists the site's clients, newest first.
func (s *Service) Clients(ctx context.Context, a Admin) ([]models.OAuthClient, error) {
	return s.Store.ListClients(ctx, a.TenantID)
}

// Client returns one of the site's clients.
func (s *Service) Client(ctx context.Context, a Admin, id string) (*models.OAuthClient, error) {
	return s.Store.GetClient(ctx, a.TenantID, id)
}

// UpdateClient changes a client's settings. Disabling it stops new
// authorizations and token requests; existing access tokens keep working
// until revoked (use RevokeClientGrants). Restricting it to named users
// revokes, in the same transaction, the grants of everyone else; owners
// outside a group restriction lose their grant at their next refresh.
func (s *Service) UpdateClient(ctx context.Context, a Admin, id string, in ClientInput) (*models.OAuthClient, error) {
	var out models.OAuthClient
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.Store.GetClient(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if err := in.apply(c, false); err != nil {
			return err
		}
		now := s.now()
		if in.Disabled != nil {
			switch {
			case *in.Disabled && c.DisabledAt == nil:
				c.DisabledAt = &now
			case !*in.Disabled:
				c.DisabledAt = nil
			}
		}
		c.UpdatedAt = now
		if err := s.Store.UpdateClient(ctx, c); err != nil {
			return err
		}
		out = *c
		if err := s.Audit.Record(ctx, clientAudit(c, a.AccountID, "oauth_client.update", "", now)); err != nil {
			return err
		}
		if in.AllowedUsers == nil && in.AllowedGroups == nil {
			return nil
		}
		return s.revokeExcludedGrants(ctx, a, c)
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RotateSecret gives a confidential client a new secret; the old one stops
// working at once. The new secret is returned once.
func (s *Service) RotateSecret(ctx context.Context, a Admin, id string) (*IssuedClient, error) {
	var out IssuedClient
	err := s.Tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.Store.GetClient(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if c.Type != models.OAuthConfidential {
			return models.Invalid("type", "public clients have no secret")
		}
		secret, err := setSecret(c)
		if err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		if err := s.Store.UpdateClient(ctx, c); err != nil {
			return err
		}
		out = IssuedClient{Client: *c, Secret: secret}
		return s.Audit.Record(ctx, clientAudit(c, a.AccountID, "oauth_client.rotate_secret", "", c.UpdatedAt))
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeClientGrants revokes every active grant of a client (all its users'
// tokens), with one audit record per grant.
func (s *Service) RevokeClientGrants(ctx context.Context, a Admin, id, reason string) ([]models.Credential, error) {
	if _, err := s.Store.GetClient(ctx, a.TenantID, id); err != nil {
		return nil, err
	}
	return s.Revoker.Revoke(ctx, store.RevokeFilter{TenantID: a.TenantID, ClientID: id, Kind: models.KindOAuthGrant},
		credentials.Revocation{Actor: a.AccountID, Reason: reason, Action: "oauth_client.revoke_grants", Details: map[string]any{"client": id}})
}

// DeleteClient revokes every grant of a client and deletes it. The grants
// stay in the inventory as revoked credentials naming the app.
func (s *Service) DeleteClient(ctx context.Context, a Admin, id, reason string) error {
	if reason == "" {
		reason = "app deleted"
	}
	if _, err := s.RevokeClientGrants(ctx, a, id, reason); err != nil {
		return err
	}
	return s.Tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.Store.GetClient(ctx, a.TenantID, id)
		if err != nil {
			return err
		}
		if err := s.Store.DeleteClient(ctx, a.TenantID, id); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		return s.Audit.Record(ctx, clientAudit(c, a.AccountID, "oauth_client.delete", reason, c.UpdatedAt))
	})
}

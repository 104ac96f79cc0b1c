package credentials

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward/app/scope"
	"github.com/keyward/keyward/app/token"
	"github.com/keyward/keyward/models"
)

// Limits of API key input.
const (
	MaxNameLength       = 100
	DefaultLifetimeDays = 30
	MaxOverlapMinutes   = 24 * 60
	maxKeysListed       = 1000
	AccessFull          = "full"
	AccessCustom        = "custom"
)

// Owner identifies the user acting on their own keys.
type Owner struct {
	TenantID        string
	AccountID       string
	MaxLifetimeDays int // the site's upper bound of key lifetimes
}

// CreateKeyInput is what a user asks for when creating a key.
type CreateKeyInput struct {
	Name          string
	ExpiresInDays *int     // nil: DefaultLifetimeDays
	Access        string   // "full" or "custom" (default)
	Scopes        []string // custom access: at least one area scope
}

// IssuedKey is a key with its plaintext secret, returned once.
type IssuedKey struct {
	Key    models.Credential
	Secret string
}

func (in CreateKeyInput) validate(maxDays int) (name string, days int, set scope.Set, err error) {
	v := &models.ValidationError{}
	name = strings.TrimSpace(in.Name)
	switch {
	case name == "":
		v.Add("name", "required")
	case utf8.RuneCountInString(name) > MaxNameLength:
		v.Add("name", fmt.Sprintf("at most %d characters", MaxNameLength))
	case strings.ContainsFunc(name, models.UnsafeInName):
		v.Add("name", "must not contain control or bidirectional formatting characters")
	}
	days = DefaultLifetimeDays
	if days > maxDays {
		days = maxDays
	}
	if in.ExpiresInDays != nil {
		days = *in.ExpiresInDays
		if days < 1 || days > maxDays {
			v.Add("expiresInDays", fmt.Sprintf("must be from 1 to %d (this site's maximum)", maxDays))
		}
	}
	switch in.Access {
	case AccessFull:
		if len(in.Scopes) > 0 {
			v.Add("scopes", "must be empty for full access")
		}
		set = scope.Set{Full: true}
	case AccessCustom, "":
		if len(in.Scopes) == 0 {
			v.Add("scopes", `at least one scope is required for custom access (e.g. "worklogs:view"), or set access to "full"`)
			break
		}
		parsed, perr := scope.Parse(in.Scopes)
		if perr != nil {
			if pe, ok := perr.(*scope.ParseError); ok {
				for _, p := range pe.Problems {
					v.Add(fmt.Sprintf("scopes[%d]", p.Index), p.Message)
				}
			} else {
				v.Add("scopes", perr.Error())
			}
		} else if parsed.Full {
			v.Add("scopes", `use access "full" instead of the scope "full"`)
		}
		set = parsed
	default:
		v.Add("access", `must be "full" or "custom"`)
	}
	return name, days, set, v.Err()
}

// CreateKey issues a new API key for the owner. The secret is in the result
// and nowhere else: only its hash is stored.
func (s *Service) CreateKey(ctx context.Context, o Owner, in CreateKeyInput) (*IssuedKey, error) {
	name, days, set, err := in.validate(o.MaxLifetimeDays)
	if err != nil {
		return nil, err
	}
	secret, err := token.New(token.KindAPIKey)
	if err != nil {
		return nil, err
	}
	now := s.now()
	expires := now.AddDate(0, 0, days)
	c := &models.Credential{
		ID: newID(), TenantID: o.TenantID, Kind: models.KindAPIKey, OwnerAccountID: o.AccountID,
		Name: name, Hint: token.Hint(secret), Scopes: set.String(), CreatedAt: now, UpdatedAt: now, ExpiresAt: &expires,
	}
	hash := token.Hash(secret)
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.Create(ctx, c, &models.CredentialSecret{Hash: hash[:], TenantID: o.TenantID, CredentialID: c.ID, CreatedAt: now}); err != nil {
			return err
		}
		return s.audit.Record(ctx, auditEvent(c, o.AccountID, "api_key.create", "", map[string]any{"name": name, "scopes": c.Scopes, "expiresAt": expires}))
	})
	if err != nil {
		return nil, err
	}
	return &IssuedKey{Key: *c, Secret: secret}, nil
}

// ListKeys returns the owner's API keys, newest first.
func (s *Service) ListKeys(ctx context.Context, o Owner) ([]models.Credential, error) {
	return s.store.ListByOwner(ctx, o.TenantID, o.AccountID, models.KindAPIKey, maxKeysListed)
}

// GetKey returns one of the owner's API keys; another user's key is
// models.ErrNotFound, exactly like a key that does not exist.
func (s *Service) GetKey(ctx context.Context, o Owner, id string) (*models.Credential, error) {
	c, err := s.store.Get(ctx, o.TenantID, id)
	if err != nil {
		return nil, err
	}
	if c.OwnerAccountID != o.AccountID || c.Kind != models.KindAPIKey {
		return nil, fmt.Errorf("key %s: %w", id, models.ErrNotFound)
	}
	return c, nil
}

// RegenerateKey replaces the key's secret, keeping its settings. For
// overlapMinutes > 0 the previous secret keeps working that long. The
// overlap is taken in the API's unit and checked before any conversion,
// so no value can wrap into the allowed range.
func (s *Service) RegenerateKey(ctx context.Context, o Owner, id string, overlapMinutes int) (*IssuedKey, error) {
	if overlapMinutes < 0 || overlapMinutes > MaxOverlapMinutes {
		return nil, models.Invalid("overlapMinutes", fmt.Sprintf("must be from 0 to %d", MaxOverlapMinutes))
	}
	overlap := time.Duration(overlapMinutes) * time.Minute
	secret, err := token.New(token.KindAPIKey)
	if err != nil {
		return nil, err
	}
	var out models.Credential
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.ownKeyForUpdate(ctx, o, id)
		if err != nil {
			return err
		}
		now := s.now()
		if st := c.Status(now); st != models.StatusActive {
			return fmt.Errorf("key %s is %s and cannot be regenerated: %w", id, st, models.ErrConflict)
		}
		if err := s.store.ExpireSecrets(ctx, o.TenantID, c.ID, now.Add(overlap)); err != nil {
			return err
		}
		hash := token.Hash(secret)
		if err := s.store.AddSecret(ctx, &models.CredentialSecret{Hash: hash[:], TenantID: o.TenantID, CredentialID: c.ID, CreatedAt: now}); err != nil {
			return err
		}
		c.Hint, c.UpdatedAt = token.Hint(secret), now
		if err := s.store.Update(ctx, c); err != nil {
			return err
		}
		out = *c
		return s.audit.Record(ctx, auditEvent(c, o.AccountID, "api_key.regenerate", "", map[string]any{"overlapSeconds": int(overlap.Seconds())}))
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, out.ID)
	return &IssuedKey{Key: out, Secret: secret}, nil
}

// RevokeKey revokes one of the owner's keys. Revoking a revoked key changes
// nothing and returns it as it is.
func (s *Service) RevokeKey(ctx context.Context, o Owner, id, reason string) (*models.Credential, error) {
	if utf8.RuneCountInString(reason) > 500 {
		return nil, models.Invalid("reason", "at most 500 characters")
	}
	if reason == "" {
		reason = "revoked by owner"
	}
	var out models.Credential
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.ownKeyForUpdate(ctx, o, id)
		if err != nil {
			return err
		}
		out = *c
		if c.RevokedAt != nil {
			return nil
		}
		now := s.now()
		c.RevokedAt, c.RevokedBy, c.RevokeReason, c.UpdatedAt = &now, o.AccountID, reason, now
		if err := s.store.Update(ctx, c); err != nil {
			return err
		}
		out = *c
		return s.audit.Record(ctx, auditEvent(c, o.AccountID, "api_key.revoke", reason, nil))
	})
	if err != nil {
		return nil, err
	}
	s.changed(ctx, out.ID)
	return &out, nil
}

func (s *Service) ownKeyForUpdate(ctx context.Context, o Owner, id string) (*models.Credential, error) {
	c, err := s.store.GetForUpdate(ctx, o.TenantID, id)
	if err != nil {
		return nil, err
	}
	if c.OwnerAccountID != o.AccountID || c.Kind != models.KindAPIKey {
		return nil, fmt.Errorf("key %s: %w", id, models.ErrNotFound)
	}
	return c, nil
}

func auditEvent(c *models.Credential, actor, action, reason string, details map[string]any) models.AuditEvent {
	d := "{}"
	if details != nil {
		if b, err := json.Marshal(details); err == nil {
			d = string(b)
		}
	}
	return models.AuditEvent{TenantID: c.TenantID, At: c.UpdatedAt, Actor: actor, Action: action, TargetType: string(c.Kind), TargetID: c.ID, Reason: reason, Details: d}
}

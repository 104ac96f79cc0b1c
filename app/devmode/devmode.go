// Package devmode creates the local dev site that KEYWARD_DEV=1 serves (a
// Connect-style tenant with no Jira behind it) and signs Connect context
// tokens for its dev admin and dev user, so the pages and the API run
// through the same verification code as in production.
package devmode

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/models"
)

// The dev site and its two accounts.
const (
	ClientKey        = "keyward-dev-site"
	AdminAccountID   = "dev-admin"
	AdminDisplayName = "Dana Admin"
	UserAccountID    = "dev-user"
	UserDisplayName  = "Uma User"
	TokenTTL         = 15 * time.Minute
)

// Tenants is the tenant service as dev mode uses it.
type Tenants interface {
	SharedSecret(ctx context.Context, clientKey string) (*models.Tenant, []byte, error)
	ConnectInstalled(ctx context.Context, p tenants.InstallPayload) (*models.Tenant, error)
}

// Users records the dev accounts.
type Users interface {
	UpsertUsers(ctx context.Context, users []models.User) error
}

// Site is the local dev site, able to sign tokens for its accounts.
type Site struct {
	TenantID string
	secret   []byte
	now      func() time.Time
}

// Ensure returns the dev site, creating it (installed, with a fresh random
// shared secret, sealed like any other) when it is missing or not
// installed, and marks its two accounts in the users table. It is
// idempotent: an installed dev site keeps its secret.
func Ensure(ctx context.Context, t Tenants, u Users, baseURL string) (*Site, error) {
	tn, secret, err := t.SharedSecret(ctx, ClientKey)
	switch {
	case err == nil && tn.State == models.TenantInstalled && (tn.BaseURL != baseURL || !tn.IsDev()):
		// Same site on another port (or made by an older version): keep
		// its secret, move its URL.
		tn, err = t.ConnectInstalled(ctx, devInstall(string(secret), baseURL))
		if err != nil {
			return nil, fmt.Errorf("update dev site: %w", err)
		}
	case err == nil && tn.State == models.TenantInstalled:
	case err == nil, errors.Is(err, models.ErrNotFound):
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, fmt.Errorf("dev site secret: %w", err)
		}
		s := base64.RawURLEncoding.EncodeToString(b[:])
		tn, err = t.ConnectInstalled(ctx, devInstall(s, baseURL))
		if err != nil {
			return nil, fmt.Errorf("create dev site: %w", err)
		}
		secret = []byte(s)
	default:
		return nil, fmt.Errorf("dev site: %w", err)
	}
	now := time.Now().UTC()
	err = u.UpsertUsers(ctx, []models.User{
		{TenantID: tn.ID, AccountID: AdminAccountID, DisplayName: AdminDisplayName, AccountType: "atlassian", Active: true, UpdatedAt: now},
		{TenantID: tn.ID, AccountID: UserAccountID, DisplayName: UserDisplayName, AccountType: "atlassian", Active: true, UpdatedAt: now},
	})
	if err != nil {
		return nil, fmt.Errorf("dev site accounts: %w", err)
	}
	return &Site{TenantID: tn.ID, secret: secret, now: time.Now}, nil
}

func devInstall(secret, baseURL string) tenants.InstallPayload {
	return tenants.InstallPayload{
		ClientKey: ClientKey, SharedSecret: secret, BaseURL: baseURL, DisplayURL: baseURL,
		ProductType: models.ProductTypeDev, Description: "keyward local dev site", EventType: "installed",
	}
}

// Token signs a Connect context token (HS256 with the dev site's shared
// secret, iss the clientKey, sub the account, qsh "context-qsh") for the
// dev admin (as "admin") or the dev user (as "user").
func (s *Site) Token(as string) (string, time.Time, error) {
	var account string
	switch as {
	case "admin":
		account = AdminAccountID
	case "user":
		account = UserAccountID
	default:
		return "", time.Time{}, models.Invalid("as", "must be admin or user")
	}
	return s.sign(account)
}

func (s *Site) sign(account string) (string, time.Time, error) {
	now := s.now()
	exp := now.Add(TokenTTL)
	header, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	claims, err := json.Marshal(map[string]any{
		"iss": ClientKey, "sub": account, "iat": now.Unix(), "exp": exp.Unix(), "qsh": auth.ContextQSH,
		"context": map[string]any{"user": map[string]string{"accountId": account}},
	})
	if err != nil {
		return "", time.Time{}, err
	}
	input := base64.RawURLEncoding.EncodeToString(header) + "." + base64.RawURLEncoding.EncodeToString(claims)
	mac := hmac.New(sha256.New, s.secret)
	mac.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil)), exp.UTC().Truncate(time.Second), nil
}

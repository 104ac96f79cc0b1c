package tenants

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/keyward/keyward/models"
)

// PermissionChecker asks Jira about a user's global permissions.
type PermissionChecker interface {
	HasGlobalPermission(ctx context.Context, t *models.Tenant, accountID, permission string) (bool, error)
}

// AdminChecker answers whether a user administers a site: checked on the
// server against Jira (never trusted from the page) and cached briefly.
type AdminChecker struct {
	jira PermissionChecker
	ttl  time.Duration
	now  func() time.Time

	mu    sync.Mutex
	cache map[string]adminAnswer
	// devAdmins are accountIds treated as admins of the dev site (dev mode only).
	devTenant string
	devAdmins []string
}

type adminAnswer struct {
	admin bool
	at    time.Time
}

// NewAdminChecker caches answers for ttl.
func NewAdminChecker(jira PermissionChecker, ttl time.Duration) *AdminChecker {
	return &AdminChecker{jira: jira, ttl: ttl, now: time.Now, cache: map[string]adminAnswer{}}
}

// SetDevAdmins makes accountIds admins of the dev tenant without asking
// Jira (the dev site has no Jira behind it). Only dev mode calls this.
func (a *AdminChecker) SetDevAdmins(tenantID string, accountIDs ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.devTenant, a.devAdmins = tenantID, accountIDs
}

// IsSiteAdmin reports whether accountID has Jira's ADMINISTER global
// permission in the tenant's site.
func (a *AdminChecker) IsSiteAdmin(ctx context.Context, t *models.Tenant, accountID string) (bool, error) {
	if accountID == "" {
		return false, nil
	}
	key := t.ID + "\x00" + accountID
	a.mu.Lock()
	if a.devTenant != "" && t.ID == a.devTenant {
		ok := slices.Contains(a.devAdmins, accountID)
		a.mu.Unlock()
		return ok, nil
	}
	if ans, ok := a.cache[key]; ok && a.now().Sub(ans.at) < a.ttl {
		a.mu.Unlock()
		return ans.admin, nil
	}
	a.mu.Unlock()
	admin, err := a.jira.HasGlobalPermission(ctx, t, accountID, "ADMINISTER")
	if err != nil {
		return false, fmt.Errorf("check site admin: %w: %w", models.ErrUnavailable, err)
	}
	a.mu.Lock()
	if len(a.cache) > 100_000 {
		a.cache = map[string]adminAnswer{}
	}
	a.cache[key] = adminAnswer{admin: admin, at: a.now()}
	a.mu.Unlock()
	return admin, nil
}

// ConnectSecret opens the shared secret of a Connect tenant for outgoing
// calls.
func (s *Service) ConnectSecret(_ context.Context, t *models.Tenant) ([]byte, error) {
	if len(t.SharedSecretEnc) == 0 {
		return nil, fmt.Errorf("tenant %s has no shared secret: %w", t.ID, models.ErrUnavailable)
	}
	return s.seal.Open(t.SharedSecretEnc, secretContext(t.ID, "shared_secret"))
}

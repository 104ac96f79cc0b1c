package tenants

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/keyward/keyward/models"
)

// ForgeInvocation is what a verified Forge Invocation Token and its headers
// say about the calling installation.
type ForgeInvocation struct {
	InstallationID string
	APIBaseURL     string
	CloudID        string
	SiteURL        string
	SystemToken    string // x-forge-oauth-system; may be empty
}

// ForgeTenant returns the tenant of a verified Forge invocation, creating it
// on first contact, and keeps its apiBaseUrl, cloudId and newest system
// token current (written only when something changed).
//
// Most invocations change nothing and are answered from a plain read. A
// change is applied in a transaction that re-reads the tenant with its row
// locked, so it is made on top of a parallel re-install or lifecycle
// callback instead of writing their columns back as they were before.
func (s *Service) ForgeTenant(ctx context.Context, inv ForgeInvocation) (*models.Tenant, error) {
	if inv.InstallationID == "" {
		return nil, models.Invalid("app.installationId", "required")
	}
	t, err := s.store.ByForgeInstallation(ctx, inv.InstallationID)
	switch {
	case err == nil:
		probe := *t
		changed, err := s.applyInvocation(&probe, inv, s.now())
		if err != nil {
			return nil, err
		}
		if !changed {
			return t, nil
		}
	case !isNotFound(err):
		return nil, err
	}
	for range maxConflictRetries {
		// A parallel first contact may win the insert; apply ours on top.
		if t, err = s.forgeTenantLocked(ctx, inv); !errors.Is(err, models.ErrConflict) {
			return t, err
		}
	}
	return nil, err
}

func (s *Service) forgeTenantLocked(ctx context.Context, inv ForgeInvocation) (*models.Tenant, error) {
	var out *models.Tenant
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		now := s.now()
		t, err := s.store.ByForgeInstallationForUpdate(ctx, inv.InstallationID)
		created := false
		switch {
		case isNotFound(err):
			t = &models.Tenant{ID: newID(), ForgeInstallationID: inv.InstallationID, State: models.TenantInstalled, CreatedAt: now, InstalledAt: &now}
			created = true
		case err != nil:
			return err
		}
		changed, err := s.applyInvocation(t, inv, now)
		if err != nil {
			return err
		}
		out = t
		if !changed && !created {
			return nil
		}
		t.UpdatedAt = now
		if created {
			if err := s.store.Create(ctx, t); err != nil {
				return err
			}
			return s.audit.Record(ctx, models.AuditEvent{TenantID: t.ID, At: now, Actor: "system", Action: "tenant.installed", TargetType: "tenant", TargetID: t.ID, Details: `{"via":"forge"}`})
		}
		// A Connect-on-Forge site may sit in the secret cache.
		s.forgetAfterCommit(ctx, t.ClientKey)
		return s.store.Save(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// applyInvocation brings t up to date with inv and reports whether anything
// changed. A new system token is sealed only when it differs.
func (s *Service) applyInvocation(t *models.Tenant, inv ForgeInvocation, now time.Time) (bool, error) {
	changed := false
	if inv.APIBaseURL != "" && t.APIBaseURL != inv.APIBaseURL {
		t.APIBaseURL, changed = inv.APIBaseURL, true
	}
	cloudID := inv.CloudID
	if cloudID == "" {
		cloudID = cloudIDFromAPIBase(inv.APIBaseURL)
	}
	if cloudID != "" && t.CloudID != cloudID {
		t.CloudID, changed = cloudID, true
	}
	if inv.SiteURL != "" && t.BaseURL == "" {
		t.BaseURL, changed = strings.TrimRight(inv.SiteURL, "/"), true
	}
	if t.State != models.TenantInstalled && !t.IsConnect() {
		// Forge has no uninstall event; a valid invocation proves the
		// installation is live.
		t.State, changed = models.TenantInstalled, true
	}
	if inv.SystemToken != "" {
		current, _ := s.ForgeSystemToken(t)
		if current != inv.SystemToken {
			sealed, err := s.seal.Seal([]byte(inv.SystemToken), secretContext(t.ID, "forge_system_token"))
			if err != nil {
				return false, err
			}
			t.ForgeSystemTokenEnc, t.ForgeSystemTokenAt, changed = sealed, &now, true
		}
	}
	return changed, nil
}

// cloudIDFromAPIBase reads <cloudId> from https://api.atlassian.com/ex/jira/<cloudId>.
func cloudIDFromAPIBase(apiBase string) string {
	const marker = "/ex/jira/"
	i := strings.Index(apiBase, marker)
	if i < 0 {
		return ""
	}
	rest := apiBase[i+len(marker):]
	if j := strings.IndexByte(rest, '/'); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

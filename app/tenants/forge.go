package tenants

import (
	"context"
	"errors"
	"strings"

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
func (s *Service) ForgeTenant(ctx context.Context, inv ForgeInvocation) (*models.Tenant, error) {
	if inv.InstallationID == "" {
		return nil, models.Invalid("app.installationId", "required")
	}
	var out *models.Tenant
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		now := s.now()
		t, err := s.store.ByForgeInstallation(ctx, inv.InstallationID)
		created := false
		switch {
		case isNotFound(err):
			t = &models.Tenant{ID: newID(), ForgeInstallationID: inv.InstallationID, State: models.TenantInstalled, CreatedAt: now, InstalledAt: &now}
			created = true
		case err != nil:
			return err
		}
		changed := created
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
					return err
				}
				t.ForgeSystemTokenEnc, t.ForgeSystemTokenAt, changed = sealed, &now, true
			}
		}
		out = t
		if !changed {
			return nil
		}
		t.UpdatedAt = now
		if created {
			if err := s.store.Create(ctx, t); err != nil {
				return err
			}
			return s.audit.Record(ctx, models.AuditEvent{TenantID: t.ID, At: now, Actor: "system", Action: "tenant.installed", TargetType: "tenant", TargetID: t.ID, Details: `{"via":"forge"}`})
		}
		return s.store.Save(ctx, t)
	})
	if errors.Is(err, models.ErrConflict) {
		return s.ForgeTenant(ctx, inv)
	}
	return out, err
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

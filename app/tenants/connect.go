package tenants

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/keyward/keyward/models"
)

// InstallPayload is the body of the Connect installed and uninstalled
// lifecycle callbacks (unknown fields ignored).
type InstallPayload struct {
	Key            string `json:"key"`
	ClientKey      string `json:"clientKey"`
	SharedSecret   string `json:"sharedSecret"`
	BaseURL        string `json:"baseUrl"`
	DisplayURL     string `json:"displayUrl"`
	ProductType    string `json:"productType"`
	Description    string `json:"description"`
	EventType      string `json:"eventType"`
	InstallationID string `json:"installationId"`
}

// Validate checks the fields the installed callback needs.
func (p *InstallPayload) Validate(needSecret bool) error {
	v := &models.ValidationError{}
	if strings.TrimSpace(p.ClientKey) == "" || len(p.ClientKey) > 255 {
		v.Add("clientKey", "required, at most 255 characters")
	}
	if needSecret && (len(p.SharedSecret) < 16 || len(p.SharedSecret) > 1024) {
		v.Add("sharedSecret", "required, 16 to 1024 characters")
	}
	if needSecret {
		if u, err := url.Parse(p.BaseURL); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
			v.Add("baseUrl", "must be an absolute URL")
		}
	}
	return v.Err()
}

// ConnectInstalled records a verified signed install: creates the tenant or,
// for a re-install, replaces its shared secret and site fields. The caller
// must have verified the install token against payload.ClientKey.
//
// The tenant's row stays locked from read to write, so a parallel lifecycle
// callback or Forge invocation neither loses this install's new secret nor
// has its own change overwritten.
func (s *Service) ConnectInstalled(ctx context.Context, p InstallPayload) (*models.Tenant, error) {
	if err := p.Validate(true); err != nil {
		return nil, err
	}
	var err error
	for range maxConflictRetries {
		var t *models.Tenant
		// A parallel install of the same site may win the insert; apply
		// ours on top of it.
		if t, err = s.connectInstalled(ctx, p); !errors.Is(err, models.ErrConflict) {
			return t, err
		}
	}
	return nil, err
}

func (s *Service) connectInstalled(ctx context.Context, p InstallPayload) (*models.Tenant, error) {
	var out *models.Tenant
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		now := s.now()
		t, err := s.store.ByClientKeyForUpdate(ctx, p.ClientKey)
		created := false
		switch {
		case isNotFound(err):
			t = &models.Tenant{ID: newID(), ClientKey: p.ClientKey, CreatedAt: now}
			created = true
		case err != nil:
			return err
		}
		sealed, err := s.seal.Seal([]byte(p.SharedSecret), secretContext(t.ID, "shared_secret"))
		if err != nil {
			return err
		}
		t.SharedSecretEnc = sealed
		t.BaseURL = strings.TrimRight(p.BaseURL, "/")
		t.DisplayURL = strings.TrimRight(p.DisplayURL, "/")
		if t.DisplayURL == "" {
			t.DisplayURL = t.BaseURL
		}
		t.ProductType = p.ProductType
		if p.InstallationID != "" && t.ForgeInstallationID == "" {
			if other, err := s.store.ByForgeInstallation(ctx, p.InstallationID); isNotFound(err) {
				t.ForgeInstallationID = p.InstallationID
			} else if err == nil && other.ID != t.ID {
				s.log.WithField("tenant", t.ID).Warn("installationId already belongs to another tenant; not linking")
			}
		}
		t.State = models.TenantInstalled
		t.InstalledAt = &now
		t.UninstalledAt = nil
		t.UpdatedAt = now
		if created {
			err = s.store.Create(ctx, t)
		} else {
			err = s.store.Save(ctx, t)
		}
		if err != nil {
			return err
		}
		s.forgetAfterCommit(ctx, p.ClientKey)
		out = t
		return s.audit.Record(ctx, models.AuditEvent{TenantID: t.ID, At: now, Actor: "system", Action: "tenant.installed", TargetType: "tenant", TargetID: t.ID, Details: fmt.Sprintf(`{"via":"connect","reinstall":%t}`, !created)})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ConnectUninstalled marks the site uninstalled. Unknown or already
// uninstalled sites are left as they are.
func (s *Service) ConnectUninstalled(ctx context.Context, clientKey string) error {
	return s.transition(ctx, clientKey, "tenant.uninstalled", func(t *models.Tenant) bool {
		if t.State == models.TenantUninstalled {
			return false
		}
		now := s.now()
		t.State = models.TenantUninstalled
		t.UninstalledAt = &now
		return true
	})
}

// ConnectEnabled moves a disabled site back to installed. It never revives
// an uninstalled site: only a signed install does.
func (s *Service) ConnectEnabled(ctx context.Context, clientKey string) error {
	return s.transition(ctx, clientKey, "tenant.enabled", func(t *models.Tenant) bool {
		if t.State != models.TenantDisabled {
			return false
		}
		t.State = models.TenantInstalled
		return true
	})
}

// ConnectDisabled disables an installed site; a late disabled after an
// uninstall changes nothing.
func (s *Service) ConnectDisabled(ctx context.Context, clientKey string) error {
	return s.transition(ctx, clientKey, "tenant.disabled", func(t *models.Tenant) bool {
		if t.State != models.TenantInstalled {
			return false
		}
		t.State = models.TenantDisabled
		return true
	})
}

// IsGone reports whether a clientKey is unknown or uninstalled: lifecycle
// callbacks for such sites are answered without effect.
func (s *Service) IsGone(ctx context.Context, clientKey string) bool {
	t, err := s.store.ByClientKey(ctx, clientKey)
	return isNotFound(err) || (err == nil && t.State == models.TenantUninstalled)
}

// transition applies one enabled/disabled/uninstalled callback. The row is
// locked from read to write: callbacks of one site that arrive in parallel
// apply one after the other, each to the state the previous one left, so
// their outcome is the same as in any sequential order.
func (s *Service) transition(ctx context.Context, clientKey, action string, apply func(*models.Tenant) bool) error {
	return s.tx.InTx(ctx, func(ctx context.Context) error {
		// Also when nothing changes here: another replica may have changed
		// the site, and this replica should not serve its cached state.
		s.forgetAfterCommit(ctx, clientKey)
		t, err := s.store.ByClientKeyForUpdate(ctx, clientKey)
		if isNotFound(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if !apply(t) {
			return nil
		}
		t.UpdatedAt = s.now()
		if err := s.store.Save(ctx, t); err != nil {
			return err
		}
		return s.audit.Record(ctx, models.AuditEvent{TenantID: t.ID, At: t.UpdatedAt, Actor: "system", Action: action, TargetType: "tenant", TargetID: t.ID, Details: `{"via":"connect"}`})
	})
}

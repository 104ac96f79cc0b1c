package models

import "time"

// TenantState is the lifecycle state of an installation.
type TenantState string

// Tenant states.
const (
	TenantInstalled   TenantState = "installed"
	TenantDisabled    TenantState = "disabled"
	TenantUninstalled TenantState = "uninstalled"
)

// Tenant is one Jira site that installed keyward, through Connect (known by
// clientKey) and/or Forge (known by installationId). Secret fields hold
// ciphertext only; the store never sees plaintext.
type Tenant struct {
	ID                  string
	ClientKey           string // Connect clientKey; empty for Forge-only sites
	ForgeInstallationID string // Forge app.installationId; empty for Connect-only sites
	BaseURL             string // the site URL, e.g. https://acme.atlassian.net
	DisplayURL          string
	APIBaseURL          string // Forge app.apiBaseUrl for product calls
	CloudID             string
	ProductType         string
	State               TenantState
	SharedSecretEnc     []byte // AES-GCM sealed Connect shared secret
	ForgeSystemTokenEnc []byte // AES-GCM sealed x-forge-oauth-system token
	ForgeSystemTokenAt  *time.Time
	MaxKeyLifetimeDays  int
	CreatedAt           time.Time
	UpdatedAt           time.Time
	InstalledAt         *time.Time
	UninstalledAt       *time.Time
}

// ProductTypeDev marks the local dev site of dev mode: it has no Jira
// behind it, so jobs that call Jira skip it.
const ProductTypeDev = "keyward-dev"

// IsDev reports whether the tenant is the local dev site.
func (t *Tenant) IsDev() bool { return t.ProductType == ProductTypeDev }

// IsConnect reports whether the site installed through the Connect lifecycle.
func (t *Tenant) IsConnect() bool { return t.ClientKey != "" }

// IsForge reports whether the site is known through a Forge installation.
func (t *Tenant) IsForge() bool { return t.ForgeInstallationID != "" }

// Package offboard owns what happens when a person leaves a Jira site:
// user events from Jira are stored durably and processed by workers that
// revoke the person's credentials; a reconciliation against Jira's user API
// catches deactivations that fire no event; personal data reporting erases
// what keyward holds about closed accounts; every run leaves a report.
package offboard

import (
	"context"
	"net/http"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/jira"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// EventStore is the inbox of user events.
type EventStore interface {
	Insert(ctx context.Context, e *models.WebhookEvent) (duplicate bool, err error)
	Claim(ctx context.Context, worker string, now time.Time, lease time.Duration, limit int) ([]models.WebhookEvent, error)
	Finish(ctx context.Context, tenantID string, id int64, outcome string, at time.Time) error
	Retry(ctx context.Context, tenantID string, id int64, next time.Time, reason string) error
	Defer(ctx context.Context, tenantID string, id int64, next time.Time, note string) error
	Park(ctx context.Context, tenantID string, id int64, reason string) error
	Get(ctx context.Context, tenantID string, id int64) (*models.WebhookEvent, error)
	List(ctx context.Context, tenantID string, status models.WebhookEventStatus, before int64, limit int) ([]models.WebhookEvent, error)
	Requeue(ctx context.Context, tenantID string, id int64, now time.Time) error
	CountByStatus(ctx context.Context, tenantID string) (map[models.WebhookEventStatus]int, error)
}

// UserStore keeps what keyward knows about Jira accounts.
type UserStore interface {
	Get(ctx context.Context, tenantID, accountID string) (*models.User, error)
	ApplyEvent(ctx context.Context, tenantID, accountID string, st store.UserState) (bool, error)
	ApplyChecks(ctx context.Context, tenantID string, checks []store.UserCheck, at time.Time) (changed, superseded []string, err error)
	InactiveSince(ctx context.Context, tenantID string, accountIDs []string) (map[string]time.Time, error)
	ActiveOwnersPage(ctx context.Context, tenantID string, now time.Time, after string, limit int) ([]string, error)
	EnsureAccounts(ctx context.Context, tenantID string, ids []string) (int64, error)
	RefreshStats(ctx context.Context) error
	EnsureOwners(ctx context.Context, tenantID string) error
	ForReporting(ctx context.Context, tenantID, after string, limit int) ([]store.ReportableAccount, error)
	ErasePersonalData(ctx context.Context, tenantID, accountID string, at time.Time) error
}

// SettingsStore keeps each site's offboarding rules.
type SettingsStore interface {
	Get(ctx context.Context, tenantID string) (*models.OffboardingSettings, error)
	Save(ctx context.Context, s *models.OffboardingSettings) error
	SetPDRSchedule(ctx context.Context, tenantID string, next time.Time, cycleSeconds int) error
}

// ReportStore keeps reports and answers the credential queries they need.
type ReportStore interface {
	Create(ctx context.Context, r *models.Report) error
	Finish(ctx context.Context, r *models.Report) error
	AddItems(ctx context.Context, items []models.ReportItem) error
	SetDelivery(ctx context.Context, tenantID string, id int64, at *time.Time, errMsg string) error
	Get(ctx context.Context, tenantID string, id int64) (*models.Report, error)
	List(ctx context.Context, tenantID, kind string, before int64, limit int) ([]models.Report, error)
	Since(ctx context.Context, tenantID, kind string, t time.Time) ([]models.Report, error)
	Items(ctx context.Context, tenantID string, reportID, after int64, limit int) ([]models.ReportItem, error)
	ExpiredCredentials(ctx context.Context, tenantID string, now time.Time, limit int) ([]models.Credential, int, error)
	StaleCredentials(ctx context.Context, tenantID string, now, before time.Time, limit int) ([]models.Credential, int, error)
}

// Revoker revokes credentials with an audit record each.
type Revoker interface {
	RevokeOwner(ctx context.Context, tenantID, accountID string, r credentials.Revocation) ([]models.Credential, error)
	Revoke(ctx context.Context, f store.RevokeFilter, r credentials.Revocation) ([]models.Credential, error)
}

// Jira is the part of Jira's API offboarding calls.
type Jira interface {
	BulkUsers(ctx context.Context, t *models.Tenant, ids []string) (map[string]jira.User, error)
	CanBrowseUsers(ctx context.Context, t *models.Tenant) (bool, error)
	ReportAccounts(ctx context.Context, t *models.Tenant, forgeBase string, accounts []jira.ReportedAccount) (*jira.ReportResult, error)
}

// Tenants lists the sites.
type Tenants interface {
	Get(ctx context.Context, id string) (*models.Tenant, error)
	ListInstalled(ctx context.Context) ([]models.Tenant, error)
}

// Auditor records admin and system actions in the transaction in ctx.
type Auditor interface {
	Record(ctx context.Context, e models.AuditEvent) error
}

// TxRunner runs a function in one database transaction.
type TxRunner interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Sealer encrypts the report webhook secret at rest.
type Sealer interface {
	Seal(plaintext []byte, context string) ([]byte, error)
	Open(sealed []byte, context string) ([]byte, error)
}

// Deps are the collaborators of the service.
type Deps struct {
	Events   EventStore
	Users    UserStore
	Settings SettingsStore
	Reports  ReportStore
	Revoker  Revoker
	Jira     Jira
	Tenants  Tenants
	Audit    Auditor
	Tx       TxRunner
	Sealer   Sealer
	Log      *logrus.Entry
}

// Options tune the service; zero values take the defaults.
type Options struct {
	MaxAttempts          int           // attempts before an event is parked (8)
	RetryBase            time.Duration // first retry delay, doubled each attempt (2s)
	Lease                time.Duration // how long a claim lasts (2m)
	Poll                 time.Duration // how often idle workers look for due events (250ms)
	ClaimBatch           int           // events claimed at once (16)
	ReconcileConcurrency int           // concurrent user/bulk calls per site (8)
	ForgeAPIBase         string        // https://api.atlassian.com
	HTTPClient           *http.Client  // report deliveries (default: public addresses only, no redirects)
	// AllowPrivateWebhooks lets site admins deliver reports to private or
	// loopback addresses (KEYWARD_ALLOW_PRIVATE_WEBHOOKS, for deployments
	// whose SIEM lives on an internal network).
	AllowPrivateWebhooks bool
	ReportItemCap        int // stale/expired credentials listed per report (1000)
}

func (o *Options) defaults() {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&o.MaxAttempts, 8)
	def(&o.ClaimBatch, 16)
	def(&o.ReconcileConcurrency, 8)
	def(&o.ReportItemCap, 1000)
	defDur(&o.RetryBase, 2*time.Second)
	defDur(&o.Lease, 2*time.Minute)
	defDur(&o.Poll, 250*time.Millisecond)
	if o.ForgeAPIBase == "" {
		o.ForgeAPIBase = "https://api.atlassian.com"
	}
	if o.HTTPClient == nil {
		o.HTTPClient = newEgressClient(10*time.Second, o.AllowPrivateWebhooks)
	}
}

// Service applies the offboarding rules.
type Service struct {
	Deps
	opts Options
	now  func() time.Time
	wake chan struct{}
	// processed is called after each event a worker handles (tests count
	// effects with it).
	processed func(ev *models.WebhookEvent, outcome string, err error)
}

// New builds the service.
func New(d Deps, o Options) *Service {
	o.defaults()
	return &Service{Deps: d, opts: o, now: func() time.Time { return time.Now().UTC() }, wake: make(chan struct{}, 1)}
}

// SetClock replaces the clock (tests).
func (s *Service) SetClock(now func() time.Time) { s.now = now }

// OnProcessed registers a function called after every processed event.
func (s *Service) OnProcessed(fn func(ev *models.WebhookEvent, outcome string, err error)) {
	s.processed = fn
}

// Revocation reasons of offboarding.
const (
	ReasonDeleted     = "owner_deleted"
	ReasonDeactivated = "owner_deactivated"
	ReasonReconciled  = "reconciled_inactive"
	ReasonClosed      = "owner_closed"
	ReasonStale       = "stale"
	ActionOffboard    = "owner.offboard"
)

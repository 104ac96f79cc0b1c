package models

import "time"

// WebhookEventStatus is where a stored user event is in its processing.
type WebhookEventStatus string

// Webhook event statuses.
const (
	EventPending WebhookEventStatus = "pending" // waiting for a worker (or for its next attempt)
	EventDone    WebhookEventStatus = "done"    // processed
	EventParked  WebhookEventStatus = "parked"  // failed too often; an admin may retry it
)

// User event types, normalised from Connect webhooks and Forge events.
const (
	UserCreated = "user_created"
	UserUpdated = "user_updated"
	UserDeleted = "user_deleted"
)

// WebhookEvent is one user event from Jira, stored before it is
// acknowledged and processed by a worker. Only the fields the rules need
// are kept, never the raw body.
type WebhookEvent struct {
	ID            int64
	TenantID      string
	DedupeKey     string // X-Atlassian-Webhook-Identifier, the Forge event id, or a body hash
	Source        string // "connect" or "forge"
	EventType     string // UserCreated, UserUpdated or UserDeleted
	AccountID     string
	Active        *bool // nil: the event did not say
	DisplayName   string
	AccountType   string
	Email         string
	EventAt       time.Time // the event's own timestamp, or when it was received
	ReceivedAt    time.Time
	Status        WebhookEventStatus
	Attempts      int
	NextAttemptAt time.Time
	ClaimedUntil  *time.Time // a worker's lease; expired leases are claimed again
	ClaimedBy     string
	LastError     string
	Outcome       string // what processing did, e.g. "revoked 3"
	ProcessedAt   *time.Time
}

// OffboardingSettings are one site's offboarding rules.
type OffboardingSettings struct {
	TenantID               string
	AutoRevoke             bool
	GraceSeconds           int
	ExemptAccountIDs       []string
	StaleAfterDays         int // 0: no stale detection
	RevokeStale            bool
	ReportWebhookURL       string
	ReportWebhookSecretEnc []byte // sealed HMAC secret
	PDRNextAt              *time.Time
	PDRCycleSeconds        int
	UpdatedAt              time.Time
	UpdatedBy              string
}

// IsExempt reports whether auto-revoke leaves an account alone.
func (s *OffboardingSettings) IsExempt(accountID string) bool {
	for _, id := range s.ExemptAccountIDs {
		if id == accountID {
			return true
		}
	}
	return false
}

// JobRunStatus is the outcome of a job run.
type JobRunStatus string

// Job run statuses.
const (
	RunRunning   JobRunStatus = "running"
	RunSucceeded JobRunStatus = "succeeded"
	RunPartial   JobRunStatus = "partial" // finished, some sites failed
	RunFailed    JobRunStatus = "failed"
	RunCanceled  JobRunStatus = "canceled"  // stopped by shutdown
	RunAbandoned JobRunStatus = "abandoned" // its process died
)

// JobRun is one execution of a named job.
type JobRun struct {
	ID          int64
	Job         string
	TenantID    string // empty: every site
	TriggeredBy string // "schedule", "admin:<accountId>" or "cli"
	ScheduledAt *time.Time
	Status      JobRunStatus
	Replica     string
	StartedAt   time.Time
	FinishedAt  *time.Time
	HeartbeatAt time.Time
	Progress    string // JSON object
	Counts      string // JSON object
	Error       string
}

// Report kinds.
const (
	ReportReconcile = "reconcile"
	ReportWeekly    = "weekly"
)

// Report is one site's result of a reconciliation run, or a weekly
// summary.
type Report struct {
	ID            int64
	TenantID      string
	Kind          string
	RunID         *int64
	Status        string // "ok" or "error"
	StartedAt     time.Time
	FinishedAt    time.Time
	DurationMS    int64
	OwnersChecked int
	Revoked       int
	Stale         int
	Expired       int
	Errors        int
	Error         string
	Summary       string // JSON object
	DeliveredAt   *time.Time
	DeliveryError string
}

// Report item kinds.
const (
	ItemRevoked  = "revoked"
	ItemStale    = "stale"
	ItemExpired  = "expired"
	ItemExempt   = "exempt"   // inactive owner left alone by the exempt list
	ItemInactive = "inactive" // inactive owner not revoked because auto-revoke is off
	ItemError    = "error"
)

// ReportItem is one line of a report.
type ReportItem struct {
	ID             int64
	ReportID       int64
	TenantID       string
	Kind           string
	CredentialID   string
	OwnerAccountID string
	Reason         string
	Detail         string
	At             *time.Time
}

// JobInfo describes a scheduled job for admins.
type JobInfo struct {
	Name          string
	Description   string
	Schedule      string // "" when it only runs when started by hand
	Global        bool   // maintains the whole deployment: not started for one site
	NextRun       *time.Time
	LastScheduled *JobRun // the newest scheduled run over every site
	LastRuns      []JobRun
}

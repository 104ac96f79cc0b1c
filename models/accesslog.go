package models

import "time"

// Decision is the outcome of a verification.
type Decision string

// Verification decisions.
const (
	DecisionAllow Decision = "allow"
	DecisionDeny  Decision = "deny"
)

// Reason codes for refused verifications.
const (
	ReasonMalformed     = "malformed"
	ReasonUnknown       = "unknown"
	ReasonExpired       = "expired"
	ReasonRevoked       = "revoked"
	ReasonScopeDenied   = "scope_denied"
	ReasonOwnerInactive = "owner_inactive"
	// ReasonSiteInactive: the credential's Jira site disabled or uninstalled
	// keyward; its credentials work again only if the site re-enables it.
	ReasonSiteInactive = "site_inactive"
)

// AccessLogEntry records one verification, allowed or refused.
type AccessLogEntry struct {
	ID             int64
	TenantID       string // empty when the credential could not be attributed
	At             time.Time
	CredentialID   string
	CredentialKind CredentialKind
	OwnerAccountID string
	Method         string
	Path           string
	Decision       Decision
	Reason         string
	IP             string
	UserAgent      string
}

// AuditEvent records one administrative or system action.
type AuditEvent struct {
	ID         int64
	TenantID   string
	At         time.Time
	Actor      string // accountId, or "system"
	Action     string // e.g. "credential.revoke"
	TargetType string
	TargetID   string
	Reason     string
	Details    string // JSON object
}

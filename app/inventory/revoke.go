package inventory

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// Audit actions of the admin console.
const (
	ActionRevoke         = "credential.revoke"
	ActionBulkRevokeItem = "credential.bulk_revoke"
	ActionBulkRevoke     = "credentials.bulk_revoke"
	ActionUserRevokeItem = "credential.user_revoke"
	ActionUserRevoke     = "user.revoke_all"
	ActionExport         = "credentials.export"
	ActionExportLog      = "access_log.export"
)

// Refusals of a bulk revocation's confirmation token.
var (
	ErrConfirmationUnknown = errors.New("unknown confirmation token")
	ErrConfirmationNotMine = errors.New("confirmation token belongs to another administrator")
	ErrConfirmationUsed    = errors.New("confirmation token already used")
	ErrConfirmationExpired = errors.New("confirmation token expired")
	// ErrSelectionGrew means the selection matches more credentials than
	// its preview showed (owners deactivated, keys gone stale meanwhile):
	// nothing is revoked, and the admin previews again.
	ErrSelectionGrew = errors.New("the selection now matches more credentials than the preview showed; preview again")
)

func validReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	switch {
	case reason == "":
		return "", models.Invalid("reason", "required: say why, it is shown to the owner and kept in the audit trail")
	case utf8.RuneCountInString(reason) > maxReasonLength:
		return "", models.Invalid("reason", fmt.Sprintf("at most %d characters", maxReasonLength))
	}
	return reason, nil
}

// Revoke revokes one credential of the site and returns it as it is after
// the change. Revoking a revoked credential changes nothing.
func (s *Service) Revoke(ctx context.Context, a Admin, id, reason string) (*store.InventoryCredential, error) {
	reason, err := validReason(reason)
	if err != nil {
		return nil, err
	}
	if _, err := s.store.GetCredential(ctx, a.TenantID, id); err != nil {
		return nil, err
	}
	_, err = s.revoker.Revoke(ctx, store.RevokeFilter{TenantID: a.TenantID, IDs: []string{id}},
		credentials.Revocation{Actor: a.AccountID, Reason: reason, Action: ActionRevoke, Details: map[string]any{"via": "admin"}})
	if err != nil {
		return nil, err
	}
	return s.store.GetCredential(ctx, a.TenantID, id)
}

// RevokeUser revokes everything a person owns in the site and returns how
// many credentials it revoked. An account the site does not know is
// models.ErrNotFound.
func (s *Service) RevokeUser(ctx context.Context, a Admin, accountID, reason string) (int, error) {
	reason, err := validReason(reason)
	if err != nil {
		return 0, err
	}
	if accountID == "" || len(accountID) > maxAccountIDChars {
		return 0, models.Invalid("accountId", "invalid accountId")
	}
	known, err := s.store.OwnerKnown(ctx, a.TenantID, accountID)
	if err != nil {
		return 0, err
	}
	if !known {
		return 0, fmt.Errorf("user %s: %w", accountID, models.ErrNotFound)
	}
	var revoked []models.Credential
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		revoked, err = s.revoker.Revoke(ctx, store.RevokeFilter{TenantID: a.TenantID, OwnerAccountID: accountID},
			credentials.Revocation{Actor: a.AccountID, Reason: reason, Action: ActionUserRevokeItem, Details: map[string]any{"via": "admin"}})
		if err != nil {
			return err
		}
		return s.audit.Record(ctx, models.AuditEvent{TenantID: a.TenantID, At: s.now(), Actor: a.AccountID, Action: ActionUserRevoke,
			TargetType: "user", TargetID: accountID, Reason: reason, Details: details(map[string]any{"revoked": len(revoked)})})
	})
	if err != nil {
		return 0, err
	}
	s.evicted(revoked)
	return len(revoked), nil
}

// Selection is what a bulk revocation applies to: exactly one of IDs,
// Filter or All.
type Selection struct {
	IDs    []string `json:"ids,omitempty"`
	Filter *Filter  `json:"filter,omitempty"`
	All    bool     `json:"all,omitempty"`
	// CreatedAtOrBefore is set at the preview for Filter and All, so
	// credentials created afterwards are never swept in.
	CreatedAtOrBefore *time.Time `json:"createdAtOrBefore,omitempty"`
}

func (sel *Selection) validate() error {
	n := 0
	if len(sel.IDs) > 0 {
		n++
	}
	if sel.Filter != nil {
		n++
	}
	if sel.All {
		n++
	}
	if n != 1 {
		return models.Invalid("body", `give exactly one of "ids", "filter" or "all": true`)
	}
	if len(sel.IDs) > MaxSelectedIDs {
		return models.Invalid("ids", fmt.Sprintf("at most %d ids; select by filter for more", MaxSelectedIDs))
	}
	for i, id := range sel.IDs {
		if id == "" || len(id) > 64 {
			return models.Invalid(fmt.Sprintf("ids[%d]", i), "invalid id")
		}
	}
	return nil
}

// revokeFilter is the selection as the store revokes it: not yet revoked,
// and for a filter or everything, created no later than the preview.
func (sel *Selection) revokeFilter(tenantID string, now time.Time) store.RevokeFilter {
	var m store.CredentialFilter
	if sel.Filter != nil {
		m = sel.Filter.storeFilter(tenantID, now)
	}
	m.TenantID, m.Now, m.NotRevoked = tenantID, now, true
	m.IDs = sel.IDs
	m.CreatedAtOrBefore = sel.CreatedAtOrBefore
	return store.RevokeFilter{TenantID: tenantID, IDs: sel.IDs, Match: &m}
}

// Preview is what a bulk revocation would do, with the token that confirms
// it.
type Preview struct {
	Count        int64
	Sample       []store.InventoryCredential
	Confirmation string
	ExpiresAt    time.Time
	At           time.Time
}

// PreviewRevoke counts and samples the credentials a bulk revocation would
// revoke and returns a confirmation token bound to the site, the admin and
// this exact selection, valid once for ConfirmationTTL.
func (s *Service) PreviewRevoke(ctx context.Context, a Admin, sel Selection) (*Preview, error) {
	if err := sel.validate(); err != nil {
		return nil, err
	}
	now := s.now()
	sel.CreatedAtOrBefore = nil
	if len(sel.IDs) == 0 {
		sel.CreatedAtOrBefore = &now
	}
	f := *sel.revokeFilter(a.TenantID, now).Match
	count, _, err := s.store.CountCredentials(ctx, f, exactPreviewUpTo, 0)
	if err != nil {
		return nil, err
	}
	sample, err := s.store.ListCredentials(ctx, f, store.CredentialPage{Sort: store.SortCreated, Desc: true, Limit: PreviewSample})
	if err != nil {
		return nil, err
	}
	token, id, err := newConfirmationToken()
	if err != nil {
		return nil, err
	}
	selJSON, err := json.Marshal(sel)
	if err != nil {
		return nil, err
	}
	c := &store.Confirmation{ID: id, TenantID: a.TenantID, Actor: a.AccountID, Action: ActionBulkRevoke, Selection: string(selJSON),
		Count: count, CreatedAt: now, ExpiresAt: now.Add(ConfirmationTTL)}
	if err := s.store.CreateConfirmation(ctx, c); err != nil {
		return nil, err
	}
	return &Preview{Count: count, Sample: sample, Confirmation: token, ExpiresAt: c.ExpiresAt, At: now}, nil
}

// ConfirmRevoke runs the bulk revocation a preview described, once, in one
// transaction with its audit rows, and returns how many it revoked.
func (s *Service) ConfirmRevoke(ctx context.Context, a Admin, token, reason string) (int, error) {
	reason, err := validReason(reason)
	if err != nil {
		return 0, err
	}
	token = strings.TrimSpace(token)
	if token == "" || len(token) > 128 {
		return 0, models.Invalid("confirmation", "required: the token from the preview")
	}
	id := confirmationID(token)
	var revoked []models.Credential
	err = s.tx.InTx(ctx, func(ctx context.Context) error {
		c, err := s.store.ConfirmationForUpdate(ctx, a.TenantID, id)
		if errors.Is(err, models.ErrNotFound) {
			return fmt.Errorf("%w: %w", ErrConfirmationUnknown, models.ErrInvalid)
		}
		if err != nil {
			return err
		}
		now := s.now()
		switch {
		case c.Actor != a.AccountID || c.Action != ActionBulkRevoke:
			return fmt.Errorf("%w: %w", ErrConfirmationNotMine, models.ErrForbidden)
		case c.UsedAt != nil:
			return fmt.Errorf("%w: %w", ErrConfirmationUsed, models.ErrConflict)
		case !now.Before(c.ExpiresAt):
			return fmt.Errorf("%w: %w", ErrConfirmationExpired, models.ErrConflict)
		}
		if err := s.store.UseConfirmation(ctx, a.TenantID, id, now); err != nil {
			if errors.Is(err, models.ErrConflict) {
				return fmt.Errorf("%w: %w", ErrConfirmationUsed, models.ErrConflict)
			}
			return err
		}
		var sel Selection
		if err := json.Unmarshal([]byte(c.Selection), &sel); err != nil {
			return fmt.Errorf("read confirmation selection: %w", err)
		}
		revoked, err = s.revoker.Revoke(ctx, sel.revokeFilter(a.TenantID, now),
			credentials.Revocation{Actor: a.AccountID, Reason: reason, Action: ActionBulkRevokeItem, Details: map[string]any{"via": "admin", "confirmation": id[:16]}})
		if err != nil {
			return err
		}
		if int64(len(revoked)) > c.Count {
			// The whole transaction rolls back: no credential the admin
			// was not shown is revoked, and the token stays unused.
			return fmt.Errorf("%w (%d now, %d previewed): %w", ErrSelectionGrew, len(revoked), c.Count, models.ErrConflict)
		}
		return s.audit.Record(ctx, models.AuditEvent{TenantID: a.TenantID, At: now, Actor: a.AccountID, Action: ActionBulkRevoke,
			TargetType: "selection", TargetID: id[:16], Reason: reason,
			Details: details(map[string]any{"selection": sel, "previewCount": c.Count, "revoked": len(revoked)})})
	})
	if err != nil {
		return 0, err
	}
	s.evicted(revoked)
	return len(revoked), nil
}

// evicted tells the verifier again, after the commit, about revocations
// made inside a transaction.
func (s *Service) evicted(revoked []models.Credential) {
	if s.evict == nil || len(revoked) == 0 {
		return
	}
	ids := make([]string, len(revoked))
	for i := range revoked {
		ids[i] = revoked[i].ID
	}
	s.evict.Invalidate(ids...)
}

func newConfirmationToken() (token, id string, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("confirmation token: %w", err)
	}
	token = "kwcf_" + base64.RawURLEncoding.EncodeToString(b[:])
	return token, confirmationID(token), nil
}

func confirmationID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func details(m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		return "{}"
	}
	return string(b)
}

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
	// ErrSelectionChanged means the confirmation would not revoke exactly
	// the credentials its preview matched: some were added to the
	// selection (owners deactivated meanwhile), or some of the previewed
	// ones were revoked or no longer match (the selection shrank, which is
	// a change too). Nothing is revoked, the token stays unused, and the
	// admin previews again.
	ErrSelectionChanged = errors.New("the selection changed since the preview; nothing was revoked: preview again")
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
// Filter or All. Time-relative filters (status, staleDays) are evaluated at
// the preview's time, at the preview and at its confirmation alike.
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

// storedSelection is a confirmation's selection as stored: the selection
// and what only the preview sets, the digest of the credential ids it
// matched. It is not part of Selection, so no client can choose it.
type storedSelection struct {
	Selection
	// Digest is idDigest of the ids of the credentials the preview matched
	// (and would revoke). Empty in confirmations made before it existed:
	// those always count as changed.
	Digest string `json:"idsDigest,omitempty"`
}

// revokeFilter is the selection as the store revokes it at the preview's
// time now: not yet revoked, and for a filter or everything, created no
// later than the preview.
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
// this exact set of credentials, valid once for ConfirmationTTL. The count
// and the digest of the set come from one streamed pass over the matching
// ids.
func (s *Service) PreviewRevoke(ctx context.Context, a Admin, sel Selection) (*Preview, error) {
	if err := sel.validate(); err != nil {
		return nil, err
	}
	// Microseconds: the confirmation evaluates the filter at its stored
	// creation time, and PostgreSQL keeps no finer.
	now := s.now().Truncate(time.Microsecond)
	sel.CreatedAtOrBefore = nil
	if len(sel.IDs) == 0 {
		sel.CreatedAtOrBefore = &now
	}
	f := *sel.revokeFilter(a.TenantID, now).Match
	dg := newIDDigest()
	if err := s.store.EachCredentialID(ctx, f, dg.add); err != nil {
		return nil, err
	}
	digest, count := dg.sum()
	sample, err := s.store.ListCredentials(ctx, f, store.CredentialPage{Sort: store.SortCreated, Desc: true, Limit: PreviewSample})
	if err != nil {
		return nil, err
	}
	token, id, err := newConfirmationToken()
	if err != nil {
		return nil, err
	}
	selJSON, err := json.Marshal(storedSelection{Selection: sel, Digest: digest})
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
// transaction with its audit rows, and returns how many it revoked. It
// revokes exactly the credentials the preview matched or nothing: the
// selection is evaluated at the preview's time, and when the set it would
// change differs from the previewed one (grown or shrunk) the transaction
// rolls back with ErrSelectionChanged and the token stays unused.
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
		var stored storedSelection
		if err := json.Unmarshal([]byte(c.Selection), &stored); err != nil {
			return fmt.Errorf("read confirmation selection: %w", err)
		}
		sel := stored.Selection
		changed := func(n int64) error {
			return fmt.Errorf("%w (%d previewed, %d now): %w", ErrSelectionChanged, c.Count, n, models.ErrConflict)
		}
		// The filter is evaluated at the preview's time: a selection of
		// expired or stale keys does not grow with the clock alone.
		f := sel.revokeFilter(a.TenantID, c.CreatedAt)
		// Fail fast, before writing a row: one streamed pass over the ids
		// the selection matches now costs a fraction of revoking them.
		pre := newIDDigest()
		if err := s.store.EachCredentialID(ctx, *f.Match, pre.add); err != nil {
			return err
		}
		if digest, n := pre.sum(); stored.Digest == "" || n != c.Count || digest != stored.Digest {
			return changed(n)
		}
		revoked, err = s.revoker.Revoke(ctx, f,
			credentials.Revocation{Actor: a.AccountID, Reason: reason, Action: ActionBulkRevokeItem, Details: map[string]any{"via": "admin", "confirmation": id[:16]}})
		if err != nil {
			return err
		}
		// What this transaction changed must be what the preview matched,
		// id for id (a concurrent change can still slip in between the
		// check above and the update's row locks). On any difference the
		// whole transaction rolls back: nothing is revoked, no audit row
		// stays, the token stays unused.
		ids := make([]string, len(revoked))
		for i := range revoked {
			ids[i] = revoked[i].ID
		}
		digest, n, err := digestOfIDs(ids)
		if err != nil {
			return err
		}
		if n != c.Count || digest != stored.Digest {
			return changed(n)
		}
		return s.audit.Record(ctx, models.AuditEvent{TenantID: a.TenantID, At: now, Actor: a.AccountID, Action: ActionBulkRevoke,
			TargetType: "selection", TargetID: id[:16], Reason: reason,
			Details: details(map[string]any{"selection": sel, "previewedAt": c.CreatedAt.UTC(), "previewCount": c.Count, "idsDigest": stored.Digest, "revoked": len(revoked)})})
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

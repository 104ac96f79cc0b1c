package credentials

import (
	"context"
	"unicode/utf8"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// ActorSystem is the actor of revocations keyward makes on its own.
const ActorSystem = "system"

// Revocation describes who revokes and why.
type Revocation struct {
	Actor   string         // accountId of an admin, or ActorSystem
	Reason  string         // required: shown in the inventory and audit trail
	Action  string         // audit action, e.g. "credential.revoke", "owner.offboard"
	Details map[string]any // extra audit details (e.g. the webhook event id)
}

func (r Revocation) validate() error {
	v := &models.ValidationError{}
	if r.Actor == "" {
		v.Add("actor", "required")
	}
	if r.Reason == "" {
		v.Add("reason", "required")
	} else if utf8.RuneCountInString(r.Reason) > 500 {
		v.Add("reason", "at most 500 characters")
	}
	return v.Err()
}

// Revoke revokes every active credential of the tenant that matches f, in
// one transaction with one audit record per credential, and evicts them from
// the verifier at once. It returns the revoked credentials; credentials that
// were already revoked are not touched (revocation is idempotent).
func (s *Service) Revoke(ctx context.Context, f store.RevokeFilter, r Revocation) ([]models.Credential, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	if r.Action == "" {
		r.Action = "credential.revoke"
	}
	var revoked []models.Credential
	err := s.tx.InTx(ctx, func(ctx context.Context) error {
		var err error
		revoked, err = s.store.RevokeMatching(ctx, f, s.now(), r.Actor, r.Reason)
		if err != nil {
			return err
		}
		events := make([]models.AuditEvent, len(revoked))
		for i := range revoked {
			events[i] = auditEvent(&revoked[i], r.Actor, r.Action, r.Reason, r.Details)
		}
		return s.recordAll(ctx, events)
	})
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(revoked))
	for i := range revoked {
		ids[i] = revoked[i].ID
	}
	s.changed(ctx, ids...)
	return revoked, nil
}

// RevokeOwner revokes everything a person owns in a tenant (API keys and
// OAuth grants).
func (s *Service) RevokeOwner(ctx context.Context, tenantID, accountID string, r Revocation) ([]models.Credential, error) {
	if accountID == "" {
		return nil, models.Invalid("accountId", "required")
	}
	return s.Revoke(ctx, store.RevokeFilter{TenantID: tenantID, OwnerAccountID: accountID}, r)
}

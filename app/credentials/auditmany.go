package credentials

import (
	"context"

	"github.com/keyward/keyward/models"
)

// batchAuditor is an Auditor that also writes many events in one statement
// (store.Audit does).
type batchAuditor interface {
	RecordMany(ctx context.Context, events []models.AuditEvent) error
}

// recordAll records events in the transaction in ctx, in one statement
// when the auditor can: a bulk revocation writes one row per credential.
func (s *Service) recordAll(ctx context.Context, events []models.AuditEvent) error {
	if b, ok := s.audit.(batchAuditor); ok && len(events) > 1 {
		return b.RecordMany(ctx, events)
	}
	for _, e := range events {
		if err := s.audit.Record(ctx, e); err != nil {
			return err
		}
	}
	return nil
}

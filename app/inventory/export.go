package inventory

import (
	"context"
	"time"

	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

// Export formats.
const (
	FormatCSV    = "csv"
	FormatNDJSON = "ndjson"
)

func validFormat(format string) error {
	if format != FormatCSV && format != FormatNDJSON {
		return models.Invalid("format", "must be csv or ndjson")
	}
	return nil
}

// CredentialExport streams the credentials an export selected, in keyset
// batches, so memory does not grow with the size of the site.
type CredentialExport struct {
	Estimate int64 // a fast size hint for a progress bar
	At       time.Time
	store    Store
	filter   store.CredentialFilter
	sort     Sort
}

// ExportCredentials starts an export of the credentials matching f: it
// records the export in the audit trail and returns the stream.
func (s *Service) ExportCredentials(ctx context.Context, a Admin, f Filter, sort Sort, format string) (*CredentialExport, error) {
	if err := validFormat(format); err != nil {
		return nil, err
	}
	now := s.now()
	sf := f.storeFilter(a.TenantID, now)
	est, _, err := s.store.CountCredentials(ctx, sf, exactTotalUpTo)
	if err != nil {
		return nil, err
	}
	err = s.audit.Record(ctx, models.AuditEvent{TenantID: a.TenantID, At: now, Actor: a.AccountID, Action: ActionExport,
		TargetType: "export", TargetID: format, Details: details(map[string]any{"format": format, "filter": f, "sort": sort.String(), "estimate": est})})
	if err != nil {
		return nil, err
	}
	return &CredentialExport{Estimate: est, At: now, store: s.store, filter: sf, sort: sort}, nil
}

// Each calls fn with successive batches of at most ExportBatch credentials
// and returns how many it passed. fn must not keep the batch.
func (e *CredentialExport) Each(ctx context.Context, fn func(batch []store.InventoryCredential) error) (int64, error) {
	var (
		after *store.Position
		n     int64
	)
	for {
		rows, err := e.store.ListCredentials(ctx, e.filter, store.CredentialPage{Sort: e.sort.Key, Desc: e.sort.Desc, After: after, Limit: ExportBatch})
		if err != nil {
			return n, err
		}
		if len(rows) > 0 {
			if err := fn(rows); err != nil {
				return n, err
			}
			n += int64(len(rows))
		}
		if len(rows) < ExportBatch {
			return n, nil
		}
		p := store.PositionOf(&rows[len(rows)-1], e.sort.Key)
		after = &p
	}
}

// AccessLogExport streams access log records, newest first, in keyset
// batches.
type AccessLogExport struct {
	Estimate int64
	store    Store
	filter   store.AccessLogFilter
}

// ExportAccessLog starts an export of the access log records matching f,
// recorded in the audit trail.
func (s *Service) ExportAccessLog(ctx context.Context, a Admin, f AccessLogFilter, format string) (*AccessLogExport, error) {
	if err := validFormat(format); err != nil {
		return nil, err
	}
	sf := f.storeFilter(a.TenantID)
	est, err := s.store.EstimateAccessLog(ctx, sf, estimateUpTo)
	if err != nil {
		return nil, err
	}
	err = s.audit.Record(ctx, models.AuditEvent{TenantID: a.TenantID, At: s.now(), Actor: a.AccountID, Action: ActionExportLog,
		TargetType: "export", TargetID: format, Details: details(map[string]any{"format": format, "filter": f, "estimate": est})})
	if err != nil {
		return nil, err
	}
	return &AccessLogExport{Estimate: est, store: s.store, filter: sf}, nil
}

// Each calls fn with successive batches of at most ExportBatch records and
// returns how many it passed.
func (e *AccessLogExport) Each(ctx context.Context, fn func(batch []models.AccessLogEntry) error) (int64, error) {
	f := e.filter
	var n int64
	for {
		rows, err := e.store.AccessLogBatch(ctx, f, ExportBatch)
		if err != nil {
			return n, err
		}
		if len(rows) > 0 {
			if err := fn(rows); err != nil {
				return n, err
			}
			n += int64(len(rows))
		}
		if len(rows) < ExportBatch {
			return n, nil
		}
		f.BeforeID = rows[len(rows)-1].ID
	}
}

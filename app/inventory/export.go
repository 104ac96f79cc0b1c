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
	sort = sort.orDefault(f)
	now := s.now()
	sf := f.storeFilter(a.TenantID, now)
	est, _, err := s.store.CountCredentials(ctx, sf, exactTotalUpTo, countBudget)
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
// and returns how many it passed. The next batch is read while fn handles
// the current one, so at most two batches are in memory. fn must not keep
// the batch.
func (e *CredentialExport) Each(ctx context.Context, fn func(batch []store.InventoryCredential) error) (int64, error) {
	owners := newOwnerCache(e.store, e.filter.TenantID)
	fetch := func(after *store.Position) <-chan batch[store.InventoryCredential] {
		ch := make(chan batch[store.InventoryCredential], 1)
		go func() {
			rows, err := e.store.ListCredentials(ctx, e.filter, store.CredentialPage{Sort: e.sort.Key, Desc: e.sort.Desc, After: after, Limit: ExportBatch, NoOwners: true})
			if err == nil {
				err = owners.fill(ctx, rows)
			}
			ch <- batch[store.InventoryCredential]{rows, err}
		}()
		return ch
	}
	return pipeline(fetch(nil), fn, func(rows []store.InventoryCredential) <-chan batch[store.InventoryCredential] {
		p := store.PositionOf(&rows[len(rows)-1], e.sort.Key)
		return fetch(&p)
	})
}

// ownerCache fills the owners of exported credentials, asking the database
// only for people not seen in earlier batches. It holds at most
// maxCachedOwners people, so memory stays bounded on any site.
type ownerCache struct {
	store  Store
	tenant string
	seen   map[string]cachedOwner
}

type cachedOwner struct {
	store.Owner
	known bool // has a users row
}

const maxCachedOwners = 100_000

func newOwnerCache(st Store, tenantID string) *ownerCache {
	return &ownerCache{store: st, tenant: tenantID, seen: map[string]cachedOwner{}}
}

func (c *ownerCache) fill(ctx context.Context, rows []store.InventoryCredential) error {
	var missing []string
	for i := range rows {
		id := rows[i].OwnerAccountID
		if _, ok := c.seen[id]; !ok {
			c.seen[id] = cachedOwner{Owner: store.Owner{Active: true}} // unknown owners count as active
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		found, err := c.store.Owners(ctx, c.tenant, missing)
		if err != nil {
			return err
		}
		for id, o := range found {
			c.seen[id] = cachedOwner{Owner: o, known: true}
		}
	}
	for i := range rows {
		r := &rows[i]
		o := c.seen[r.OwnerAccountID]
		r.OwnerDisplayName, r.OwnerActive, r.OwnerKnown = o.DisplayName, o.Active, o.known
	}
	if len(c.seen) > maxCachedOwners {
		c.seen = map[string]cachedOwner{}
	}
	return nil
}

// batch is one read of an export.
type batch[T any] struct {
	rows []T
	err  error
}

// pipeline hands batches to fn while the next one is read: next starts the
// read after a full batch.
func pipeline[T any](first <-chan batch[T], fn func([]T) error, next func(rows []T) <-chan batch[T]) (int64, error) {
	var n int64
	for pending := first; pending != nil; {
		b := <-pending
		if b.err != nil {
			return n, b.err
		}
		pending = nil
		if len(b.rows) == ExportBatch {
			pending = next(b.rows)
		}
		if len(b.rows) > 0 {
			if err := fn(b.rows); err != nil {
				if pending != nil {
					<-pending // let the read finish before returning
				}
				return n, err
			}
			n += int64(len(b.rows))
		}
	}
	return n, nil
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

// Each calls fn with successive batches of at most ExportBatch records
// and returns how many it passed, reading the next batch meanwhile.
func (e *AccessLogExport) Each(ctx context.Context, fn func(batch []models.AccessLogEntry) error) (int64, error) {
	fetch := func(beforeID int64) <-chan batch[models.AccessLogEntry] {
		ch := make(chan batch[models.AccessLogEntry], 1)
		f := e.filter
		f.BeforeID = beforeID
		go func() {
			rows, err := e.store.AccessLogBatch(ctx, f, ExportBatch)
			ch <- batch[models.AccessLogEntry]{rows, err}
		}()
		return ch
	}
	return pipeline(fetch(e.filter.BeforeID), fn, func(rows []models.AccessLogEntry) <-chan batch[models.AccessLogEntry] {
		return fetch(rows[len(rows)-1].ID)
	})
}

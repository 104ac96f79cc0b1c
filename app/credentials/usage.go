package credentials

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/keyward/keyward/models"
)

// usage accumulates uses of one cached secret between flushes without
// locks: a counter, the newest time, and the newest IP and user agent
// (replaced only when they change, so a steady client allocates nothing).
type usage struct {
	count atomic.Int64
	last  atomic.Int64
	ip    atomic.Pointer[string]
	ua    atomic.Pointer[string]
	dirty atomic.Bool
}

// record notes one use and reports whether the entry just became dirty.
func (u *usage) record(at int64, ip, ua string) bool {
	u.count.Add(1)
	if prev := u.last.Load(); at > prev {
		u.last.CompareAndSwap(prev, at)
	}
	if p := u.ip.Load(); p == nil || *p != ip {
		s := ip
		u.ip.Store(&s)
	}
	if p := u.ua.Load(); p == nil || *p != ua {
		s := ua
		u.ua.Store(&s)
	}
	return !u.dirty.Load() && u.dirty.CompareAndSwap(false, true)
}

func (v *Verifier) markDirty(e *entry) {
	v.dirtyMu.Lock()
	v.dirty = append(v.dirty, e)
	v.dirtyMu.Unlock()
}

// drainUsage takes the accumulated uses, merged per credential.
func (v *Verifier) drainUsage() []models.Usage {
	v.dirtyMu.Lock()
	pending := v.dirty
	v.dirty = nil
	v.dirtyMu.Unlock()
	merged := make(map[string]*models.Usage, len(pending))
	out := make([]models.Usage, 0, len(pending))
	for _, e := range pending {
		e.usage.dirty.Store(false)
		n := e.usage.count.Swap(0)
		if n == 0 {
			continue
		}
		at := time.Unix(0, e.usage.last.Load()).UTC()
		var ip, ua string
		if p := e.usage.ip.Load(); p != nil {
			ip = *p
		}
		if p := e.usage.ua.Load(); p != nil {
			ua = *p
		}
		if m, ok := merged[e.credentialID]; ok {
			m.Count += n
			if at.After(m.At) {
				m.At, m.IP, m.UserAgent = at, ip, ua
			}
			continue
		}
		out = append(out, models.Usage{TenantID: e.tenantID, CredentialID: e.credentialID, At: at, IP: ip, UserAgent: ua, Count: n})
		merged[e.credentialID] = &out[len(out)-1]
	}
	return out
}

// maxCarriedUsage bounds the uses kept for retry while the database fails.
const maxCarriedUsage = 100_000

// FlushUsage writes the uses accumulated since the last flush in one batch.
// A failed batch is kept and retried with the next one.
func (v *Verifier) FlushUsage(ctx context.Context) error {
	v.flushMu.Lock()
	defer v.flushMu.Unlock()
	batch := append(v.carry, v.drainUsage()...)
	v.carry = nil
	if len(batch) == 0 {
		return nil
	}
	if err := v.store.ApplyUsage(ctx, batch); err != nil {
		if len(batch) > maxCarriedUsage {
			v.log.WithField("dropped", len(batch)-maxCarriedUsage).Error("verifier: usage backlog full; dropping the oldest last-use updates")
			batch = batch[len(batch)-maxCarriedUsage:]
		}
		v.carry = batch
		return err
	}
	return nil
}

// RunUsageFlusher flushes usage every interval until ctx ends, then once
// more so a graceful shutdown loses nothing.
func (v *Verifier) RunUsageFlusher(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			if err := v.FlushUsage(final); err != nil {
				v.log.WithError(err).Error("verifier: final usage flush failed")
			}
			cancel()
			return
		case <-t.C:
			if err := v.FlushUsage(ctx); err != nil && ctx.Err() == nil {
				v.log.WithError(err).Warn("verifier: usage flush failed; will retry")
			}
		}
	}
}

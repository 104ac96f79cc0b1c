package tenants

import (
	"sync"
	"time"

	"github.com/keyward/keyward/models"
)

// secretCacheTTL bounds how long another replica may keep using a site's
// previous state or secret after a lifecycle change; this process forgets
// at once.
const secretCacheTTL = 5 * time.Second

// secretCache keeps recently used Connect sites and their opened shared
// secrets, so verifying a request costs no database round trip.
//
// A reader that loaded a site from the database just before a lifecycle
// change committed must not put that older state back after the change
// forgot it: every forget bumps gen, and put stores only when gen is still
// the one the reader saw before its database read.
type secretCache struct {
	mu  sync.Mutex
	m   map[string]cachedSite
	gen uint64
}

type cachedSite struct {
	tenant models.Tenant
	secret []byte
	at     time.Time
}

func (c *secretCache) get(clientKey string, now time.Time) (*models.Tenant, []byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[clientKey]
	if !ok || now.Sub(e.at) > secretCacheTTL {
		return nil, nil, false
	}
	t := e.tenant
	return &t, e.secret, true
}

// generation returns the value to hand to put for a database read that
// starts now.
func (c *secretCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

// put caches a site read from the database, unless a site was forgotten
// since gen was taken (the read may predate that change).
func (c *secretCache) put(clientKey string, t *models.Tenant, secret []byte, now time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) > 50_000 {
		c.m = make(map[string]cachedSite)
	}
	c.m[clientKey] = cachedSite{tenant: *t, secret: secret, at: now}
}

// forget drops a site once a change of it has committed.
func (c *secretCache) forget(clientKey string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.m, clientKey)
}

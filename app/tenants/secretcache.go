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
type secretCache struct {
	mu sync.Mutex
	m  map[string]cachedSite
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

func (c *secretCache) put(clientKey string, t *models.Tenant, secret []byte, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil || len(c.m) > 50_000 {
		c.m = make(map[string]cachedSite)
	}
	c.m[clientKey] = cachedSite{tenant: *t, secret: secret, at: now}
}

func (c *secretCache) forget(clientKey string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, clientKey)
}

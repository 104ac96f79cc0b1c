package tenants

import (
	"testing"
	"time"

	"github.com/keyward/keyward/models"
)

// TestSecretCacheDropsReadsOlderThanAForget: a site read from the database
// before a lifecycle change committed is not cached once that change has
// been forgotten, so the old secret or state is not served for 5 s.
func TestSecretCacheDropsReadsOlderThanAForget(t *testing.T) {
	var c secretCache
	now := time.Now()
	site := &models.Tenant{ID: "t-1", ClientKey: "ck", State: models.TenantInstalled}

	gen := c.generation() // a reader starts its database read
	c.forget("ck")        // a change commits meanwhile
	c.put("ck", site, []byte("old-secret"), now, gen)
	if _, _, ok := c.get("ck", now); ok {
		t.Fatal("a read that predates a forget was cached")
	}

	gen = c.generation()
	c.put("ck", site, []byte("new-secret"), now, gen)
	if _, s, ok := c.get("ck", now); !ok || string(s) != "new-secret" {
		t.Fatalf("a read after the forget was not cached: %q %v", s, ok)
	}
	if _, _, ok := c.get("ck", now.Add(secretCacheTTL+time.Millisecond)); ok {
		t.Fatal("an entry outlived secretCacheTTL")
	}
	c.forget("ck")
	if _, _, ok := c.get("ck", now); ok {
		t.Fatal("forget kept the entry")
	}
}

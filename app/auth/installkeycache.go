package auth

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

const (
	// installKeyMissTTL is how long an unknown kid, or a kid whose key is
	// unusable, is answered from the cache.
	installKeyMissTTL = time.Minute
	// installKeyErrorTTL is how long a server or network failure is.
	installKeyErrorTTL = 10 * time.Second
	// installKeyFetchEvery and installKeyFetchBurst bound the fetches of
	// uncached kids, process-wide: a burst of 20, then 5 per second. An
	// attacker must keep sending more than 5 made-up kids a second to keep
	// a genuine install waiting, and Atlassian's key host sees at most that
	// many requests a second from one process.
	installKeyFetchEvery = 200 * time.Millisecond
	installKeyFetchBurst = 20
	// maxInstallKeyFetches bounds the fetches in flight at once (each may
	// last up to installKeyTimeout), process-wide.
	maxInstallKeyFetches = 4
	// maxInstallKeys and maxInstallKeyMisses bound the cache.
	maxInstallKeys      = 64
	maxInstallKeyMisses = 1024
)

var (
	// errUnusableInstallKey marks a key document that is not an RSA key
	// of at least 2048 bits.
	errUnusableInstallKey = errors.New("unusable install key")
	// errInstallKeyBudget refuses a fetch beyond the rate limit.
	errInstallKeyBudget = fmt.Errorf("install key fetch budget exhausted: %w", ErrKeyFetchBusy)
	// errInstallKeyInFlight refuses a fetch while maxInstallKeyFetches run.
	errInstallKeyInFlight = fmt.Errorf("%d install key fetches in flight: %w", maxInstallKeyFetches, ErrKeyFetchBusy)
)

// installKeyCache holds fetched keys, recent failures, the fetch budget
// and the count of fetches in flight of an InstallKeyFetcher. Its zero
// value is ready to use.
type installKeyCache struct {
	mu       sync.Mutex
	keys     map[string]*rsa.PublicKey
	misses   map[string]installKeyMiss
	budget   *rate.Limiter
	inFlight int
}

type installKeyMiss struct {
	err   error
	until time.Time
}

// lookup answers kid from the cache: a key, or the failure of a recent
// fetch. cached is false when kid must be fetched.
func (c *installKeyCache) lookup(kid string, now time.Time) (key *rsa.PublicKey, cached bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if k, found := c.keys[kid]; found {
		return k, true, nil
	}
	if m, found := c.misses[kid]; found {
		if now.Before(m.until) {
			return nil, true, m.err
		}
		delete(c.misses, kid)
	}
	return nil, false, nil
}

// startFetch admits one fetch: it refuses (with an error wrapping
// ErrKeyFetchBusy) while maxInstallKeyFetches are in flight or when the
// budget is spent, and otherwise spends one fetch of the budget. A
// refusal spends nothing. After an admitted fetch, call endFetch.
func (c *installKeyCache) startFetch(now time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inFlight >= maxInstallKeyFetches {
		return errInstallKeyInFlight
	}
	if c.budget == nil {
		c.budget = rate.NewLimiter(rate.Every(installKeyFetchEvery), installKeyFetchBurst)
	}
	if !c.budget.AllowN(now, 1) {
		return errInstallKeyBudget
	}
	c.inFlight++
	return nil
}

// endFetch ends a fetch that startFetch admitted.
func (c *installKeyCache) endFetch() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inFlight--
}

func (c *installKeyCache) putKey(kid string, key *rsa.PublicKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil {
		c.keys = map[string]*rsa.PublicKey{}
	}
	if len(c.keys) >= maxInstallKeys {
		for k := range c.keys { // drop any one; a dropped key is fetched again
			delete(c.keys, k)
			break
		}
	}
	c.keys[kid] = key
	delete(c.misses, kid)
}

func (c *installKeyCache) putMiss(kid string, err error, now time.Time) {
	ttl := installKeyErrorTTL
	if errors.Is(err, ErrUnknownKey) || errors.Is(err, errUnusableInstallKey) {
		ttl = installKeyMissTTL
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.misses == nil {
		c.misses = map[string]installKeyMiss{}
	}
	if len(c.misses) >= maxInstallKeyMisses {
		for k, m := range c.misses {
			if !now.Before(m.until) {
				delete(c.misses, k)
			}
		}
		for k := range c.misses {
			if len(c.misses) < maxInstallKeyMisses {
				break
			}
			delete(c.misses, k)
		}
	}
	c.misses[kid] = installKeyMiss{err: err, until: now.Add(ttl)}
}

// Package seed fills a site with realistic demo data (people with names,
// some deactivated; API keys with varied scopes and ages, some stale,
// expired or revoked with a reason; an access log over the last days), in
// bulk, so a newcomer opening the admin console sees a real inventory. The
// seeded keys are real rows whose secrets were random and discarded: only
// their hashes are stored and nothing secret is ever printed.
package seed

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/keyward/keyward/app/scope"
	"github.com/keyward/keyward/app/token"
	"github.com/keyward/keyward/models"
)

// ActionSeeded marks a seeded site in its audit trail.
const ActionSeeded = "seed.demo"

// ErrAlreadySeeded refuses to seed a site twice.
var ErrAlreadySeeded = errors.New("this site was already seeded with demo data")

// Store is the bulk loader the seed writes through.
type Store interface {
	UpsertUsers(ctx context.Context, users []models.User) error
	CreateCredentials(ctx context.Context, creds []models.Credential, secrets []models.CredentialSecret) error
	Seeded(ctx context.Context, tenantID, action string) (bool, error)
	Analyze(ctx context.Context) error
}

// AccessLog appends access log records in bulk.
type AccessLog interface {
	Append(ctx context.Context, entries []models.AccessLogEntry) error
}

// Auditor records that the site was seeded.
type Auditor interface {
	Record(ctx context.Context, e models.AuditEvent) error
}

// Options say how much to create.
type Options struct {
	TenantID      string
	Users         int
	Keys          int
	AccessLog     int           // access log records
	AccessLogDays int           // spread over this many days before Now
	Owners        []models.User // accounts that must own some keys (the dev accounts)
	Seed          uint64        // random seed; the same seed gives the same people and shapes
	Batch         int           // rows per bulk insert
	Now           time.Time
	// FastSecrets derives the discarded secrets from the random source
	// instead of crypto/rand (benchmarks seeding millions of keys).
	FastSecrets bool
}

func (o *Options) defaults() {
	if o.Users <= 0 {
		o.Users = 400
	}
	if o.Keys < 0 {
		o.Keys = 0
	}
	if o.AccessLogDays <= 0 {
		o.AccessLogDays = 30
	}
	if o.Batch <= 0 {
		o.Batch = 20_000
	}
	if o.Seed == 0 {
		o.Seed = 20240601
	}
	if o.Now.IsZero() {
		o.Now = time.Now().UTC()
	}
}

// Result counts what was created.
type Result struct {
	Users, InactiveUsers                      int
	Keys, Active, Expired, Revoked, NeverUsed int
	Stale                                     int // unused for 90 days or more and not revoked
	AccessLog, AccessLogDenied                int
	FirstCreated, LastCreated                 time.Time
	Elapsed                                   time.Duration
	ownerInactive                             map[string]bool
	recentlyUsed                              []usedKey
}

type usedKey struct {
	id, owner     string
	created, last time.Time
	scopes        scope.Set
}

// Run seeds the site unless it was seeded before.
func Run(ctx context.Context, st Store, log AccessLog, audit Auditor, o Options) (*Result, error) {
	o.defaults()
	if o.TenantID == "" {
		return nil, errors.New("seed: tenant required")
	}
	if done, err := st.Seeded(ctx, o.TenantID, ActionSeeded); err != nil {
		return nil, err
	} else if done {
		return nil, ErrAlreadySeeded
	}
	start := time.Now()
	g := &generator{o: o, rng: rand.New(rand.NewPCG(o.Seed, o.Seed^0x9e3779b97f4a7c15)), res: &Result{ownerInactive: map[string]bool{}}}
	users := g.users()
	g.creationTimes()
	for start := 0; start < len(users); start += o.Batch {
		if err := st.UpsertUsers(ctx, users[start:min(start+o.Batch, len(users))]); err != nil {
			return nil, fmt.Errorf("seed users: %w", err)
		}
	}
	for made := 0; made < o.Keys; {
		n := min(o.Batch, o.Keys-made)
		creds, secrets, err := g.keys(users, made, n)
		if err != nil {
			return nil, err
		}
		if err := st.CreateCredentials(ctx, creds, secrets); err != nil {
			return nil, fmt.Errorf("seed keys: %w", err)
		}
		made += n
	}
	entries := g.accessLog()
	for start := 0; start < len(entries); start += o.Batch {
		if err := log.Append(ctx, entries[start:min(start+o.Batch, len(entries))]); err != nil {
			return nil, fmt.Errorf("seed access log: %w", err)
		}
	}
	res := g.res
	res.Elapsed = time.Since(start)
	details := fmt.Sprintf(`{"users":%d,"keys":%d,"accessLog":%d}`, res.Users, res.Keys, res.AccessLog)
	if err := audit.Record(ctx, models.AuditEvent{TenantID: o.TenantID, At: o.Now, Actor: "system", Action: ActionSeeded, TargetType: "tenant", TargetID: o.TenantID, Details: details}); err != nil {
		return nil, err
	}
	if err := st.Analyze(ctx); err != nil {
		return nil, err
	}
	return res, nil
}

type generator struct {
	o       Options
	rng     *rand.Rand
	res     *Result
	created []time.Time // creation times of every key, oldest first
}

// creationTimes spreads keys over the last two years, more of them recent,
// oldest first: a real site's keys are written in the order they are
// created, and the table's physical order follows.
func (g *generator) creationTimes() {
	g.created = make([]time.Time, g.o.Keys)
	for i := range g.created {
		age := time.Duration(float64(730*24*time.Hour) * math.Pow(g.rng.Float64(), 2.2))
		g.created[i] = g.o.Now.Add(-age - time.Hour).Truncate(time.Millisecond)
	}
	slices.SortFunc(g.created, func(a, b time.Time) int { return a.Compare(b) })
}

func (g *generator) users() []models.User {
	o := g.o
	seen := map[string]bool{}
	out := make([]models.User, 0, o.Users+len(o.Owners))
	for _, u := range o.Owners {
		u.TenantID = o.TenantID
		out = append(out, u)
		seen[u.DisplayName] = true
	}
	for i := 0; i < o.Users; i++ {
		name := firstNames[g.rng.IntN(len(firstNames))] + " " + lastNames[g.rng.IntN(len(lastNames))]
		for n := 2; seen[name]; n++ {
			name = fmt.Sprintf("%s %s %d", firstNames[g.rng.IntN(len(firstNames))], lastNames[g.rng.IntN(len(lastNames))], n)
		}
		seen[name] = true
		u := models.User{TenantID: o.TenantID, AccountID: g.accountID(), DisplayName: name, AccountType: "atlassian", Active: true, UpdatedAt: o.Now}
		switch r := g.rng.Float64(); {
		case r < 0.02:
			u.Active, u.Deleted = false, true
		case r < 0.10:
			u.Active = false
		}
		if !u.Active || u.Deleted {
			g.res.InactiveUsers++
			g.res.ownerInactive[u.AccountID] = true
		}
		out = append(out, u)
	}
	g.res.Users = len(out)
	return out
}

// accountID looks like an Atlassian accountId: 24 hex digits.
func (g *generator) accountID() string {
	return fmt.Sprintf("%012x%012x", g.rng.Uint64()&0xffffffffffff, g.rng.Uint64()&0xffffffffffff)
}

var lifetimes = []int{30, 90, 180, 365, 365, 365, 365}

func (g *generator) keys(users []models.User, made, n int) ([]models.Credential, []models.CredentialSecret, error) {
	o, rng := g.o, g.rng
	creds := make([]models.Credential, 0, n)
	secrets := make([]models.CredentialSecret, 0, n)
	nOwners := len(g.o.Owners)
	for i := 0; i < n; i++ {
		// The fixed owners get a few keys each; others are skewed so some
		// people own many keys and most own a few.
		var owner *models.User
		if k := made + i; k < nOwners*6 && nOwners > 0 {
			owner = &users[k%nOwners]
		} else {
			owner = &users[nOwners+int(float64(len(users)-nOwners)*math.Pow(rng.Float64(), 1.7))]
		}
		created := g.created[made+i]
		c := models.Credential{
			ID: uuid.Must(uuid.NewV7()).String(), TenantID: o.TenantID, Kind: models.KindAPIKey, OwnerAccountID: owner.AccountID,
			Name:   keyPurposes[rng.IntN(len(keyPurposes))] + keySuffixes[rng.IntN(len(keySuffixes))],
			Scopes: g.scopes(), CreatedAt: created, UpdatedAt: created,
		}
		end := o.Now
		if rng.Float64() >= 0.04 {
			exp := created.AddDate(0, 0, lifetimes[rng.IntN(len(lifetimes))])
			c.ExpiresAt = &exp
			if exp.Before(end) {
				end = exp
			}
		}
		inactive := g.res.ownerInactive[owner.AccountID]
		if r := rng.Float64(); r < 0.11 || (inactive && r < 0.6) {
			at := created.Add(time.Duration(float64(end.Sub(created)) * rng.Float64())).Truncate(time.Millisecond)
			c.RevokedAt, c.UpdatedAt = &at, at
			if inactive {
				c.RevokedBy, c.RevokeReason = "system", "Owner deactivated in Jira"
			} else {
				c.RevokedBy, c.RevokeReason = users[rng.IntN(len(users))].AccountID, revokeReasons[rng.IntN(len(revokeReasons))]
			}
			end = at
		}
		if rng.Float64() >= 0.22 {
			ago := time.Duration(float64(end.Sub(created)) * math.Pow(rng.Float64(), 3))
			last := end.Add(-ago).Truncate(time.Millisecond)
			c.LastUsedAt = &last
			c.LastUsedIP = g.ip()
			c.LastUsedUA = userAgents[rng.IntN(len(userAgents))]
			c.UseCount = 1 + int64(math.Pow(rng.Float64(), 3)*50_000)
		}
		secret, err := g.secret()
		if err != nil {
			return nil, nil, err
		}
		c.Hint = token.Hint(secret)
		h := token.Hash(secret)
		secrets = append(secrets, models.CredentialSecret{Hash: h[:], TenantID: o.TenantID, CredentialID: c.ID, CreatedAt: created})
		creds = append(creds, c)
		g.count(&c)
	}
	return creds, secrets, nil
}

func (g *generator) count(c *models.Credential) {
	r, now := g.res, g.o.Now
	r.Keys++
	if r.FirstCreated.IsZero() || c.CreatedAt.Before(r.FirstCreated) {
		r.FirstCreated = c.CreatedAt
	}
	if c.CreatedAt.After(r.LastCreated) {
		r.LastCreated = c.CreatedAt
	}
	switch c.Status(now) {
	case models.StatusActive:
		r.Active++
	case models.StatusExpired:
		r.Expired++
	case models.StatusRevoked:
		r.Revoked++
	}
	if c.LastUsedAt == nil {
		r.NeverUsed++
	}
	last := c.CreatedAt
	if c.LastUsedAt != nil {
		last = *c.LastUsedAt
	}
	if c.Status(now) == models.StatusActive && now.Sub(last) >= 90*24*time.Hour {
		r.Stale++
	}
	if c.LastUsedAt != nil && now.Sub(*c.LastUsedAt) < time.Duration(g.o.AccessLogDays)*24*time.Hour && len(r.recentlyUsed) < 200_000 {
		set, _ := scope.Parse(strings.Fields(c.Scopes))
		r.recentlyUsed = append(r.recentlyUsed, usedKey{id: c.ID, owner: c.OwnerAccountID, created: c.CreatedAt, last: *c.LastUsedAt, scopes: set})
	}
}

func (g *generator) scopes() string {
	if g.rng.Float64() < 0.18 {
		return scope.Set{Full: true}.String()
	}
	var s scope.Set
	areas := scope.All()
	for n := 1 + g.rng.IntN(3); n > 0; n-- {
		l := scope.LevelView
		if g.rng.Float64() < 0.35 {
			l = scope.LevelManage
		}
		s = s.With(areas[g.rng.IntN(len(areas))], l)
	}
	return s.String()
}

func (g *generator) ip() string {
	if g.rng.Float64() < 0.5 {
		return fmt.Sprintf("10.%d.%d.%d", g.rng.IntN(256), g.rng.IntN(256), 1+g.rng.IntN(254))
	}
	// Documentation ranges (RFC 5737), never a real address.
	nets := []string{"192.0.2", "198.51.100", "203.0.113"}
	return fmt.Sprintf("%s.%d", nets[g.rng.IntN(len(nets))], 1+g.rng.IntN(254))
}

// secret returns a well-formed API key secret that is thrown away once
// hashed.
func (g *generator) secret() (string, error) {
	if !g.o.FastSecrets {
		return token.New(token.KindAPIKey)
	}
	// token.New draws from crypto/rand; for millions of benchmark keys a
	// random hint is enough, the hash only has to be unique.
	const alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 40)
	for i := range b {
		b[i] = alphabet[g.rng.IntN(len(alphabet))]
	}
	return "kwk_" + string(b), nil
}

// pathsByArea groups the demo API paths by the scope area they need.
var pathsByArea = func() map[scope.Area][]string {
	m := map[scope.Area][]string{}
	for _, p := range apiPaths {
		a := scope.AreaFor(strings.NewReplacer("%s", "x", "%d", "1").Replace(p))
		m[a] = append(m[a], p)
	}
	return m
}()

// request picks a plausible Tempo API call of a key: mostly in an area it
// was granted, now and then elsewhere (and refused).
func (g *generator) request(k *usedKey) (method, path string) {
	rng := g.rng
	path = apiPaths[rng.IntN(len(apiPaths))]
	if !k.scopes.Full && rng.Float64() >= 0.02 {
		var granted []scope.Area
		for _, a := range scope.All() {
			if k.scopes.Level(a) > scope.LevelNone && len(pathsByArea[a]) > 0 {
				granted = append(granted, a)
			}
		}
		if len(granted) > 0 {
			paths := pathsByArea[granted[rng.IntN(len(granted))]]
			path = paths[rng.IntN(len(paths))]
		}
	}
	owner := k.owner
	switch {
	case strings.Contains(path, "%s"):
		path = fmt.Sprintf(path, owner)
	case strings.Contains(path, "%d"):
		path = fmt.Sprintf(path, 1+rng.IntN(40))
	}
	switch r := rng.Float64(); {
	case strings.HasSuffix(path, "/search"):
		method = "POST"
	case r < 0.04:
		method = "POST"
	case r < 0.06:
		method = "PUT"
	case r < 0.065:
		method = "DELETE"
	default:
		method = "GET"
	}
	return method, path
}

func (g *generator) accessLog() []models.AccessLogEntry {
	o, rng, keys := g.o, g.rng, g.res.recentlyUsed
	if len(keys) == 0 || o.AccessLog <= 0 {
		return nil
	}
	from := o.Now.Add(-time.Duration(o.AccessLogDays) * 24 * time.Hour)
	out := make([]models.AccessLogEntry, 0, o.AccessLog)
	for i := 0; i < o.AccessLog; i++ {
		// Each recently used key first gets a record of its last use; the
		// rest spread between its creation (or the window's start) and
		// that last use, busier keys more often.
		var k usedKey
		at := time.Time{}
		if i < len(keys) {
			k = keys[i]
			at = k.last
		} else {
			k = keys[int(float64(len(keys))*math.Pow(rng.Float64(), 1.5))]
			lo := k.created
			if lo.Before(from) {
				lo = from
			}
			at = k.last
			if k.last.After(lo) {
				at = lo.Add(time.Duration(float64(k.last.Sub(lo)) * rng.Float64()))
			}
		}
		e := models.AccessLogEntry{TenantID: o.TenantID, At: at.Truncate(time.Millisecond), CredentialID: k.id, CredentialKind: models.KindAPIKey,
			OwnerAccountID: k.owner, Method: "GET", Decision: models.DecisionAllow, IP: g.ip(), UserAgent: userAgents[rng.IntN(len(userAgents))]}
		e.Method, e.Path = g.request(&k)
		if !k.scopes.Allows(e.Method, e.Path) {
			e.Decision, e.Reason = models.DecisionDeny, models.ReasonScopeDenied
			g.res.AccessLogDenied++
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b models.AccessLogEntry) int { return a.At.Compare(b.At) })
	g.res.AccessLog = len(out)
	return out
}

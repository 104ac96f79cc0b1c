package credentials

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/scope"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/token"
	"github.com/keyward/keyward/models"
)

// VerifyRequest is one presented credential and the request it is used for.
type VerifyRequest struct {
	Secret    string
	Method    string
	Path      string
	IP        string
	UserAgent string
}

// Result is the verifier's answer. Scopes points into the cache: callers
// must not modify it.
type Result struct {
	Active         bool
	Reason         string // set when !Active
	TenantID       string
	CredentialID   string
	Kind           models.CredentialKind
	OwnerAccountID string
	Scopes         []string
	ExpiresAt      time.Time // zero: no expiry
}

// entry is one cached secret. Fields other than the usage counters are
// immutable after load; a change to the credential replaces the entry.
type entry struct {
	tenantID, credentialID, owner string
	kind                          models.CredentialKind
	set                           scope.Set
	scopes                        []string
	expiresAt                     int64 // unix nanos of the credential's expiry; 0 none
	secretExpiresAt               int64 // unix nanos after which this secret no longer works; 0 none
	revoked                       bool
	ownerInactive                 bool
	siteInactive                  bool
	unknown                       bool // negative entry: no such secret
	accessToken                   bool // an OAuth access token: its secret expiry is its own lifetime
	loadedAt                      int64

	usage usage
}

// Verifier checks presented secrets. Hits are served from memory without
// allocating; misses load from the database. Invalidate evicts a credential
// at once; a poller evicts credentials changed on other replicas.
type Verifier struct {
	store      Store
	log        *logrus.Entry
	now        func() time.Time
	negTTL     time.Duration
	maxEntries int

	mu      sync.RWMutex
	byHash  map[[32]byte]*entry
	byCred  map[string][][32]byte
	epoch   atomic.Uint64 // bumped by every invalidation
	dirtyMu sync.Mutex
	dirty   []*entry

	lastPoll time.Time

	recorder Recorder

	flushMu sync.Mutex
	carry   []models.Usage // usage of a failed flush, retried with the next
}

// NewVerifier returns a verifier reading st.
func NewVerifier(st Store, log *logrus.Entry) *Verifier {
	return &Verifier{
		store: st, log: log, now: time.Now, negTTL: 5 * time.Second, maxEntries: 2_000_000,
		byHash: make(map[[32]byte]*entry), byCred: make(map[string][][32]byte),
	}
}

// maxEntryAge bounds how long a cached credential is trusted without a
// reload: a backstop should a change notice ever be missed.
const maxEntryAge = 30 * time.Second

func (v *Verifier) ttl(e *entry) int64 {
	if e.unknown {
		return int64(v.negTTL)
	}
	return int64(maxEntryAge)
}

// Verify decides whether req.Secret may be used for req.Method on req.Path.
func (v *Verifier) Verify(ctx context.Context, req VerifyRequest) Result {
	kind, err := token.Parse(req.Secret)
	if err != nil || (kind != token.KindAPIKey && kind != token.KindAccessToken) {
		return Result{Reason: models.ReasonMalformed}
	}
	h := token.Hash(req.Secret)
	now := v.now()
	v.mu.RLock()
	e := v.byHash[h]
	v.mu.RUnlock()
	if e == nil || now.UnixNano()-e.loadedAt > v.ttl(e) {
		e = v.load(ctx, h, kind == token.KindAccessToken, now)
	}
	return v.decide(e, req, now)
}

func (v *Verifier) decide(e *entry, req VerifyRequest, now time.Time) Result {
	if e == nil || e.unknown {
		return Result{Reason: models.ReasonUnknown}
	}
	r := Result{TenantID: e.tenantID, CredentialID: e.credentialID, Kind: e.kind, OwnerAccountID: e.owner, Scopes: e.scopes}
	if exp := e.resultExpiry(); exp != 0 {
		r.ExpiresAt = time.Unix(0, exp).UTC()
	}
	n := now.UnixNano()
	switch {
	case e.revoked:
		r.Reason = models.ReasonRevoked
	case e.expiresAt != 0 && n >= e.expiresAt:
		r.Reason = models.ReasonExpired
	case e.secretExpiresAt != 0 && n >= e.secretExpiresAt:
		// An access token past its own lifetime has expired; an API key
		// secret replaced by a regenerate was revoked (the credential lives
		// on, this secret does not).
		r.Reason = models.ReasonRevoked
		if e.accessToken {
			r.Reason = models.ReasonExpired
		}
	case e.siteInactive:
		r.Reason = models.ReasonSiteInactive
	case e.ownerInactive:
		r.Reason = models.ReasonOwnerInactive
	case !e.set.Allows(req.Method, req.Path):
		r.Reason = models.ReasonScopeDenied
	default:
		r.Active = true
		if e.usage.record(n, req.IP, req.UserAgent) {
			v.markDirty(e)
		}
	}
	return r
}

// resultExpiry is the expiry a Result reports: the credential's, or for an
// access token the earlier of the grant's and the token's own.
func (e *entry) resultExpiry() int64 {
	if e.accessToken && e.secretExpiresAt != 0 && (e.expiresAt == 0 || e.secretExpiresAt < e.expiresAt) {
		return e.secretExpiresAt
	}
	return e.expiresAt
}

// load reads a secret from the database and caches it, unless an
// invalidation raced with the read. accessToken tells the kind of secret.
func (v *Verifier) load(ctx context.Context, h [32]byte, accessToken bool, now time.Time) *entry {
	epoch := v.epoch.Load()
	m, err := v.store.FindBySecret(ctx, h[:])
	var e *entry
	switch {
	case errors.Is(err, models.ErrNotFound):
		e = &entry{unknown: true, loadedAt: now.UnixNano()}
	case err != nil:
		v.log.WithError(err).Error("verifier: credential lookup failed")
		return nil
	default:
		set, perr := scope.ParseString(m.Scopes)
		if perr != nil {
			v.log.WithField("credential", m.ID).Error("verifier: stored scopes do not parse; refusing")
		}
		e = &entry{
			tenantID: m.TenantID, credentialID: m.ID, owner: m.OwnerAccountID, kind: m.Kind,
			set: set, scopes: set.Strings(), revoked: m.RevokedAt != nil, ownerInactive: !m.OwnerActive, siteInactive: m.TenantState != models.TenantInstalled,
			accessToken: accessToken, loadedAt: now.UnixNano(),
		}
		if m.ExpiresAt != nil {
			e.expiresAt = m.ExpiresAt.UnixNano()
		}
		if m.SecretExpiresAt != nil {
			e.secretExpiresAt = m.SecretExpiresAt.UnixNano()
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.epoch.Load() != epoch {
		return e // an invalidation happened during the read: answer, don't cache
	}
	if len(v.byHash) >= v.maxEntries {
		v.byHash = make(map[[32]byte]*entry)
		v.byCred = make(map[string][][32]byte)
	}
	v.byHash[h] = e
	if !e.unknown && !slices.Contains(v.byCred[e.credentialID], h) {
		v.byCred[e.credentialID] = append(v.byCred[e.credentialID], h)
	}
	return e
}

// Invalidate evicts every cached secret of the credentials.
func (v *Verifier) Invalidate(credentialIDs ...string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.epoch.Add(1)
	for _, id := range credentialIDs {
		for _, h := range v.byCred[id] {
			delete(v.byHash, h)
		}
		delete(v.byCred, id)
	}
}

// PollChanges evicts credentials that changed in the database since the
// previous poll (on any replica). It is safe to call concurrently with
// Verify, but only one goroutine may poll (RunPoller); run it every
// KEYWARD_REVOCATION_POLL.
func (v *Verifier) PollChanges(ctx context.Context) error {
	now, err := v.store.Now(ctx)
	if err != nil {
		return err
	}
	since := v.lastPoll
	if since.IsZero() {
		since = now
	}
	// Overlap by a few seconds to tolerate clock skew between replicas and
	// transactions that committed after their updated_at.
	ids, err := v.store.ChangedSince(ctx, since.Add(-5*time.Second))
	if err != nil {
		return err
	}
	v.lastPoll = now
	switch {
	case len(ids) >= store.ChangedSinceLimit:
		// More changes than one poll reads: forget everything rather than
		// risk keeping a revoked secret.
		v.InvalidateAll()
	case len(ids) > 0:
		v.Invalidate(ids...)
	}
	return nil
}

// InvalidateAll empties the cache.
func (v *Verifier) InvalidateAll() {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.epoch.Add(1)
	v.byHash = make(map[[32]byte]*entry)
	v.byCred = make(map[string][][32]byte)
}

// RunPoller calls PollChanges every interval until ctx ends.
func (v *Verifier) RunPoller(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := v.PollChanges(ctx); err != nil && ctx.Err() == nil {
				v.log.WithError(err).Warn("verifier: change poll failed")
			}
		}
	}
}

// Recorder receives one access log record per verification.
type Recorder interface {
	Enqueue(e models.AccessLogEntry) bool
}

// SetRecorder makes Check record every verification; nil turns it off.
func (v *Verifier) SetRecorder(r Recorder) { v.recorder = r }

// Check verifies like Verify and appends the decision to the access log.
func (v *Verifier) Check(ctx context.Context, req VerifyRequest) Result {
	r := v.Verify(ctx, req)
	if v.recorder != nil {
		d := models.DecisionAllow
		if !r.Active {
			d = models.DecisionDeny
		}
		v.recorder.Enqueue(models.AccessLogEntry{
			TenantID: r.TenantID, At: v.now().UTC(), CredentialID: r.CredentialID, CredentialKind: r.Kind, OwnerAccountID: r.OwnerAccountID,
			Method: req.Method, Path: loggedPath(req.Path), Decision: d, Reason: r.Reason, IP: req.IP, UserAgent: req.UserAgent,
		})
	}
	return r
}

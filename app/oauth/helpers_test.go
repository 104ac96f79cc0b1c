package oauth_test

import (
	"context"
	"io"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/oauth"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/models"
)

const (
	issuer   = "https://keyward.example.com"
	appKey   = "io.keyward.tempo-access"
	alice    = "557058:alice"
	bob      = "557058:bob"
	admin    = "557058:admin"
	verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk" // RFC 7636 Appendix B
	chal     = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
)

type clock struct{ ns atomic.Int64 }

func newClock() *clock {
	c := &clock{}
	c.ns.Store(time.Now().UTC().Truncate(time.Second).UnixNano())
	return c
}
func (c *clock) Now() time.Time          { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) Advance(d time.Duration) { c.ns.Add(int64(d)) }

// fakeGroups says who is in which group.
type fakeGroups struct {
	mu      sync.Mutex
	members map[string][]string // accountId -> groups
}

func (g *fakeGroups) IsGroupMember(_ context.Context, _ *models.Tenant, accountID string, groups []string) (bool, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, x := range g.members[accountID] {
		if slices.Contains(groups, x) {
			return true, nil
		}
	}
	return false, nil
}

// env is the authorization server on a real database with two Connect
// sites (A and B).
type env struct {
	t       testing.TB
	db      *store.DB
	svc     *oauth.Service
	creds   *credentials.Service
	ver     *credentials.Verifier
	clock   *clock
	groups  *fakeGroups
	a, b    *models.Tenant
	userA   oauth.User
	userB   oauth.User
	adminA  oauth.Admin
	adminB  oauth.Admin
	oauthDB *store.OAuth
}

func quietLog() *logrus.Entry {
	l := logrus.New()
	l.SetOutput(io.Discard)
	return logrus.NewEntry(l)
}

func forEachDialect(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	storetest.ForEachDialect(t, func(t *testing.T, db *store.DB) { fn(t, newEnv(t, db)) })
}

func newEnv(t testing.TB, db *store.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, clock: newClock(), groups: &fakeGroups{members: map[string][]string{}}}
	ts := store.NewTenants(db)
	for i, id := range []string{"tenant-a", "tenant-b"} {
		now := e.clock.Now()
		tn := &models.Tenant{ID: id, ClientKey: "ck-" + id, BaseURL: "https://" + id + ".atlassian.net", State: models.TenantInstalled, CreatedAt: now, UpdatedAt: now}
		if err := ts.Create(context.Background(), tn); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			e.a = tn
		} else {
			e.b = tn
		}
	}
	e.userA, e.userB = oauth.User{Tenant: e.a, AccountID: alice}, oauth.User{Tenant: e.b, AccountID: alice}
	e.adminA, e.adminB = oauth.Admin{TenantID: e.a.ID, AccountID: admin}, oauth.Admin{TenantID: e.b.ID, AccountID: admin}
	credStore := store.NewCredentials(db)
	e.ver = credentials.NewVerifier(credStore, quietLog())
	e.creds = credentials.NewService(credStore, store.NewAudit(db), db, e.ver, quietLog())
	e.oauthDB = store.NewOAuth(db)
	e.svc = oauth.NewService(oauth.Config{Issuer: issuer, Consent: oauth.ConsentPages{BaseURL: issuer, AppKey: appKey}}, oauth.Deps{
		Store: e.oauthDB, Credentials: credStore, Revoker: e.creds, Tenants: ts, Groups: e.groups,
		Audit: store.NewAudit(db), Tx: db, Log: quietLog(),
	})
	e.svc.SetClock(e.clock.Now)
	return e
}

func ptr[T any](v T) *T { return &v }

// client registers a client in site A (or the admin's site).
func (e *env) client(a oauth.Admin, typ models.OAuthClientType, mutate ...func(*oauth.ClientInput)) *oauth.IssuedClient {
	e.t.Helper()
	in := oauth.ClientInput{
		Name: ptr("Timesheet sync"), Type: typ,
		RedirectURIs:  []string{"https://app.example.com/callback", "http://127.0.0.1/native/cb"},
		AllowedScopes: []string{"worklogs:manage", "teams:view"},
	}
	for _, m := range mutate {
		m(&in)
	}
	ic, err := e.svc.CreateClient(context.Background(), a, in)
	if err != nil {
		e.t.Fatalf("CreateClient: %v", err)
	}
	return ic
}

// authorize runs GET /oauth/authorize and returns the location.
func (e *env) authorize(q url.Values) (string, error) {
	return e.svc.Authorize(context.Background(), q)
}

// requestID extracts the request id from a consent page URL.
func requestID(t testing.TB, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	id := u.Query().Get("ac.request")
	if id == "" {
		t.Fatalf("no ac.request in consent location %q", loc)
	}
	return id
}

// authParams are the parameters of a good authorization request.
func authParams(clientID string, extra ...string) url.Values {
	q := url.Values{
		"client_id": {clientID}, "response_type": {"code"}, "redirect_uri": {"https://app.example.com/callback"},
		"scope": {"worklogs:view"}, "state": {"xyz-state"}, "code_challenge": {chal}, "code_challenge_method": {"S256"},
	}
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			q.Del(extra[i])
		} else {
			q.Set(extra[i], extra[i+1])
		}
	}
	return q
}

// code runs authorize and an approving consent and returns the code.
func (e *env) code(u oauth.User, q url.Values) string {
	e.t.Helper()
	loc, err := e.authorize(q)
	if err != nil {
		e.t.Fatalf("authorize: %v", err)
	}
	to, err := e.svc.Decide(context.Background(), u, requestID(e.t, loc), true)
	if err != nil {
		e.t.Fatalf("decide: %v", err)
	}
	r, err := url.Parse(to)
	if err != nil {
		e.t.Fatal(err)
	}
	c := r.Query().Get("code")
	if c == "" || r.Query().Get("state") != q.Get("state") || r.Query().Get("iss") != issuer {
		e.t.Fatalf("decision redirect %q lacks code, state or iss", to)
	}
	return c
}

func (e *env) token(c *models.OAuthClient, kv ...string) (*oauth.TokenResponse, error) {
	f := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return e.svc.Token(context.Background(), c, f)
}

// exchange redeems a code for a confidential client with the PKCE verifier.
func (e *env) exchange(c *models.OAuthClient, code string) *oauth.TokenResponse {
	e.t.Helper()
	tr, err := e.token(c, "grant_type", "authorization_code", "code", code, "redirect_uri", "https://app.example.com/callback", "code_verifier", verifier)
	if err != nil {
		e.t.Fatalf("exchange: %v", err)
	}
	return tr
}

func (e *env) verify(secret, method, path string) credentials.Result {
	return e.ver.Verify(context.Background(), credentials.VerifyRequest{Secret: secret, Method: method, Path: path, IP: "203.0.113.7"})
}

// wantOAuthError fails unless err is an *oauth.Error with the code.
func wantOAuthError(t testing.TB, what string, err error, code string) *oauth.Error {
	t.Helper()
	oe, ok := oauth.AsError(err)
	if !ok || oe.Code != code {
		t.Fatalf("%s: error %v, want oauth error %q", what, err, code)
	}
	return oe
}

func grantStatus(t testing.TB, e *env, tenant, id string) models.CredentialStatus {
	t.Helper()
	c, err := store.NewCredentials(e.db).Get(context.Background(), tenant, id)
	if err != nil {
		t.Fatalf("get grant: %v", err)
	}
	return c.Status(e.clock.Now())
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

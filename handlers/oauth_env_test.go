package handlers_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/oauth"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/models"
)

const (
	oaAlice      = "557058:alice-oauth"
	oaBob        = "557058:bob-oauth"
	oaAdmin      = "557058:admin-oauth"
	oaRSToken    = "resource-server-token-for-tests"
	oaRedirect   = "https://app.example.com/callback"
	oaSecretA    = "shared-secret-of-site-a-0123456789"
	oaSecretB    = "shared-secret-of-site-b-0123456789"
	oaClientKeyA = "oauth-site-a"
	oaClientKeyB = "oauth-site-b"
)

// oauthEnv is the real router with real services behind a real HTTP
// server (the issuer), with two Connect sites installed.
type oauthEnv struct {
	t    *testing.T
	srv  *httptest.Server
	db   *store.DB
	a, b *models.Tenant
	logs *syncBuffer
}

// staticAdmins makes oaAdmin the administrator of every site.
type staticAdmins struct{}

func (staticAdmins) IsSiteAdmin(_ context.Context, _ *models.Tenant, accountID string) (bool, error) {
	return accountID == oaAdmin, nil
}

func forEachOAuthDialect(t *testing.T, fn func(t *testing.T, e *oauthEnv)) {
	t.Helper()
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newOAuthEnv(t, storetest.Open(t, d)))
		})
	}
}

func newOAuthEnv(t *testing.T, db *store.DB) *oauthEnv {
	t.Helper()
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	l := logrus.New()
	l.SetOutput(logs)
	l.SetLevel(logrus.DebugLevel)
	l.SetFormatter(&logrus.JSONFormatter{})
	log := logrus.NewEntry(l)

	audit := store.NewAudit(db)
	tenantSvc := tenants.NewService(store.NewTenants(db), sealer, audit, db, log, 365)
	e := &oauthEnv{t: t, db: db, logs: logs}
	for _, s := range []struct {
		key, secret string
		dst         **models.Tenant
	}{{oaClientKeyA, oaSecretA, &e.a}, {oaClientKeyB, oaSecretB, &e.b}} {
		tn, err := tenantSvc.ConnectInstalled(context.Background(), tenants.InstallPayload{
			Key: appKey, ClientKey: s.key, SharedSecret: s.secret, BaseURL: "https://" + s.key + ".atlassian.net", ProductType: "jira", EventType: "installed",
		})
		if err != nil {
			t.Fatalf("install %s: %v", s.key, err)
		}
		*s.dst = tn
	}

	var router http.Handler
	e.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { router.ServeHTTP(w, r) }))
	t.Cleanup(e.srv.Close)

	credStore := store.NewCredentials(db)
	verifier := credentials.NewVerifier(credStore, log)
	keySvc := credentials.NewService(credStore, audit, db, verifier, log)
	oauthSvc := oauth.NewService(oauth.Config{Issuer: e.srv.URL, Consent: oauth.ConsentPages{BaseURL: e.srv.URL, AppKey: appKey}}, oauth.Deps{
		Store: store.NewOAuth(db), Credentials: credStore, Revoker: keySvc, Tenants: tenantSvc, Audit: audit, Tx: db, Log: log,
	})
	router = handlers.New(handlers.Deps{
		Log: log, BaseURL: appBaseURL, BodyLimit: "16K", JWTLeeway: 10 * time.Second,
		DB: db, Tenants: tenantSvc, Lifecycle: tenantSvc,
		Keys: keySvc, AccessLog: store.NewAccessLog(db), Lifetime: tenantSvc, Checker: verifier, VerifyTokens: []string{oaRSToken},
		Admins: staticAdmins{}, OAuth: oauthSvc, OAuthClients: oauthSvc,
	})
	return e
}

// userJWT is a Connect context JWT (as AP.context.getToken gives the page)
// for a user of a site.
func userJWT(t *testing.T, clientKey, secret, accountID string) string {
	t.Helper()
	now := time.Now()
	seg := func(v any) string {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	input := seg(map[string]any{"alg": "HS256", "typ": "JWT"}) + "." +
		seg(map[string]any{"iss": clientKey, "sub": accountID, "iat": now.Add(-5 * time.Second).Unix(), "exp": now.Add(3 * time.Minute).Unix(), "qsh": auth.ContextQSH})
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

func (e *oauthEnv) aliceA() string { return userJWT(e.t, oaClientKeyA, oaSecretA, oaAlice) }
func (e *oauthEnv) adminA() string { return userJWT(e.t, oaClientKeyA, oaSecretA, oaAdmin) }
func (e *oauthEnv) adminB() string { return userJWT(e.t, oaClientKeyB, oaSecretB, oaAdmin) }

// noRedirect is an HTTP client that shows redirects instead of following.
func (e *oauthEnv) noRedirect() *http.Client {
	c := *e.srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

type oaResponse struct {
	status int
	header http.Header
	body   []byte
}

func (r *oaResponse) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %s", r.body)
	}
	return m
}

// call sends a request to the real server. body may be nil, []byte (JSON)
// or url.Values (a form). header are name/value pairs.
func (e *oauthEnv) call(method, path string, body any, header ...string) *oaResponse {
	e.t.Helper()
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case []byte:
		rd, ct = bytes.NewReader(b), "application/json"
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	case map[string]any:
		j, _ := json.Marshal(b)
		rd, ct = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := e.noRedirect().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return &oaResponse{status: resp.StatusCode, header: resp.Header, body: b}
}

func jwtAuth(tok string) []string { return []string{"Authorization", "JWT " + tok} }

// registerClient registers a client through the admin API of site A.
func (e *oauthEnv) registerClient(body map[string]any) (id, secret string) {
	e.t.Helper()
	r := e.call("POST", "/api/admin/v1/oauth/clients", body, jwtAuth(e.adminA())...)
	if r.status != http.StatusCreated {
		e.t.Fatalf("register client: %d %s", r.status, r.body)
	}
	m := r.json(e.t)
	c := m["client"].(map[string]any)
	s, _ := m["clientSecret"].(string)
	return c["id"].(string), s
}

// consent follows an authorization URL to the consent page, then approves
// (or denies) as the user through the consent API, and returns the URL the
// page would send the top window to.
func (e *oauthEnv) consent(authURL, userToken string, approve bool) *url.URL {
	e.t.Helper()
	resp, err := e.noRedirect().Get(authURL)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || loc == nil || loc.Host != oaClientKeyA+".atlassian.net" || !strings.HasPrefix(loc.Path, "/plugins/servlet/ac/"+appKey+"/keyward-consent") {
		e.t.Fatalf("authorize: %d to %q, want the consent page in site A's Jira", resp.StatusCode, resp.Header.Get("Location"))
	}
	id := loc.Query().Get("ac.request")
	r := e.call("GET", "/api/me/v1/oauth/requests/"+url.PathEscape(id), nil, jwtAuth(userToken)...)
	if r.status != http.StatusOK {
		e.t.Fatalf("consent request: %d %s", r.status, r.body)
	}
	r = e.call("POST", "/api/me/v1/oauth/requests/"+url.PathEscape(id)+"/decision", map[string]any{"approve": approve}, jwtAuth(userToken)...)
	if r.status != http.StatusOK {
		e.t.Fatalf("decision: %d %s", r.status, r.body)
	}
	to, err := url.Parse(r.json(e.t)["redirectTo"].(string))
	if err != nil {
		e.t.Fatal(err)
	}
	return to
}

// verify asks /v1/verify as a resource server.
func (e *oauthEnv) verify(credential, method, path string) map[string]any {
	e.t.Helper()
	r := e.call("POST", "/v1/verify", map[string]any{"credential": credential, "method": method, "path": path}, "Authorization", "Bearer "+oaRSToken)
	if r.status != http.StatusOK {
		e.t.Fatalf("verify: %d %s", r.status, r.body)
	}
	return r.json(e.t)
}

func (e *oauthEnv) noSecretsInLogs(secrets ...string) {
	e.t.Helper()
	logs := e.logs.String()
	for _, s := range secrets {
		if s != "" && strings.Contains(logs, s) {
			e.t.Errorf("logs contain a secret: %.12s…", s)
		}
	}
}

func strs(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	slices.Sort(out)
	return out
}

package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/audit"
	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/models"
)

// kaRSToken is the KEYWARD_VERIFY_TOKENS entry of the test
// servers.
const kaRSToken = "rs-token-0123456789abcdef"

// kaSite is a Connect tenant installed with a known shared secret.
type kaSite struct {
	clientKey string
	secret    string
	tenant    *models.Tenant
}

// kaServer is the real router wired as app/serve.go wires it: tenant
// service, key service, verifier with the access log writer, on a real
// database.
type kaServer struct {
	t         testing.TB
	db        *store.DB
	e         *echo.Echo
	verifier  *credentials.Verifier
	accessLog *audit.AccessLogWriter
	stopLog   context.CancelFunc
	tenants   *tenants.Service
}

func newKAServer(t testing.TB, db *store.DB, withAccessLog bool) *kaServer {
	t.Helper()
	l := logrus.New()
	l.SetOutput(io.Discard)
	log := logrus.NewEntry(l)
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	auditStore := store.NewAudit(db)
	tenantSvc := tenants.NewService(store.NewTenants(db), sealer, auditStore, db, log, 365)
	credStore := store.NewCredentials(db)
	verifier := credentials.NewVerifier(credStore, log)
	keySvc := credentials.NewService(credStore, auditStore, db, verifier, log)
	accessLogStore := store.NewAccessLog(db)
	s := &kaServer{t: t, db: db, verifier: verifier, tenants: tenantSvc}
	if withAccessLog {
		s.accessLog = audit.NewAccessLogWriter(accessLogStore, log, 4096)
		verifier.SetRecorder(s.accessLog)
		ctx, cancel := context.WithCancel(context.Background())
		s.stopLog = cancel
		go s.accessLog.Run(ctx)
		t.Cleanup(s.flushAccessLog)
	}
	s.e = handlers.New(handlers.Deps{
		Log: log, BaseURL: "https://keyward.example.com", BodyLimit: "1M", JWTLeeway: 10 * time.Second, Descriptor: []byte(`{}`),
		DB: db, Tenants: tenantSvc, Lifecycle: tenantSvc, Install: &auth.InstallVerifier{},
		Keys: keySvc, AccessLog: accessLogStore, Lifetime: tenantSvc, Checker: verifier, VerifyTokens: []string{"other-rs-token-xyz", kaRSToken},
	})
	return s
}

// flushAccessLog stops the access log writer and waits until it has written
// everything queued (Run drains on cancel). Later verifications are not
// recorded.
func (s *kaServer) flushAccessLog() {
	if s.accessLog == nil || s.stopLog == nil {
		return
	}
	s.stopLog()
	s.stopLog = nil
	s.accessLog.Wait()
}

// install creates a Connect tenant through the tenant service, as the
// installed lifecycle callback does after verifying the signed install.
func (s *kaServer) install(clientKey string) *kaSite {
	s.t.Helper()
	secret := "shared-secret-of-" + clientKey + "-0123456789"
	tn, err := s.tenants.ConnectInstalled(context.Background(), tenants.InstallPayload{
		Key: "io.keyward.tempo-access", ClientKey: clientKey, SharedSecret: secret,
		BaseURL: "https://" + clientKey + ".atlassian.net", ProductType: "jira", EventType: "installed",
	})
	if err != nil {
		s.t.Fatalf("install %s: %v", clientKey, err)
	}
	return &kaSite{clientKey: clientKey, secret: secret, tenant: tn}
}

// contextJWT is a Connect context token (qsh "context-qsh") of a user of
// the site, as AP.context.getToken() returns it.
func (st *kaSite) contextJWT(t testing.TB, accountID string) string {
	t.Helper()
	return kaSignJWT(t, st.clientKey, accountID, auth.ContextQSH, []byte(st.secret))
}

func kaSignJWT(t testing.TB, clientKey, accountID, qsh string, secret []byte) string {
	t.Helper()
	now := time.Now()
	tok, err := jwt.NewBuilder().Issuer(clientKey).Subject(accountID).IssuedAt(now).Expiration(now.Add(3*time.Minute)).Claim("qsh", qsh).Build()
	if err != nil {
		t.Fatal(err)
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256, secret))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// kaResponse is a recorded HTTP response.
type kaResponse struct {
	status int
	header http.Header
	body   []byte
}

// decode unmarshals the body into v, failing the test on error.
func (r kaResponse) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errorFields returns the field names of a 400 error body.
func (r kaResponse) errorFields(t testing.TB) []string {
	t.Helper()
	var body struct {
		Error struct {
			Code   string `json:"code"`
			Fields []struct {
				Field   string `json:"field"`
				Message string `json:"message"`
			} `json:"fields"`
		} `json:"error"`
	}
	r.decode(t, &body)
	var out []string
	for _, f := range body.Error.Fields {
		out = append(out, f.Field)
	}
	return out
}

// do sends a request through the router. auth is the whole Authorization
// header value ("" for none).
func (s *kaServer) do(method, path, authz, contentType string, body []byte) kaResponse {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.RemoteAddr = "192.0.2.10:4711"
	rec := httptest.NewRecorder()
	s.e.ServeHTTP(rec, req)
	return kaResponse{status: rec.Code, header: rec.Header(), body: rec.Body.Bytes()}
}

// user calls the self-service API as a signed-in user of a site.
func (s *kaServer) user(st *kaSite, accountID, method, path string, body any) kaResponse {
	s.t.Helper()
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		var err error
		if raw, err = json.Marshal(b); err != nil {
			s.t.Fatal(err)
		}
	}
	ct := ""
	if raw != nil {
		ct = "application/json"
	}
	return s.do(method, path, "JWT "+st.contextJWT(s.t, accountID), ct, raw)
}

// kaVerifyReq is the /v1/verify request.
type kaVerifyReq struct {
	Credential string `json:"credential"`
	Method     string `json:"method"`
	Path       string `json:"path"`
	IP         string `json:"ip,omitempty"`
	UserAgent  string `json:"userAgent,omitempty"`
}

// kaVerifyResp is the /v1/verify response.
type kaVerifyResp struct {
	Active       bool       `json:"active"`
	Reason       string     `json:"reason"`
	Tenant       string     `json:"tenant"`
	Principal    string     `json:"principal"`
	CredentialID string     `json:"credentialId"`
	Kind         string     `json:"kind"`
	Scopes       []string   `json:"scopes"`
	ExpiresAt    *time.Time `json:"expiresAt"`
}

// verify asks /v1/verify as a resource server.
func (s *kaServer) verify(secret, method, path string) kaVerifyResp {
	s.t.Helper()
	b, _ := json.Marshal(kaVerifyReq{Credential: secret, Method: method, Path: path, IP: "203.0.113.9", UserAgent: "tempo-api/1"})
	r := s.do(http.MethodPost, "/v1/verify", "Bearer "+kaRSToken, "application/json", b)
	if r.status != http.StatusOK {
		s.t.Fatalf("POST /v1/verify: %d %s", r.status, r.body)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		s.t.Errorf("/v1/verify Cache-Control %q, want no-store", cc)
	}
	var a kaVerifyResp
	r.decode(s.t, &a)
	return a
}

// rowCounts counts the rows of every table a key change may touch.
func (s *kaServer) rowCounts() map[string]int {
	s.t.Helper()
	out := map[string]int{}
	for _, table := range []string{"tenants", "credentials", "credential_secrets", "audit_events", "access_log"} {
		var n int
		if err := s.db.SQL().QueryRow("SELECT COUNT(*) FROM " + table).Scan(&n); err != nil {
			s.t.Fatalf("count %s: %v", table, err)
		}
		out[table] = n
	}
	return out
}

// kaIssued is the create/regenerate response.
type kaIssued struct {
	Key struct {
		ID         string     `json:"id"`
		Kind       string     `json:"kind"`
		Name       string     `json:"name"`
		Hint       string     `json:"hint"`
		Access     string     `json:"access"`
		Scopes     []string   `json:"scopes"`
		Status     string     `json:"status"`
		ExpiresAt  *time.Time `json:"expiresAt"`
		UseCount   int64      `json:"useCount"`
		LastUsedIP string     `json:"lastUsedIp"`
	} `json:"key"`
	Secret string `json:"secret"`
	Notice string `json:"notice"`
}

// createKey creates a key through the API or fails the test.
func (s *kaServer) createKey(st *kaSite, accountID string, body any) kaIssued {
	s.t.Helper()
	r := s.user(st, accountID, http.MethodPost, "/api/me/v1/keys", body)
	if r.status != http.StatusCreated {
		s.t.Fatalf("create key: %d %s", r.status, r.body)
	}
	var k kaIssued
	r.decode(s.t, &k)
	return k
}

func kaMustNotShow(t testing.TB, what string, body []byte, secret string) {
	t.Helper()
	if secret != "" && strings.Contains(string(body), secret) {
		t.Fatalf("%s shows the secret: %s", what, body)
	}
}

package handlers_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/seal"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/store/storetest"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/handlers"
	"github.com/keyward/keyward/manifest"
	"github.com/keyward/keyward/models"
)

const (
	appBaseURL = "https://keyward.example.com"
	appKey     = "io.keyward.tempo-access"
	forgeAppID = "ari:cloud:ecosystem::app/3f9c2a1b-3333-4e5f-9a8b-7c6d5e4f3a2b"
	bodyLimit  = 16 << 10
	accountID  = "5b10ac8d82e05b22cc7d4ef5"
)

// env is the real router with real services on a fresh database, a local
// Connect install-key server and a local Forge JWKS server.
type env struct {
	t       *testing.T
	e       *echo.Echo
	db      *store.DB
	tenants *store.Tenants
	svc     *tenants.Service
	keys    *keyServer
	jwks    *jwksServer
	logs    *syncBuffer
}

// forEachDialect runs fn as a parallel subtest per dialect, each with its
// own env.
func forEachDialect(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, d := range storetest.Dialects() {
		t.Run(d, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, storetest.Open(t, d)))
		})
	}
}

func newEnv(t *testing.T, db *store.DB) *env {
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

	ts := store.NewTenants(db)
	svc := tenants.NewService(ts, sealer, store.NewAudit(db), db, log, 365)
	keys := newKeyServer(t, map[string]*rsa.PrivateKey{"kid-1": rsaKey(t, 0)})
	jwks := newJWKSServer(t, map[string]*rsa.PrivateKey{"fit-1": rsaKey(t, 0)})
	client := &http.Client{Timeout: 5 * time.Second}
	fit, err := auth.NewFITVerifier(t.Context(), jwks.URL, forgeAppID, client, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	descriptor, err := manifest.Connect(manifest.Params{AppKey: appKey, BaseURL: appBaseURL, ForgeAppID: forgeAppID})
	if err != nil {
		t.Fatal(err)
	}
	e := handlers.New(handlers.Deps{
		Log: log, BaseURL: appBaseURL, BodyLimit: "16K", JWTLeeway: 10 * time.Second, Descriptor: descriptor,
		DB: db, Tenants: svc, Lifecycle: svc,
		Install: &auth.InstallVerifier{Keys: auth.NewInstallKeyFetcher(keys.URL, client), BaseURL: appBaseURL, Leeway: 10 * time.Second},
		FIT:     fit,
	})
	return &env{t: t, e: e, db: db, tenants: ts, svc: svc, keys: keys, jwks: jwks, logs: logs}
}

// do sends one request through the router.
func (e *env) do(method, target string, body []byte, header ...string) *httptest.ResponseRecorder {
	e.t.Helper()
	var r io.Reader
	if body != nil {
		r = bytes.NewReader(body)
	}
	req := httptest.NewRequest(method, target, r)
	if body != nil {
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	rec := httptest.NewRecorder()
	e.e.ServeHTTP(rec, req)
	return rec
}

func jwtHeader(token string) []string    { return []string{"Authorization", "JWT " + token} }
func bearerHeader(token string) []string { return []string{"Authorization", "Bearer " + token} }

// install sends a signed installed callback and returns the response.
func (e *env) install(p map[string]any, kid string, key *rsa.PrivateKey) *httptest.ResponseRecorder {
	e.t.Helper()
	tok := installToken(e.t, kid, key, p["clientKey"].(string), "/lifecycle/installed", nil)
	return e.do(http.MethodPost, "/lifecycle/installed", mustJSON(e.t, p), jwtHeader(tok)...)
}

// installOK installs p with the current signing key and checks the 204.
func (e *env) installOK(p map[string]any) *models.Tenant {
	e.t.Helper()
	rec := e.install(p, "kid-1", rsaKey(e.t, 0))
	if rec.Code != http.StatusNoContent {
		e.t.Fatalf("signed install: %d %s\nlogs: %s", rec.Code, rec.Body, e.logs)
	}
	tn, err := e.tenants.ByClientKey(context.Background(), p["clientKey"].(string))
	if err != nil {
		e.t.Fatalf("tenant after install: %v", err)
	}
	return tn
}

func (e *env) state(clientKey string) models.TenantState {
	e.t.Helper()
	tn, err := e.tenants.ByClientKey(context.Background(), clientKey)
	if err != nil {
		e.t.Fatalf("tenant %s: %v", clientKey, err)
	}
	return tn.State
}

// wantUnauthorized checks the one refusal every bad credential gets: 401
// with the generic body and nothing about why.
func wantUnauthorized(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code != http.StatusUnauthorized {
		t.Errorf("%s: status %d, want 401 (body %s)", what, rec.Code, rec.Body)
		return
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Errorf("%s: body is not JSON: %s", what, rec.Body)
		return
	}
	want := map[string]any{"code": "unauthorized", "message": "authentication required or invalid"}
	if len(body) != 1 || len(body["error"]) != 2 || body["error"]["code"] != want["code"] || body["error"]["message"] != want["message"] {
		t.Errorf("%s: body %s, want only %v", what, rec.Body, want)
	}
}

// wantError checks a JSON error response with the given status and code.
func wantError(t *testing.T, what string, rec *httptest.ResponseRecorder, status int, code string) map[string]any {
	t.Helper()
	if rec.Code != status {
		t.Errorf("%s: status %d, want %d (body %s)", what, rec.Code, status, rec.Body)
		return nil
	}
	if ct := rec.Header().Get(echo.HeaderContentType); !strings.HasPrefix(ct, echo.MIMEApplicationJSON) {
		t.Errorf("%s: Content-Type %q, want JSON", what, ct)
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"]["code"] != code || body["error"]["message"] == "" {
		t.Errorf("%s: body %s, want error code %q with a message", what, rec.Body, code)
		return nil
	}
	return body["error"]
}

func decode(t *testing.T, rec *httptest.ResponseRecorder) map[string]string {
	t.Helper()
	var out map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
		t.Fatalf("decode %s: %v", rec.Body, err)
	}
	return out
}

// installPayload reads testdata/connect_installed.json, optionally with
// another clientKey and shared secret.
func installPayload(t *testing.T, clientKey, secret string) map[string]any {
	t.Helper()
	var p map[string]any
	readJSON(t, "testdata/connect_installed.json", &p)
	if clientKey != "" {
		p["clientKey"] = clientKey
		p["installationId"] = "ari:cloud:ecosystem::installation/" + clientKey
	}
	if secret != "" {
		p["sharedSecret"] = secret
	}
	return p
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// --- tokens -----------------------------------------------------------

func segment(t *testing.T, v any) string {
	t.Helper()
	return base64.RawURLEncoding.EncodeToString(mustJSON(t, v))
}

// signHS256 makes an HMAC token with any header and claims: SHA-384 or
// SHA-512 when the header says HS384 or HS512, SHA-256 otherwise.
func signHS256(t *testing.T, header map[string]any, claims any, key []byte) string {
	t.Helper()
	input := segment(t, header) + "." + segment(t, claims)
	h := sha256.New
	switch header["alg"] {
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	}
	m := hmac.New(h, key)
	m.Write([]byte(input))
	return input + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// signRS256 makes an RS256 token with any header and claims.
func signRS256(t *testing.T, header, claims any, key *rsa.PrivateKey) string {
	t.Helper()
	input := segment(t, header) + "." + segment(t, claims)
	d := sha256.Sum256([]byte(input))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, d[:])
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + base64.RawURLEncoding.EncodeToString(sig)
}

// edit applies changes to claims; a nil value deletes the claim.
func edit(claims, changes map[string]any) map[string]any {
	for k, v := range changes {
		if v == nil {
			delete(claims, k)
		} else {
			claims[k] = v
		}
	}
	return claims
}

// connectClaims are the claims of a valid Connect JWT for a request.
func connectClaims(clientKey, method, path, rawQuery string) map[string]any {
	now := time.Now()
	return map[string]any{
		"iss": clientKey, "sub": accountID, "iat": now.Add(-5 * time.Second).Unix(), "exp": now.Add(3 * time.Minute).Unix(),
		"qsh": auth.QSH(method, path, rawQuery),
	}
}

// connectToken makes a Connect JWT with a real qsh for method and path.
func connectToken(t *testing.T, clientKey, secret, method, path string, changes map[string]any) string {
	t.Helper()
	return signHS256(t, map[string]any{"alg": "HS256", "typ": "JWT"}, edit(connectClaims(clientKey, method, path, ""), changes), []byte(secret))
}

// contextToken makes a Connect context JWT (qsh "context-qsh").
func contextToken(t *testing.T, clientKey, secret string, changes map[string]any) string {
	t.Helper()
	c := connectClaims(clientKey, "GET", "/", "")
	c["qsh"] = auth.ContextQSH
	return signHS256(t, map[string]any{"alg": "HS256", "typ": "JWT"}, edit(c, changes), []byte(secret))
}

// installToken makes a signed-install token for POST {path}.
func installToken(t *testing.T, kid string, key *rsa.PrivateKey, clientKey, path string, changes map[string]any) string {
	t.Helper()
	now := time.Now()
	c := map[string]any{
		"iss": clientKey, "aud": []string{appBaseURL}, "iat": now.Add(-5 * time.Second).Unix(), "exp": now.Add(3 * time.Minute).Unix(),
		"qsh": auth.QSH("POST", path, ""),
	}
	return signRS256(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}, edit(c, changes), key)
}

// fitClaims reads testdata/forge_invocation_token_claims.json with times
// moved to now.
func fitClaims(t *testing.T, changes map[string]any) map[string]any {
	t.Helper()
	var c map[string]any
	readJSON(t, "testdata/forge_invocation_token_claims.json", &c)
	now := time.Now()
	c["iat"], c["nbf"], c["exp"] = now.Add(-2*time.Second).Unix(), now.Add(-2*time.Second).Unix(), now.Add(25*time.Second).Unix()
	// Forge mints a new FIT per invocation, and a FIT is accepted once.
	c["jti"] = rand.Text()
	return edit(c, changes)
}

// fitToken makes a Forge Invocation Token signed by key under kid.
func fitToken(t *testing.T, kid string, key *rsa.PrivateKey, changes map[string]any) string {
	t.Helper()
	return signRS256(t, map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid}, fitClaims(t, changes), key)
}

// triggerToken is fitToken for a Forge trigger: no principal, no context.
func triggerToken(t *testing.T, kid string, key *rsa.PrivateKey, changes map[string]any) string {
	t.Helper()
	c := map[string]any{"context": nil, "principal": nil}
	for k, v := range changes {
		c[k] = v
	}
	return fitToken(t, kid, key, c)
}

// --- keys and key servers ---------------------------------------------

var rsaKeys struct {
	once sync.Once
	keys []*rsa.PrivateKey
}

// rsaKey returns one of three RSA keys generated once per test binary.
func rsaKey(t *testing.T, i int) *rsa.PrivateKey {
	t.Helper()
	rsaKeys.once.Do(func() {
		for range 3 {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			rsaKeys.keys = append(rsaKeys.keys, k)
		}
	})
	return rsaKeys.keys[i]
}

func publicPEM(t *testing.T, k *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

// keyServer serves Connect install public keys as PEM at /{kid}.
type keyServer struct {
	*httptest.Server
	mu   sync.Mutex
	pems map[string][]byte
}

func newKeyServer(t *testing.T, keys map[string]*rsa.PrivateKey) *keyServer {
	t.Helper()
	ks := &keyServer{pems: map[string][]byte{}}
	for kid, k := range keys {
		ks.pems[kid] = publicPEM(t, k)
	}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.mu.Lock()
		pem, ok := ks.pems[strings.TrimPrefix(r.URL.Path, "/")]
		ks.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write(pem)
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) add(t *testing.T, kid string, k *rsa.PrivateKey) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.pems[kid] = publicPEM(t, k)
}

// jwksServer serves a JWKS of RSA public keys.
type jwksServer struct {
	*httptest.Server
	mu  sync.Mutex
	set jwk.Set
}

func newJWKSServer(t *testing.T, keys map[string]*rsa.PrivateKey) *jwksServer {
	t.Helper()
	js := &jwksServer{set: jwk.NewSet()}
	for kid, k := range keys {
		js.add(t, kid, k)
	}
	js.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		js.mu.Lock()
		b, err := json.Marshal(js.set)
		js.mu.Unlock()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	}))
	t.Cleanup(js.Close)
	return js
}

func (js *jwksServer) add(t *testing.T, kid string, k *rsa.PrivateKey) {
	t.Helper()
	key, err := jwk.FromRaw(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{jwk.KeyIDKey: kid, jwk.AlgorithmKey: jwa.RS256, jwk.KeyUsageKey: "sig"} {
		if err := key.Set(name, v); err != nil {
			t.Fatal(err)
		}
	}
	js.mu.Lock()
	defer js.mu.Unlock()
	if err := js.set.AddKey(key); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer collects log output from concurrent requests.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

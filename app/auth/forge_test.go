package auth

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

const testAppID = "ari:cloud:ecosystem::app/3f9c2a1b-3333-4e5f-9a8b-7c6d5e4f3a2b"

// jwksServer serves a mutable JWKS and counts fetches.
type jwksServer struct {
	*httptest.Server
	mu   sync.Mutex
	keys map[string]*rsa.PrivateKey
	hits int
}

func newJWKSServer(t *testing.T, keys map[string]*rsa.PrivateKey) *jwksServer {
	t.Helper()
	s := &jwksServer{keys: keys}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.hits++
		set := jwk.NewSet()
		for kid, k := range s.keys {
			pub, err := jwk.FromRaw(&k.PublicKey)
			if err != nil {
				t.Error(err)
				return
			}
			_ = pub.Set(jwk.KeyIDKey, kid)
			_ = pub.Set(jwk.AlgorithmKey, jwa.RS256)
			_ = pub.Set(jwk.KeyUsageKey, "sig")
			_ = set.AddKey(pub)
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *jwksServer) addKey(kid string, k *rsa.PrivateKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[kid] = k
}

func (s *jwksServer) hitCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits
}

// fitSample reads the shared-shape FIT claims and moves them to testNow,
// with a fresh jti: Forge mints a new token for every invocation, and a
// verifier accepts each jti once.
func fitSample(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("testdata/forge_invocation_token_claims.json")
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	c["iat"] = testNow.Unix()
	c["nbf"] = testNow.Unix()
	c["exp"] = testNow.Add(25 * time.Second).Unix()
	c["jti"] = fmt.Sprintf("test-jti-%d", testJTIs.Add(1))
	return c
}

var testJTIs atomic.Int64

func newTestFITVerifier(t *testing.T, url string, leeway time.Duration) *FITVerifier {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := NewFITVerifier(ctx, url, testAppID, nil, leeway)
	if err != nil {
		t.Fatal(err)
	}
	v.Now = fixedNow
	return v
}

func TestFITVerify(t *testing.T) {
	k1, k2 := testKey(t, 0), testKey(t, 1)
	srv := newJWKSServer(t, map[string]*rsa.PrivateKey{"fit-1": k1})
	rs := map[string]any{"alg": "RS256", "typ": "JWT", "kid": "fit-1"}
	base := fitSample(t)
	pemBytes := publicPEM(t, k1)
	withApp := func(field string, v any) map[string]any {
		app := map[string]any{}
		for k, x := range base["app"].(map[string]any) {
			app[k] = x
		}
		app[field] = v
		return claims(base, map[string]any{"app": app})
	}

	tests := []struct {
		name    string
		token   string
		leeway  time.Duration
		wantErr error
	}{
		{"valid", signRS(t, rs, base, k1), 0, nil},
		{"aud array", signRS(t, rs, claims(base, map[string]any{"aud": []string{"other", testAppID}}), k1), 0, nil},
		{"no nbf", signRS(t, rs, claims(base, map[string]any{"nbf": nil}), k1), 0, nil},
		{"expired", signRS(t, rs, claims(base, map[string]any{"exp": testNow.Add(-time.Second).Unix()}), k1), 0, ErrExpired},
		{"expired within leeway", signRS(t, rs, claims(base, map[string]any{"exp": testNow.Add(-time.Second).Unix()}), k1), 5 * time.Second, nil},
		{"nbf in future", signRS(t, rs, claims(base, map[string]any{"nbf": testNow.Add(time.Minute).Unix()}), k1), 0, ErrClaims},
		{"iat in future", signRS(t, rs, claims(base, map[string]any{"iat": testNow.Add(time.Minute).Unix()}), k1), 0, ErrClaims},
		{"missing exp", signRS(t, rs, claims(base, map[string]any{"exp": nil}), k1), 0, ErrClaims},
		{"wrong aud", signRS(t, rs, claims(base, map[string]any{"aud": "ari:cloud:ecosystem::app/other"}), k1), 0, ErrClaims},
		{"missing aud", signRS(t, rs, claims(base, map[string]any{"aud": nil}), k1), 0, ErrClaims},
		{"wrong iss", signRS(t, rs, claims(base, map[string]any{"iss": "forge/other"}), k1), 0, ErrClaims},
		{"missing jti", signRS(t, rs, claims(base, map[string]any{"jti": nil}), k1), 0, ErrClaims},
		{"missing installationId", signRS(t, rs, withApp("installationId", ""), k1), 0, ErrClaims},
		{"unknown kid", signRS(t, map[string]any{"alg": "RS256", "kid": "nope"}, base, k1), 0, ErrUnknownKey},
		{"missing kid", signRS(t, map[string]any{"alg": "RS256"}, base, k1), 0, ErrMalformed},
		{"signed by other key", signRS(t, rs, base, k2), 0, ErrSignature},
		{"HS256 signed with public key", signHS(t, map[string]any{"alg": "HS256", "kid": "fit-1"}, base, pemBytes), 0, ErrAlgorithm},
		{"alg none", jsonSegment(t, map[string]any{"alg": "none", "kid": "fit-1"}) + "." + jsonSegment(t, base) + ".", 0, ErrAlgorithm},
		{"garbage", "a.b.c", 0, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newTestFITVerifier(t, srv.URL, tc.leeway)
			c, err := v.Verify(context.Background(), tc.token)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.InstallationID == "" || c.JTI == "" {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
}

func TestFITClaimsMapping(t *testing.T) {
	k := testKey(t, 0)
	srv := newJWKSServer(t, map[string]*rsa.PrivateKey{"fit-1": k})
	v := newTestFITVerifier(t, srv.URL, 0)
	sample := claims(fitSample(t), map[string]any{"jti": "2f6d9a44-4444-4b1c-8e7f-112233445566"})
	c, err := v.Verify(context.Background(), signRS(t, map[string]any{"alg": "RS256", "kid": "fit-1"}, sample, k))
	if err != nil {
		t.Fatal(err)
	}
	want := FITClaims{
		AppID:           testAppID,
		AppVersion:      "1.4.0",
		InstallationID:  "ari:cloud:ecosystem::installation/7d8e9f00-5555-4a1b-9c2d-3e4f5a6b7c8d",
		APIBaseURL:      "https://api.atlassian.com/ex/jira/0a1b2c3d-6666-4e5f-8a9b-0c1d2e3f4a5b",
		EnvironmentType: "PRODUCTION",
		EnvironmentID:   "ari:cloud:ecosystem::environment/3f9c2a1b-3333-4e5f-9a8b-7c6d5e4f3a2b/9e8d7c6b-7777-4a5b-8c9d-0e1f2a3b4c5d",
		ModuleType:      "core:endpoint",
		ModuleKey:       "keyward-admin-remote",
		CloudID:         "0a1b2c3d-6666-4e5f-8a9b-0c1d2e3f4a5b",
		SiteURL:         "https://tenant-a.atlassian.net",
		Principal:       "5b10ac8d82e05b22cc7d4ef5",
		JTI:             "2f6d9a44-4444-4b1c-8e7f-112233445566",
		IssuedAt:        testNow,
		ExpiresAt:       testNow.Add(25 * time.Second),
	}
	if *c != want {
		t.Fatalf("claims\n got %+v\nwant %+v", *c, want)
	}
}

func TestFITLenientDescriptiveClaims(t *testing.T) {
	k := testKey(t, 0)
	srv := newJWKSServer(t, map[string]*rsa.PrivateKey{"fit-1": k})
	v := newTestFITVerifier(t, srv.URL, 0)
	c := claims(fitSample(t), map[string]any{
		"context":   "not-an-object",
		"principal": map[string]any{"accountId": "acct-7"},
	})
	got, err := v.Verify(context.Background(), signRS(t, map[string]any{"alg": "RS256", "kid": "fit-1"}, c, k))
	if err != nil {
		t.Fatal(err)
	}
	if got.Principal != "acct-7" || got.CloudID != "" {
		t.Fatalf("claims = %+v", got)
	}
}

func TestFITKeyRotation(t *testing.T) {
	k1, k2 := testKey(t, 0), testKey(t, 1)
	srv := newJWKSServer(t, map[string]*rsa.PrivateKey{"fit-1": k1})
	v := newTestFITVerifier(t, srv.URL, 0)
	ctx := context.Background()
	if srv.hitCount() != 0 {
		t.Fatal("constructor fetched the JWKS")
	}
	if _, err := v.Verify(ctx, signRS(t, map[string]any{"alg": "RS256", "kid": "fit-1"}, fitSample(t), k1)); err != nil {
		t.Fatal(err)
	}
	srv.addKey("fit-2", k2)
	if _, err := v.Verify(ctx, signRS(t, map[string]any{"alg": "RS256", "kid": "fit-2"}, fitSample(t), k2)); err != nil {
		t.Fatalf("new kid after forced refresh: %v", err)
	}
	if n := srv.hitCount(); n != 2 {
		t.Fatalf("jwks fetched %d times, want 2 (initial + forced)", n)
	}
	// Both kids now come from the cache.
	for _, kid := range []string{"fit-1", "fit-2"} {
		k := map[string]*rsa.PrivateKey{"fit-1": k1, "fit-2": k2}[kid]
		if _, err := v.Verify(ctx, signRS(t, map[string]any{"alg": "RS256", "kid": kid}, fitSample(t), k)); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.hitCount(); n != 2 {
		t.Fatalf("jwks fetched %d times, want 2", n)
	}
}

func TestFITForcedRefreshRateLimited(t *testing.T) {
	k := testKey(t, 0)
	srv := newJWKSServer(t, map[string]*rsa.PrivateKey{"fit-1": k})
	v := newTestFITVerifier(t, srv.URL, 0)
	ctx := context.Background()
	for range 5 {
		tok := signRS(t, map[string]any{"alg": "RS256", "kid": "unknown"}, fitSample(t), k)
		if _, err := v.Verify(ctx, tok); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("err = %v, want ErrUnknownKey", err)
		}
	}
	if n := srv.hitCount(); n != 2 {
		t.Fatalf("jwks fetched %d times, want 2 (initial + one forced refresh)", n)
	}
}

func TestFITUnreachableJWKSAtStart(t *testing.T) {
	k := testKey(t, 0)
	srv := newJWKSServer(t, map[string]*rsa.PrivateKey{"fit-1": k})
	up := srv.URL
	down := httptest.NewServer(http.NotFoundHandler())
	downURL := down.URL
	down.Close() // nothing listens there any more

	v := newTestFITVerifier(t, downURL, 0)
	tok := signRS(t, map[string]any{"alg": "RS256", "kid": "fit-1"}, fitSample(t), k)
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Fatal("verified without keys")
	}

	// A verifier that starts while its host is down recovers once it is up.
	flaky := &flakyHandler{target: up}
	fs := httptest.NewServer(flaky)
	t.Cleanup(fs.Close)
	v2 := newTestFITVerifier(t, fs.URL, 0)
	v2.forcedEvery = 0
	if _, err := v2.Verify(context.Background(), tok); err == nil {
		t.Fatal("verified while the jwks host failed")
	}
	flaky.setUp()
	if _, err := v2.Verify(context.Background(), tok); err != nil {
		t.Fatalf("after the jwks host came back: %v", err)
	}
}

// flakyHandler answers 503 until setUp, then proxies the JWKS of target.
type flakyHandler struct {
	mu     sync.Mutex
	up     bool
	target string
}

func (f *flakyHandler) setUp() { f.mu.Lock(); f.up = true; f.mu.Unlock() }

func (f *flakyHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	up := f.up
	f.mu.Unlock()
	if !up {
		http.Error(w, "unavailable", http.StatusServiceUnavailable)
		return
	}
	res, err := http.Get(f.target)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	var body json.RawMessage
	_ = json.NewDecoder(res.Body).Decode(&body)
	_, _ = w.Write(body)
}

func TestNewFITVerifierValidates(t *testing.T) {
	ctx := context.Background()
	if _, err := NewFITVerifier(ctx, "not a url", testAppID, nil, 0); err == nil {
		t.Error("bad url accepted")
	}
	if _, err := NewFITVerifier(ctx, "https://example.com/jwks.json", "", nil, 0); err == nil {
		t.Error("empty app id accepted")
	}
}

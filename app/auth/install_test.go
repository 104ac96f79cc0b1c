package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const testAppBaseURL = "https://keyward.example.com"

// keyServer serves PEM public keys at /{kid} and counts hits per kid.
type keyServer struct {
	*httptest.Server
	mu   sync.Mutex
	pems map[string][]byte
	hits map[string]int
}

func newKeyServer(t *testing.T, pems map[string][]byte) *keyServer {
	t.Helper()
	ks := &keyServer{pems: pems, hits: map[string]int{}}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kid := strings.TrimPrefix(r.URL.Path, "/")
		ks.mu.Lock()
		ks.hits[kid]++
		pem, ok := ks.pems[kid]
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

func (ks *keyServer) hitsFor(kid string) int {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	return ks.hits[kid]
}

func installClaims() map[string]any {
	return map[string]any{
		"iss": testClientKey,
		"aud": []string{testAppBaseURL},
		"iat": testNow.Add(-5 * time.Second).Unix(),
		"exp": testNow.Add(3 * time.Minute).Unix(),
		"qsh": QSH("POST", "/installed", ""),
	}
}

func TestInstallVerify(t *testing.T) {
	k1, k2 := testKey(t, 0), testKey(t, 1)
	ks := newKeyServer(t, map[string][]byte{"kid-1": publicPEM(t, k1), "kid-2": publicPEM(t, k2)})
	rs := func(kid string) map[string]any { return map[string]any{"alg": "RS256", "typ": "JWT", "kid": kid} }
	base := installClaims()
	pemBytes := publicPEM(t, k1)

	tests := []struct {
		name      string
		token     string
		clientKey string
		path      string
		wantErr   error
	}{
		{"valid", signRS(t, rs("kid-1"), base, k1), testClientKey, "/installed", nil},
		{"rotated kid", signRS(t, rs("kid-2"), base, k2), testClientKey, "/installed", nil},
		{"uninstalled", signRS(t, rs("kid-1"), claims(base, map[string]any{"qsh": QSH("POST", "/uninstalled", "")}), k1), testClientKey, "/uninstalled", nil},
		{"aud as string with slash", signRS(t, rs("kid-1"), claims(base, map[string]any{"aud": testAppBaseURL + "/"}), k1), testClientKey, "/installed", nil},
		{"unknown kid", signRS(t, rs("kid-9"), base, k1), testClientKey, "/installed", ErrUnknownKey},
		{"path traversal kid", signRS(t, rs("../kid-1"), base, k1), testClientKey, "/installed", ErrUnknownKey},
		{"dots kid", signRS(t, rs(".."), base, k1), testClientKey, "/installed", ErrUnknownKey},
		{"missing kid", signRS(t, map[string]any{"alg": "RS256"}, base, k1), testClientKey, "/installed", ErrMalformed},
		{"signed by other key", signRS(t, rs("kid-2"), base, k1), testClientKey, "/installed", ErrSignature},
		{"wrong aud", signRS(t, rs("kid-1"), claims(base, map[string]any{"aud": []string{"https://evil.example.com"}}), k1), testClientKey, "/installed", ErrClaims},
		{"aud second only", signRS(t, rs("kid-1"), claims(base, map[string]any{"aud": []string{"https://evil.example.com", testAppBaseURL}}), k1), testClientKey, "/installed", ErrClaims},
		{"missing aud", signRS(t, rs("kid-1"), claims(base, map[string]any{"aud": nil}), k1), testClientKey, "/installed", ErrClaims},
		{"iss differs from body", signRS(t, rs("kid-1"), base, k1), "another-client", "/installed", ErrClaims},
		{"empty iss and body", signRS(t, rs("kid-1"), claims(base, map[string]any{"iss": ""}), k1), "", "/installed", ErrClaims},
		{"HS256 signed with public key PEM", signHS(t, map[string]any{"alg": "HS256", "kid": "kid-1"}, base, pemBytes), testClientKey, "/installed", ErrAlgorithm},
		{"alg none", jsonSegment(t, map[string]any{"alg": "none", "kid": "kid-1"}) + "." + jsonSegment(t, base) + ".", testClientKey, "/installed", ErrAlgorithm},
		{"RS512", signRS(t, map[string]any{"alg": "RS512", "kid": "kid-1"}, base, k1), testClientKey, "/installed", ErrAlgorithm},
		{"expired", signRS(t, rs("kid-1"), claims(base, map[string]any{"exp": testNow.Add(-time.Minute).Unix()}), k1), testClientKey, "/installed", ErrExpired},
		{"missing iat", signRS(t, rs("kid-1"), claims(base, map[string]any{"iat": nil}), k1), testClientKey, "/installed", ErrClaims},
		{"qsh wrong", signRS(t, rs("kid-1"), claims(base, map[string]any{"qsh": QSH("POST", "/uninstalled", "")}), k1), testClientKey, "/installed", ErrQSH},
		{"context qsh", signRS(t, rs("kid-1"), claims(base, map[string]any{"qsh": ContextQSH}), k1), testClientKey, "/installed", ErrQSH},
		{"missing qsh", signRS(t, rs("kid-1"), claims(base, map[string]any{"qsh": nil}), k1), testClientKey, "/installed", ErrQSH},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &InstallVerifier{
				Keys:    NewInstallKeyFetcher(ks.URL, ks.Client()),
				BaseURL: testAppBaseURL + "/",
				Now:     fixedNow,
			}
			c, err := v.Verify(context.Background(), tc.token, tc.clientKey, "POST", tc.path)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if c.Issuer != testClientKey {
				t.Fatalf("claims = %+v", c)
			}
		})
	}
	if n := ks.hitsFor("../kid-1") + ks.hitsFor(".."); n != 0 {
		t.Fatalf("invalid kids reached the key server %d times", n)
	}
}

func TestInstallKeyCached(t *testing.T) {
	k := testKey(t, 0)
	ks := newKeyServer(t, map[string][]byte{"kid-1": publicPEM(t, k)})
	f := NewInstallKeyFetcher(ks.URL+"/", ks.Client())
	v := &InstallVerifier{Keys: f, BaseURL: testAppBaseURL, Now: fixedNow}
	tok := signRS(t, map[string]any{"alg": "RS256", "kid": "kid-1"}, installClaims(), k)

	var wg sync.WaitGroup
	var failures atomic.Int32
	for range 10 {
		wg.Go(func() {
			if _, err := v.Verify(context.Background(), tok, testClientKey, "POST", "/installed"); err != nil {
				failures.Add(1)
			}
		})
	}
	wg.Wait()
	if failures.Load() != 0 {
		t.Fatalf("%d verifications failed", failures.Load())
	}
	before := ks.hitsFor("kid-1")
	for range 5 {
		if _, err := v.Verify(context.Background(), tok, testClientKey, "POST", "/installed"); err != nil {
			t.Fatal(err)
		}
	}
	if after := ks.hitsFor("kid-1"); after != before || after < 1 {
		t.Fatalf("key server hit %d then %d times, want no fetch once cached", before, after)
	}
}

// TestInstallKeyMissCachedBriefly: an unknown kid is answered from the
// cache for installKeyMissTTL, then fetched again, so a key published
// after a miss is found a minute later at the latest.
func TestInstallKeyMissCachedBriefly(t *testing.T) {
	k := testKey(t, 0)
	ks := newKeyServer(t, map[string][]byte{})
	f := NewInstallKeyFetcher(ks.URL, ks.Client())
	clock := testNow
	f.now = func() time.Time { return clock }
	for range 3 {
		if _, err := f.Key(context.Background(), "kid-1"); !errors.Is(err, ErrUnknownKey) {
			t.Fatalf("err = %v, want ErrUnknownKey", err)
		}
	}
	if n := ks.hitsFor("kid-1"); n != 1 {
		t.Fatalf("hits = %d, want 1 (the miss is cached)", n)
	}
	ks.mu.Lock()
	ks.pems["kid-1"] = publicPEM(t, k)
	ks.mu.Unlock()
	clock = clock.Add(installKeyMissTTL - time.Second)
	if _, err := f.Key(context.Background(), "kid-1"); !errors.Is(err, ErrUnknownKey) {
		t.Fatalf("inside the miss TTL: err = %v, want the cached ErrUnknownKey", err)
	}
	clock = clock.Add(time.Second)
	if _, err := f.Key(context.Background(), "kid-1"); err != nil {
		t.Fatalf("key published after a miss, once the miss expired: %v", err)
	}
	if n := ks.hitsFor("kid-1"); n != 2 {
		t.Fatalf("hits = %d, want 2", n)
	}
}

func TestInstallKeyFetchErrors(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	ecPEM := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallPEM := publicPEM(t, small)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/down":
			http.Error(w, "down", http.StatusServiceUnavailable)
		case "/garbage":
			_, _ = w.Write([]byte("not a pem"))
		case "/ec":
			_, _ = w.Write(ecPEM)
		case "/small":
			_, _ = w.Write(smallPEM)
		}
	}))
	defer srv.Close()
	f := NewInstallKeyFetcher(srv.URL, nil)
	clock := testNow
	f.now = func() time.Time { return clock }
	for _, kid := range []string{"down", "garbage", "ec", "small"} {
		clock = clock.Add(installKeyFetchEvery) // one fetch of budget each
		_, err := f.Key(context.Background(), kid)
		if err == nil {
			t.Errorf("kid %q: no error", kid)
		}
		if errors.Is(err, ErrUnknownKey) {
			t.Errorf("kid %q: a server or key failure must not read as an unknown kid: %v", kid, err)
		}
	}
}

func TestValidKid(t *testing.T) {
	for kid, want := range map[string]bool{
		"0f8e1a2b-abc.def_1": true, "": false, ".": false, "..": false, "a/b": false,
		"a%2fb": false, "a b": false, "a?x": false, strings.Repeat("a", maxKidLen+1): false,
	} {
		if got := validKid(kid); got != want {
			t.Errorf("validKid(%q) = %v, want %v", kid, got, want)
		}
	}
}

package auth

import (
	"context"
	"crypto/rsa"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzCanonicalRequest(f *testing.F) {
	for _, v := range loadVectors(f).Vectors {
		f.Add(v.Method, v.Path, v.RawQuery)
	}
	f.Add("get", "/a&b/", "a=%zz&b=%4&c=+&=x&&jwt=1")
	f.Fuzz(func(t *testing.T, method, path, query string) {
		got := CanonicalRequest(method, path, query)
		prefix := strings.ToUpper(method) + "&"
		if !strings.HasPrefix(got, prefix) {
			t.Fatalf("canonical %q does not start with %q", got, prefix)
		}
		rest := got[len(prefix):]
		cpath := canonicalPath(path)
		if !strings.HasPrefix(rest, cpath+"&") || strings.Contains(cpath, "&") || !strings.HasPrefix(cpath, "/") {
			t.Fatalf("bad canonical path %q in %q", cpath, got)
		}
		cq := rest[len(cpath)+1:]
		for _, c := range []byte(cq) {
			if !isUnreserved(c) && !strings.ContainsRune("%=&,", rune(c)) {
				t.Fatalf("canonical query %q has raw byte %q", cq, c)
			}
		}
		for _, p := range strings.Split(cq, "&") {
			if strings.HasPrefix(p, "jwt=") {
				t.Fatalf("jwt param kept in %q", cq)
			}
		}
		// The encoding is the one the reference describes for Go.
		for _, s := range []string{method, path, query} {
			if want := strings.ReplaceAll(url.QueryEscape(s), "+", "%20"); encodeComponent(s) != want {
				t.Fatalf("encodeComponent(%q) = %q, want %q", s, encodeComponent(s), want)
			}
		}
		if w := wellFormedUTF8(query); !utf8.ValidString(w) || (utf8.ValidString(query) && w != query) {
			t.Fatalf("wellFormedUTF8(%q) = %q", query, w)
		}
		if q := QSH(method, path, query); len(q) != 64 || strings.ToLower(q) != q {
			t.Fatalf("QSH = %q", q)
		}
	})
}

func FuzzConnectVerify(f *testing.F) {
	secret := []byte(testSecret)
	base := map[string]any{
		"iss": testClientKey, "iat": testNow.Unix(), "exp": testNow.Add(time.Minute).Unix(),
		"qsh": QSH("GET", "/p", "a=1"), "context": map[string]any{},
	}
	f.Add(signHS(f, map[string]any{"alg": "HS256"}, base, secret), []byte(`{"iss":"x","qsh":"context-qsh","iat":1,"exp":2}`), false)
	f.Add("a.b.c", []byte(`{"aud":["`+testClientKey+`"],"iat":1.5e9,"exp":1e10,"qsh":"context-qsh"}`), true)
	f.Add("", []byte(`null`), false)
	v := &ConnectVerifier{Lookup: secretLookup(map[string]string{testClientKey: testSecret, "x": "y"}), Now: fixedNow, Leeway: 5 * time.Second}
	f.Fuzz(func(t *testing.T, token string, payload []byte, allowCtx bool) {
		req := ConnectRequest{Method: "GET", Path: "/p", RawQuery: "a=1", AllowContextQSH: allowCtx}
		check := func(tok string) {
			c, err := v.Verify(context.Background(), tok, req)
			if err != nil {
				if c != nil {
					t.Fatal("claims returned with an error")
				}
				return
			}
			if c == nil || c.Issuer == "" {
				t.Fatalf("accepted token without issuer: %+v", c)
			}
			if !testNow.Before(c.ExpiresAt.Add(5*time.Second)) || c.IssuedAt.After(testNow.Add(5*time.Second)) {
				t.Fatalf("accepted token outside its lifetime: %+v", c)
			}
			if allowCtx != (c.QSH == ContextQSH) {
				t.Fatalf("accepted qsh %q with AllowContextQSH=%v", c.QSH, allowCtx)
			}
		}
		check(token)
		// Sign the fuzzed payload so the claim checks are reached too.
		input := encodeSegment([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + encodeSegment(payload)
		h, _ := hmacHash("HS256")
		check(input + "." + encodeSegment(hmacSign(h, secret, []byte(input))))
	})
}

// staticKeys is an InstallKeySource over a fixed map.
type staticKeys map[string]*rsa.PublicKey

func (s staticKeys) Key(_ context.Context, kid string) (*rsa.PublicKey, error) {
	if k, ok := s[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

func FuzzInstallVerify(f *testing.F) {
	k := testKey(f, 0)
	f.Add(signRS(f, map[string]any{"alg": "RS256", "kid": "k"}, installClaims(), k), testClientKey)
	f.Add(signHS(f, map[string]any{"alg": "HS256", "kid": "k"}, installClaims(), publicPEM(f, k)), testClientKey)
	f.Add("eyJhbGciOiJSUzI1NiJ9.e30.", "")
	v := &InstallVerifier{Keys: staticKeys{"k": &k.PublicKey}, BaseURL: testAppBaseURL, Now: fixedNow}
	f.Fuzz(func(t *testing.T, token, clientKey string) {
		c, err := v.Verify(context.Background(), token, clientKey, "POST", "/installed")
		if err == nil && (c == nil || c.Issuer != clientKey || c.Issuer == "") {
			t.Fatalf("accepted %+v for body clientKey %q", c, clientKey)
		}
	})
}

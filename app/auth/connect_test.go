package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

const (
	testClientKey = "6f1e7a2c-1111-4c2b-9a55-0f6a1e1d2c3b"
	testSecret    = "q2Zk3h7yXc0m-example-shared-secret-value-1234567890"
)

func secretLookup(secrets map[string]string) SecretLookup {
	return func(_ context.Context, clientKey string) ([]byte, error) {
		s, ok := secrets[clientKey]
		if !ok {
			return nil, fmt.Errorf("installation %q: %w", clientKey, ErrUnknownIssuer)
		}
		return []byte(s), nil
	}
}

func newConnectVerifier() *ConnectVerifier {
	return &ConnectVerifier{
		Lookup: secretLookup(map[string]string{testClientKey: testSecret}),
		Now:    fixedNow,
	}
}

func TestConnectVerify(t *testing.T) {
	req := ConnectRequest{Method: "GET", Path: "/admin/keys", RawQuery: "xdm_e=https%3A%2F%2Ft.atlassian.net&lic=none&jwt=x"}
	ctxReq := ConnectRequest{Method: "POST", Path: "/api/keys", AllowContextQSH: true}
	hs256 := map[string]any{"alg": "HS256", "typ": "JWT"}
	base := map[string]any{
		"iss":     testClientKey,
		"sub":     "5b10ac8d82e05b22cc7d4ef5",
		"iat":     testNow.Add(-time.Minute).Unix(),
		"exp":     testNow.Add(2 * time.Minute).Unix(),
		"qsh":     QSH(req.Method, req.Path, req.RawQuery),
		"context": map[string]any{"license": "active"},
	}
	secret := []byte(testSecret)
	valid := signHS(t, hs256, base, secret)
	parts := strings.Split(valid, ".")

	tests := []struct {
		name    string
		token   string
		req     ConnectRequest
		leeway  time.Duration
		wantErr error
	}{
		{"valid", valid, req, 0, nil},
		{"valid HS384", signHS(t, map[string]any{"alg": "HS384"}, base, secret), req, 0, nil},
		{"valid HS512", signHS(t, map[string]any{"alg": "HS512"}, base, secret), req, 0, nil},
		{"iss falls back to aud[0]", signHS(t, hs256, claims(base, map[string]any{"iss": nil, "aud": []string{testClientKey}}), secret), req, 0, nil},
		{"string aud fallback", signHS(t, hs256, claims(base, map[string]any{"iss": "", "aud": testClientKey}), secret), req, 0, nil},
		{"expired", signHS(t, hs256, claims(base, map[string]any{"exp": testNow.Add(-time.Second).Unix()}), secret), req, 0, ErrExpired},
		{"exp equal to now", signHS(t, hs256, claims(base, map[string]any{"exp": testNow.Unix()}), secret), req, 0, ErrExpired},
		{"iat in future", signHS(t, hs256, claims(base, map[string]any{"iat": testNow.Add(time.Minute).Unix()}), secret), req, 0, ErrClaims},
		{"missing iat", signHS(t, hs256, claims(base, map[string]any{"iat": nil}), secret), req, 0, ErrClaims},
		{"missing exp", signHS(t, hs256, claims(base, map[string]any{"exp": nil}), secret), req, 0, ErrClaims},
		{"string exp", signHS(t, hs256, claims(base, map[string]any{"exp": "9999999999"}), secret), req, 0, ErrMalformed},
		{"tampered payload", parts[0] + "." + jsonSegment(t, claims(base, map[string]any{"sub": "someone-else"})) + "." + parts[2], req, 0, ErrSignature},
		{"tampered signature", parts[0] + "." + parts[1] + "." + flipFirstChar(parts[2]), req, 0, ErrSignature},
		{"non-canonical signature encoding", parts[0] + "." + parts[1] + "." + setPaddingBits(parts[2]), req, 0, ErrMalformed},
		{"other signature", parts[0] + "." + parts[1] + "." + encodeSegment(make([]byte, 32)), req, 0, ErrSignature},
		{"alg none", jsonSegment(t, map[string]any{"alg": "none"}) + "." + parts[1] + ".", req, 0, ErrAlgorithm},
		{"alg None", jsonSegment(t, map[string]any{"alg": "None"}) + "." + parts[1] + ".", req, 0, ErrAlgorithm},
		{"missing alg", jsonSegment(t, map[string]any{"typ": "JWT"}) + "." + parts[1] + "." + parts[2], req, 0, ErrAlgorithm},
		{"RS256 header", signHS(t, map[string]any{"alg": "RS256"}, base, secret), req, 0, ErrAlgorithm},
		{"ES256 header", signHS(t, map[string]any{"alg": "ES256"}, base, secret), req, 0, ErrAlgorithm},
		{"PS256 header", signHS(t, map[string]any{"alg": "PS256"}, base, secret), req, 0, ErrAlgorithm},
		{"lower-case hs256", signHS(t, map[string]any{"alg": "hs256"}, base, secret), req, 0, ErrAlgorithm},
		{"crit header", signHS(t, map[string]any{"alg": "HS256", "crit": []string{"exp"}}, base, secret), req, 0, ErrMalformed},
		{"wrong secret", signHS(t, hs256, base, []byte("not-the-secret")), req, 0, ErrSignature},
		{"unknown issuer", signHS(t, hs256, claims(base, map[string]any{"iss": "someone"}), secret), req, 0, ErrUnknownIssuer},
		{"missing iss and aud", signHS(t, hs256, claims(base, map[string]any{"iss": nil}), secret), req, 0, ErrClaims},
		{"missing qsh", signHS(t, hs256, claims(base, map[string]any{"qsh": nil}), secret), req, 0, ErrQSH},
		{"wrong qsh", signHS(t, hs256, claims(base, map[string]any{"qsh": QSH("GET", "/admin/other", "")}), secret), req, 0, ErrQSH},
		{"qsh other method", valid, ConnectRequest{Method: "POST", Path: req.Path, RawQuery: req.RawQuery}, 0, ErrQSH},
		{"qsh other query", valid, ConnectRequest{Method: "GET", Path: req.Path, RawQuery: "lic=active"}, 0, ErrQSH},
		{"context qsh on normal route", signHS(t, hs256, claims(base, map[string]any{"qsh": ContextQSH}), secret), req, 0, ErrQSH},
		{"context qsh on context route", signHS(t, hs256, claims(base, map[string]any{"qsh": ContextQSH}), secret), ctxReq, 0, nil},
		{"real qsh on context route", signHS(t, hs256, claims(base, map[string]any{"qsh": QSH(ctxReq.Method, ctxReq.Path, "")}), secret), ctxReq, 0, ErrQSH},
		{"missing qsh on context route", signHS(t, hs256, claims(base, map[string]any{"qsh": nil}), secret), ctxReq, 0, ErrQSH},
		{"leeway covers exp", signHS(t, hs256, claims(base, map[string]any{"exp": testNow.Add(-10 * time.Second).Unix()}), secret), req, 20 * time.Second, nil},
		{"leeway covers iat", signHS(t, hs256, claims(base, map[string]any{"iat": testNow.Add(10 * time.Second).Unix()}), secret), req, 20 * time.Second, nil},
		{"leeway too small", signHS(t, hs256, claims(base, map[string]any{"exp": testNow.Add(-25 * time.Second).Unix()}), secret), req, 20 * time.Second, ErrExpired},
		{"leeway capped at 30s", signHS(t, hs256, claims(base, map[string]any{"exp": testNow.Add(-45 * time.Second).Unix()}), secret), req, time.Hour, ErrExpired},
		{"leeway cap still allows 29s", signHS(t, hs256, claims(base, map[string]any{"exp": testNow.Add(-29 * time.Second).Unix()}), secret), req, time.Hour, nil},
		{"negative leeway is zero", signHS(t, hs256, claims(base, map[string]any{"exp": testNow.Add(-time.Second).Unix()}), secret), req, -time.Hour, ErrExpired},
		{"two segments", parts[0] + "." + parts[1], req, 0, ErrMalformed},
		{"padded base64", parts[0] + "=." + parts[1] + "." + parts[2], req, 0, ErrMalformed},
		{"empty", "", req, 0, ErrMalformed},
		{"too long", strings.Repeat("a", maxTokenBytes+1), req, 0, ErrMalformed},
		{"payload not json", parts[0] + "." + encodeSegment([]byte("nope")) + "." + parts[2], req, 0, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := newConnectVerifier()
			v.Leeway = tc.leeway
			got, err := v.Verify(context.Background(), tc.token, tc.req)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("Verify error = %v, want %v", err, tc.wantErr)
				}
				if got != nil {
					t.Fatal("claims returned with an error")
				}
				return
			}
			if err != nil {
				t.Fatalf("Verify: %v", err)
			}
			if got.Issuer != testClientKey {
				t.Errorf("Issuer = %q, want %q", got.Issuer, testClientKey)
			}
		})
	}
}

func TestConnectVerifyClaims(t *testing.T) {
	req := ConnectRequest{Method: "GET", Path: "/p"}
	tok := signHS(t, map[string]any{"alg": "HS256"}, map[string]any{
		"iss": testClientKey, "sub": "acct-1", "aud": "x",
		"iat": testNow.Unix(), "exp": testNow.Add(time.Minute).Unix(),
		"qsh": QSH("GET", "/p", ""), "context": map[string]any{"a": 1},
	}, []byte(testSecret))
	c, err := newConnectVerifier().Verify(context.Background(), tok, req)
	if err != nil {
		t.Fatal(err)
	}
	if c.Subject != "acct-1" || !c.IssuedAt.Equal(testNow) || !c.ExpiresAt.Equal(testNow.Add(time.Minute)) ||
		string(c.Context) != `{"a":1}` || len(c.Audience) != 1 || c.Audience[0] != "x" || c.QSH != QSH("GET", "/p", "") {
		t.Fatalf("claims = %+v", c)
	}
}

func TestConnectVerifyLookupErrors(t *testing.T) {
	tok := signHS(t, map[string]any{"alg": "HS256"}, map[string]any{
		"iss": testClientKey, "iat": testNow.Unix(), "exp": testNow.Add(time.Minute).Unix(), "qsh": QSH("GET", "/", ""),
	}, []byte(testSecret))
	boom := errors.New("database down")
	tests := []struct {
		name    string
		lookup  SecretLookup
		wantErr error
	}{
		{"store failure passes through", func(context.Context, string) ([]byte, error) { return nil, boom }, boom},
		{"empty secret refused", func(context.Context, string) ([]byte, error) { return nil, nil }, ErrUnknownIssuer},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := &ConnectVerifier{Lookup: tc.lookup, Now: fixedNow}
			_, err := v.Verify(context.Background(), tok, ConnectRequest{Method: "GET", Path: "/"})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if tc.wantErr == boom && errors.Is(err, ErrUnknownIssuer) {
				t.Fatal("a store failure must not look like an unknown issuer")
			}
		})
	}
	if _, err := (&ConnectVerifier{}).Verify(context.Background(), tok, ConnectRequest{}); err == nil {
		t.Fatal("verifier without lookup accepted a token")
	}
}

// TestConnectInteropVector verifies the token from the shared vectors,
// made by Atlassian's reference implementation.
func TestConnectInteropVector(t *testing.T) {
	f := loadVectors(t)
	token := f.SigningInput + "." + f.TokenSignature
	iss := f.Claims["iss"].(string)
	iat := int64(f.Claims["iat"].(float64))
	v := &ConnectVerifier{
		Lookup: secretLookup(map[string]string{iss: f.SharedSecret}),
		Now:    func() time.Time { return time.Unix(iat+60, 0) },
	}
	c, err := v.Verify(context.Background(), token, ConnectRequest{Method: "GET", Path: "/test", RawQuery: "param=value"})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if c.Issuer != iss || c.Subject != f.Claims["sub"] {
		t.Fatalf("claims = %+v", c)
	}
	// The same token at today's clock is long expired.
	v.Now = nil
	if _, err := v.Verify(context.Background(), token, ConnectRequest{Method: "GET", Path: "/test", RawQuery: "param=value"}); !errors.Is(err, ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
}

func flipFirstChar(s string) string {
	repl := "A"
	if s[0] == 'A' {
		repl = "B"
	}
	return repl + s[1:]
}

// setPaddingBits sets the unused low bit of the last base64url character of
// a 32-byte signature (43 characters): same bytes, different spelling.
func setPaddingBits(s string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, s[len(s)-1])
	return s[:len(s)-1] + string(alphabet[i|1])
}

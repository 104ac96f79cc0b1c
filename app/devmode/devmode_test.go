package devmode

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/models"
)

// TestTokensVerifyAsConnectContextTokens checks the dev tokens against the
// production verifier of the page API.
func TestTokensVerifyAsConnectContextTokens(t *testing.T) {
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s := &Site{TenantID: "dev", secret: []byte("0123456789abcdef0123456789abcdef"), now: func() time.Time { return now }}
	v := &auth.ConnectVerifier{
		Lookup: func(_ context.Context, clientKey string) ([]byte, error) {
			if clientKey != ClientKey {
				return nil, auth.ErrUnknownIssuer
			}
			return s.secret, nil
		},
		Now: func() time.Time { return now.Add(time.Minute) },
	}
	for as, account := range map[string]string{"admin": AdminAccountID, "user": UserAccountID} {
		tok, exp, err := s.Token(as)
		if err != nil || !exp.Equal(now.Add(TokenTTL)) {
			t.Fatalf("%s: %v %v", as, exp, err)
		}
		c, err := v.Verify(context.Background(), tok, auth.ConnectRequest{Method: "GET", Path: "/api/admin/v1/credentials", AllowContextQSH: true})
		if err != nil || c.Subject != account || c.Issuer != ClientKey || c.QSH != auth.ContextQSH {
			t.Errorf("%s: claims %+v, %v", as, c, err)
		}
		// Context tokens are refused where a real qsh is required.
		if _, err := v.Verify(context.Background(), tok, auth.ConnectRequest{Method: "GET", Path: "/x"}); !errors.Is(err, auth.ErrQSH) {
			t.Errorf("%s: a dev token passed as a qsh token: %v", as, err)
		}
	}
	late := &auth.ConnectVerifier{Lookup: v.Lookup, Now: func() time.Time { return now.Add(TokenTTL + time.Minute) }}
	tok, _, _ := s.Token("admin")
	if _, err := late.Verify(context.Background(), tok, auth.ConnectRequest{AllowContextQSH: true}); !errors.Is(err, auth.ErrExpired) {
		t.Errorf("after 16 minutes: %v", err)
	}
	if _, _, err := s.Token("root"); !errors.Is(err, models.ErrInvalid) {
		t.Errorf("unknown account: %v", err)
	}
}

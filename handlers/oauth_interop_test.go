package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// oauthInteropDir holds the oauth4webapi client script and its lockfile.
var oauthInteropDir = filepath.Join("..", "app", "oauth", "interop")

// TestOAuthInteropOauth4webapi completes the flow with oauth4webapi (npm),
// an independent client: it needs node and `npm ci` in app/oauth/interop,
// and skips without them unless KEYWARD_REQUIRE_INTEROP=1.
func TestOAuthInteropOauth4webapi(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		interopSkipOrFail(t, "node not found in PATH")
	}
	if _, err := os.Stat(filepath.Join(oauthInteropDir, "node_modules", "oauth4webapi")); errors.Is(err, fs.ErrNotExist) {
		interopSkipOrFail(t, "app/oauth/interop/node_modules missing: run `npm ci` in app/oauth/interop")
	}
	forEachOAuthDialect(t, func(t *testing.T, e *oauthEnv) {
		id, secret := e.registerClient(map[string]any{"name": "Interop app", "redirectUris": []string{oaRedirect}, "allowedScopes": []string{"worklogs:manage"}})
		in, _ := json.Marshal(map[string]string{
			"issuer": e.srv.URL, "clientId": id, "clientSecret": secret, "redirectUri": oaRedirect, "scope": "worklogs:manage", "userJwt": e.aliceA(),
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "node", "interop.mjs")
		cmd.Dir = oauthInteropDir
		cmd.Stdin = bytes.NewReader(in)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("node interop.mjs: %v\n%s", err, stderr.String())
		}
		var got struct {
			ConsentClient, AccessToken, RefreshToken, TokenType, Scope string
			ExpiresIn                                                  int
			RefreshedAccessToken, RefreshedRefreshToken                string
			Introspection                                              map[string]any
			ReuseError                                                 string
			ActiveAfterRevoke                                          bool
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("decode %s: %v", out, err)
		}
		if got.ConsentClient != "Interop app" || !strings.HasPrefix(got.AccessToken, "kwa_") || !strings.EqualFold(got.TokenType, "bearer") || got.ExpiresIn != 3600 || got.Scope != "worklogs:manage" {
			t.Errorf("oauth4webapi got %+v", got)
		}
		if got.RefreshedRefreshToken == got.RefreshToken || got.Introspection["active"] != true || got.Introspection["client_id"] != id {
			t.Errorf("refresh/introspection: %+v", got)
		}
		if got.ReuseError != "invalid_grant" || got.ActiveAfterRevoke {
			t.Errorf("reuse error %q, active after revoke %v", got.ReuseError, got.ActiveAfterRevoke)
		}
		if v := e.verify(got.RefreshedAccessToken, "GET", "/4/worklogs"); v["active"] != false || v["reason"] != "revoked" {
			t.Errorf("verify after revocation: %v", v)
		}
	})
}

func interopSkipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("KEYWARD_REQUIRE_INTEROP") == "1" {
		t.Fatalf("KEYWARD_REQUIRE_INTEROP=1 but %s", why)
	}
	t.Skip(why)
}

package oauth_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyward/keyward/app/oauth"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/models"
)

func TestCodeFlowRefreshRotationAndReuse(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ic := e.client(e.adminA, models.OAuthConfidential)
		c := &ic.Client
		if !strings.HasPrefix(ic.Secret, "kwcs_") || c.SecretHint == "" {
			t.Fatalf("client secret %q hint %q", ic.Secret, c.SecretHint)
		}

		loc, err := e.authorize(authParams(c.ID))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(loc, "https://tenant-a.atlassian.net/plugins/servlet/ac/"+appKey+"/keyward-consent?ac.request=") {
			t.Fatalf("consent location = %q", loc)
		}
		p, err := e.svc.PendingRequest(ctx, e.userA, requestID(t, loc))
		if err != nil {
			t.Fatal(err)
		}
		if p.Client.Name != "Timesheet sync" || p.Request.Scopes != "worklogs:view" || !p.Allowed || p.RedirectHost() != "app.example.com" {
			t.Fatalf("pending request = %+v / %+v", p.Request, p.Client)
		}
		code := e.code(e.userA, authParams(c.ID))
		if !strings.HasPrefix(code, "kwac_") {
			t.Fatalf("code %q", code)
		}
		tr := e.exchange(c, code)
		if tr.TokenType != "Bearer" || tr.ExpiresIn != 3600 || tr.Scope != "worklogs:view" || !strings.HasPrefix(tr.AccessToken, "kwa_") || !strings.HasPrefix(tr.RefreshToken, "kwr_") {
			t.Fatalf("token response = %+v", tr)
		}

		// The access token verifies like an API key.
		r := e.verify(tr.AccessToken, "GET", "/4/worklogs/1")
		if !r.Active || r.Kind != models.KindOAuthGrant || r.OwnerAccountID != alice || r.TenantID != e.a.ID {
			t.Fatalf("verify access token = %+v", r)
		}
		grantID := r.CredentialID
		if r.ExpiresAt.IsZero() || r.ExpiresAt.After(e.clock.Now().Add(time.Hour+time.Second)) {
			t.Errorf("verify expiresAt = %v, want the access token's expiry", r.ExpiresAt)
		}
		if r := e.verify(tr.AccessToken, "POST", "/4/worklogs"); r.Active || r.Reason != models.ReasonScopeDenied {
			t.Errorf("write with a view grant = %+v", r)
		}
		grants, err := e.svc.Grants(ctx, e.userA)
		if err != nil || len(grants) != 1 || grants[0].ID != grantID || grants[0].ClientID != c.ID || grants[0].Name != c.Name || grants[0].Scopes != "worklogs:view" {
			t.Fatalf("grants = %+v, %v", grants, err)
		}

		// Refresh rotates: a new pair; the grant's expiry slides.
		e.clock.Advance(time.Hour)
		tr2, err := e.token(c, "grant_type", "refresh_token", "refresh_token", tr.RefreshToken)
		if err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if tr2.RefreshToken == tr.RefreshToken || tr2.AccessToken == tr.AccessToken || tr2.Scope != "worklogs:view" {
			t.Fatalf("refresh response = %+v", tr2)
		}
		g, _ := store.NewCredentials(e.db).Get(ctx, e.a.ID, grantID)
		if want := e.clock.Now().Add(oauth.DefaultRefreshTTL); g.ExpiresAt == nil || !g.ExpiresAt.Equal(want) {
			t.Errorf("grant expiry after refresh = %v, want %v", g.ExpiresAt, want)
		}
		if r := e.verify(tr2.AccessToken, "GET", "/4/worklogs"); !r.Active || r.CredentialID != grantID {
			t.Fatalf("new access token = %+v", r)
		}
		// A narrower scope is accepted (the grant's scope is stated); a wider one is not.
		if _, err := e.token(c, "grant_type", "refresh_token", "refresh_token", tr2.RefreshToken, "scope", "worklogs:manage"); err == nil {
			t.Fatal("refresh with a wider scope accepted")
		} else {
			wantOAuthError(t, "wider scope", err, oauth.ErrCodeInvalidScope)
		}

		// The rotated token presented again at once (a concurrent loser or
		// a retry) is refused without revoking.
		_, err = e.token(c, "grant_type", "refresh_token", "refresh_token", tr.RefreshToken)
		wantOAuthError(t, "reuse within grace", err, oauth.ErrCodeInvalidGrant)
		if st := grantStatus(t, e, e.a.ID, grantID); st != models.StatusActive {
			t.Fatalf("grant %s after a reuse within the grace period", st)
		}
		// Later, reuse revokes the whole grant: every token dies.
		e.clock.Advance(oauth.RefreshReuseGrace + time.Second)
		_, err = e.token(c, "grant_type", "refresh_token", "refresh_token", tr.RefreshToken)
		wantOAuthError(t, "reuse", err, oauth.ErrCodeInvalidGrant)
		if st := grantStatus(t, e, e.a.ID, grantID); st != models.StatusRevoked {
			t.Fatalf("grant %s after refresh token reuse, want revoked", st)
		}
		if r := e.verify(tr2.AccessToken, "GET", "/4/worklogs"); r.Active || r.Reason != models.ReasonRevoked {
			t.Errorf("access token after reuse = %+v, want revoked", r)
		}
		_, err = e.token(c, "grant_type", "refresh_token", "refresh_token", tr2.RefreshToken)
		wantOAuthError(t, "refresh of a revoked grant", err, oauth.ErrCodeInvalidGrant)

		for _, action := range []string{"oauth.consent_approve", "oauth_grant.create", "oauth_grant.refresh_reuse", "oauth_client.create"} {
			if n := countAudit(t, e, action); n < 1 {
				t.Errorf("no %s audit event", action)
			}
		}
	})
}

func countAudit(t testing.TB, e *env, action string) int {
	t.Helper()
	events, err := store.NewAudit(e.db).List(context.Background(), e.a.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, ev := range events {
		if ev.Action == action {
			n++
		}
	}
	return n
}

func TestCodeIsSingleUseAndReplayRevokes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := &e.client(e.adminA, models.OAuthConfidential).Client
		code := e.code(e.userA, authParams(c.ID))
		tr := e.exchange(c, code)
		_, err := e.token(c, "grant_type", "authorization_code", "code", code, "redirect_uri", "https://app.example.com/callback", "code_verifier", verifier)
		wantOAuthError(t, "replayed code", err, oauth.ErrCodeInvalidGrant)
		if r := e.verify(tr.AccessToken, "GET", "/4/worklogs"); r.Active || r.Reason != models.ReasonRevoked {
			t.Fatalf("access token after code replay = %+v, want revoked", r)
		}
		_, err = e.token(c, "grant_type", "refresh_token", "refresh_token", tr.RefreshToken)
		wantOAuthError(t, "refresh after code replay", err, oauth.ErrCodeInvalidGrant)
	})
}

func TestCodeExchangeChecks(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := &e.client(e.adminA, models.OAuthConfidential).Client
		other := &e.client(e.adminA, models.OAuthConfidential).Client
		cases := []struct {
			name   string
			client *models.OAuthClient
			params []string // overrides of the token request
			auth   []string // overrides of the authorization request
			wait   time.Duration
		}{
			{name: "wrong redirect_uri", params: []string{"redirect_uri", "https://app.example.com/other"}},
			{name: "missing redirect_uri", params: []string{"redirect_uri", ""}},
			{name: "wrong verifier", params: []string{"code_verifier", strings.Repeat("a", 43)}},
			{name: "missing verifier", params: []string{"code_verifier", ""}},
			{name: "verifier without challenge", auth: []string{"code_challenge", "", "code_challenge_method", ""}},
			{name: "another client's code", client: other},
			{name: "expired code", wait: oauth.DefaultCodeTTL},
		}
		for _, tc := range cases {
			code := e.code(e.userA, authParams(c.ID, tc.auth...))
			e.clock.Advance(tc.wait)
			f := map[string]string{"grant_type": "authorization_code", "code": code, "redirect_uri": "https://app.example.com/callback", "code_verifier": verifier}
			for i := 0; i+1 < len(tc.params); i += 2 {
				f[tc.params[i]] = tc.params[i+1]
			}
			var kv []string
			for k, v := range f {
				if v != "" {
					kv = append(kv, k, v)
				}
			}
			cl := c
			if tc.client != nil {
				cl = tc.client
			}
			_, err := e.token(cl, kv...)
			wantOAuthError(t, tc.name, err, oauth.ErrCodeInvalidGrant)
			// The code is spent: even a correct request now fails.
			_, err = e.token(c, "grant_type", "authorization_code", "code", code, "redirect_uri", "https://app.example.com/callback", "code_verifier", verifier)
			wantOAuthError(t, tc.name+", then correct", err, oauth.ErrCodeInvalidGrant)
		}
		// Confidential client without PKCE, no verifier: fine.
		code := e.code(e.userA, authParams(c.ID, "code_challenge", "", "code_challenge_method", ""))
		if _, err := e.token(c, "grant_type", "authorization_code", "code", code, "redirect_uri", "https://app.example.com/callback"); err != nil {
			t.Fatalf("confidential client without PKCE: %v", err)
		}
		for _, kv := range [][]string{
			{"grant_type", "password"},
			{"grant_type", "client_credentials"},
		} {
			_, err := e.token(c, kv...)
			wantOAuthError(t, kv[1], err, oauth.ErrCodeUnsupportedGrantType)
		}
		_, err := e.token(c, "code", "x")
		wantOAuthError(t, "no grant_type", err, oauth.ErrCodeInvalidRequest)
		_, err = e.token(c, "grant_type", "authorization_code", "code", "kwac_not-a-code")
		wantOAuthError(t, "malformed code", err, oauth.ErrCodeInvalidGrant)
		_, err = e.token(c, "grant_type", "refresh_token", "refresh_token", "kwr_x")
		wantOAuthError(t, "malformed refresh token", err, oauth.ErrCodeInvalidGrant)
	})
}

func TestAuthorizeValidation(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		conf := &e.client(e.adminA, models.OAuthConfidential).Client
		pub := &e.client(e.adminA, models.OAuthPublic).Client
		disabled := &e.client(e.adminA, models.OAuthConfidential, func(in *oauth.ClientInput) { in.Disabled = ptr(true) }).Client

		// Never a redirect: unknown client, disabled client, a redirect_uri
		// that is not registered (open-redirect attempts).
		pages := []struct {
			name string
			q    url.Values
		}{
			{"unknown client", authParams("no-such-client")},
			{"no client", authParams(conf.ID, "client_id", "")},
			{"disabled client", authParams(disabled.ID)},
			{"foreign redirect", authParams(conf.ID, "redirect_uri", "https://evil.example.net/callback")},
			{"prefix trick", authParams(conf.ID, "redirect_uri", "https://app.example.com/callback.evil.net")},
			{"userinfo trick", authParams(conf.ID, "redirect_uri", "https://app.example.com@evil.example.net/callback")},
			{"path traversal", authParams(conf.ID, "redirect_uri", "https://app.example.com/callback/../../evil")},
			{"extra query", authParams(conf.ID, "redirect_uri", "https://app.example.com/callback?next=https://evil.example.net")},
			{"loopback port for a confidential client", authParams(conf.ID, "redirect_uri", "http://127.0.0.1:5555/native/cb")},
			{"redirect omitted with several registered", authParams(conf.ID, "redirect_uri", "")},
			{"duplicate redirect_uri", func() url.Values {
				q := authParams(conf.ID)
				q.Add("redirect_uri", "https://evil.example.net/")
				return q
			}()},
		}
		for _, p := range pages {
			loc, err := e.authorize(p.q)
			oe, ok := oauth.AsError(err)
			if loc != "" || !ok || oe.Redirect {
				t.Errorf("%s: location %q, error %v: want an error page and no redirect", p.name, loc, err)
			}
		}

		// Redirected back with an error (and the state).
		redirects := []struct {
			name string
			q    url.Values
			code string
		}{
			{"no response_type", authParams(conf.ID, "response_type", ""), oauth.ErrCodeInvalidRequest},
			{"implicit", authParams(conf.ID, "response_type", "token"), oauth.ErrCodeUnsupportedResponseType},
			{"unknown scope", authParams(conf.ID, "scope", "worklogs:delete"), oauth.ErrCodeInvalidScope},
			{"scope beyond the client", authParams(conf.ID, "scope", "accounts:view"), oauth.ErrCodeInvalidScope},
			{"full beyond the client", authParams(conf.ID, "scope", "full"), oauth.ErrCodeInvalidScope},
			{"public client without PKCE", authParams(pub.ID, "code_challenge", "", "code_challenge_method", ""), oauth.ErrCodeInvalidRequest},
			{"plain PKCE", authParams(pub.ID, "code_challenge_method", "plain", "code_challenge", verifier), oauth.ErrCodeInvalidRequest},
			{"challenge without method (plain by default)", authParams(pub.ID, "code_challenge_method", ""), oauth.ErrCodeInvalidRequest},
			{"short challenge", authParams(pub.ID, "code_challenge", "abc"), oauth.ErrCodeInvalidRequest},
			{"method without challenge", authParams(conf.ID, "code_challenge", ""), oauth.ErrCodeInvalidRequest},
		}
		for _, r := range redirects {
			loc, err := e.authorize(r.q)
			if err != nil {
				t.Errorf("%s: %v, want a redirect", r.name, err)
				continue
			}
			u, _ := url.Parse(loc)
			q := u.Query()
			if u.Host != "app.example.com" || q.Get("error") != r.code || q.Get("state") != "xyz-state" || q.Get("iss") != issuer || q.Get("error_description") == "" || q.Has("code") {
				t.Errorf("%s: redirect %q, want error %s with state", r.name, loc, r.code)
			}
		}

		// Public native app: loopback with any port; default scopes.
		loc, err := e.authorize(authParams(pub.ID, "redirect_uri", "http://127.0.0.1:49152/native/cb", "scope", ""))
		if err != nil || !strings.Contains(loc, "ac.request=") {
			t.Fatalf("loopback redirect: %q, %v", loc, err)
		}
		p, err := e.svc.PendingRequest(ctx, e.userA, requestID(t, loc))
		if err != nil || p.Request.Scopes != "teams:view worklogs:manage" || p.Request.RedirectURI != "http://127.0.0.1:49152/native/cb" {
			t.Fatalf("pending loopback request = %+v, %v", p, err)
		}

		// A site that is not installed cannot consent.
		if err := store.NewTenants(e.db).Save(ctx, func() *models.Tenant { t := *e.a; t.State = models.TenantDisabled; return &t }()); err != nil {
			t.Fatal(err)
		}
		loc, err = e.authorize(authParams(conf.ID))
		if oe, ok := oauth.AsError(err); loc != "" || !ok || oe.Redirect {
			t.Errorf("disabled site: %q, %v", loc, err)
		}
		if _, err := e.svc.AuthenticateClient(ctx, oauth.ClientAuth{ClientID: pub.ID}); err == nil {
			t.Error("client of a disabled site authenticated")
		}
	})
}

func TestConcurrentRefreshExactlyOneWins(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := &e.client(e.adminA, models.OAuthConfidential).Client
		tr := e.exchange(c, e.code(e.userA, authParams(c.ID)))
		const n = 20
		var (
			wg       sync.WaitGroup
			mu       sync.Mutex
			wins     []*oauth.TokenResponse
			failures []error
			start    = make(chan struct{})
		)
		for range n {
			wg.Go(func() {
				<-start
				r, err := e.token(c, "grant_type", "refresh_token", "refresh_token", tr.RefreshToken)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failures = append(failures, err)
				} else {
					wins = append(wins, r)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(wins) != 1 || len(failures) != n-1 {
			t.Fatalf("%d refreshes succeeded, %d failed, want exactly 1 success", len(wins), len(failures))
		}
		for _, err := range failures {
			wantOAuthError(t, "concurrent loser", err, oauth.ErrCodeInvalidGrant)
		}
		// The winner's tokens work: the losers did not trigger reuse detection.
		if r := e.verify(wins[0].AccessToken, "GET", "/4/worklogs"); !r.Active {
			t.Fatalf("winner's access token = %+v", r)
		}
		if _, err := e.token(c, "grant_type", "refresh_token", "refresh_token", wins[0].RefreshToken); err != nil {
			t.Fatalf("winner's refresh token: %v", err)
		}
	})
}

func TestConcurrentCodeExchangeExactlyOneWins(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		c := &e.client(e.adminA, models.OAuthConfidential).Client
		code := e.code(e.userA, authParams(c.ID))
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 10 {
			wg.Go(func() {
				_, err := e.token(c, "grant_type", "authorization_code", "code", code, "redirect_uri", "https://app.example.com/callback", "code_verifier", verifier)
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					wins++
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("%d exchanges of one code succeeded, want 1", wins)
		}
	})
}

func TestRevocationAndIntrospection(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := &e.client(e.adminA, models.OAuthConfidential).Client
		other := &e.client(e.adminA, models.OAuthConfidential).Client
		tr := e.exchange(c, e.code(e.userA, authParams(c.ID)))

		in, err := e.svc.Introspect(ctx, c, tr.AccessToken)
		if err != nil || !in.Active || in.Scope != "worklogs:view" || in.ClientID != c.ID || in.Sub != alice || in.TokenType != "Bearer" || in.Iss != issuer || in.Exp == 0 || in.Tenant != e.a.ID {
			t.Fatalf("introspect access token = %+v, %v", in, err)
		}
		if in, _ := e.svc.Introspect(ctx, c, tr.RefreshToken); !in.Active || in.TokenType != "refresh_token" {
			t.Fatalf("introspect refresh token = %+v", in)
		}
		if in, _ := e.svc.Introspect(ctx, nil, tr.RefreshToken); !in.Active {
			t.Fatalf("resource server introspection of a refresh token = %+v", in)
		}
		if in, _ := e.svc.Introspect(ctx, nil, tr.AccessToken); !in.Active {
			t.Fatalf("resource server introspection = %+v", in)
		}
		for name, tok := range map[string]string{"other client's view": tr.AccessToken, "unknown": "kwa_" + strings.Repeat("A", 49), "garbage": "hello", "code": "kwac_x"} {
			if in, err := e.svc.Introspect(ctx, other, tok); err != nil || in.Active || in.Scope != "" {
				t.Errorf("introspect %s = %+v, %v, want inactive", name, in, err)
			}
		}
		// Expired access token: inactive.
		e.clock.Advance(oauth.DefaultAccessTTL)
		if in, _ := e.svc.Introspect(ctx, c, tr.AccessToken); in.Active {
			t.Errorf("expired access token introspected active")
		}
		e.clock.Advance(-oauth.DefaultAccessTTL)

		// RFC 7009: unknown and foreign tokens are a no-op success.
		for name, tok := range map[string]string{"unknown": "kwr_" + strings.Repeat("A", 49), "garbage": "x"} {
			if err := e.svc.RevokeToken(ctx, c, tok, ""); err != nil {
				t.Errorf("revoke %s: %v", name, err)
			}
		}
		if err := e.svc.RevokeToken(ctx, other, tr.RefreshToken, "refresh_token"); err != nil {
			t.Fatal(err)
		}
		if r := e.verify(tr.AccessToken, "GET", "/4/worklogs"); !r.Active {
			t.Fatal("another client revoked this client's grant")
		}
		if err := e.svc.RevokeToken(ctx, c, "", ""); err == nil {
			t.Error("revoke without token accepted")
		}
		// Revoking the refresh token (with a wrong hint) revokes the grant.
		if err := e.svc.RevokeToken(ctx, c, tr.RefreshToken, "access_token"); err != nil {
			t.Fatal(err)
		}
		if r := e.verify(tr.AccessToken, "GET", "/4/worklogs"); r.Active || r.Reason != models.ReasonRevoked {
			t.Errorf("access token after refresh token revocation = %+v", r)
		}
		for _, tok := range []string{tr.AccessToken, tr.RefreshToken} {
			if in, _ := e.svc.Introspect(ctx, c, tok); in.Active {
				t.Errorf("revoked token introspected active")
			}
		}
		// Revoking an access token revokes its grant too.
		tr2 := e.exchange(c, e.code(e.userA, authParams(c.ID)))
		if err := e.svc.RevokeToken(ctx, c, tr2.AccessToken, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := e.token(c, "grant_type", "refresh_token", "refresh_token", tr2.RefreshToken); err == nil {
			t.Error("refresh after access token revocation succeeded")
		}
		// An API key is not an OAuth token.
		k, err := e.creds.CreateKey(ctx, credentialsOwner(e), keyInput())
		if err != nil {
			t.Fatal(err)
		}
		wantOAuthError(t, "revoke an API key", e.svc.RevokeToken(ctx, c, k.Secret, ""), oauth.ErrCodeUnsupportedTokenType)
	})
}

func TestClientAuthentication(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		conf := e.client(e.adminA, models.OAuthConfidential)
		pub := e.client(e.adminA, models.OAuthPublic)
		if pub.Secret != "" || pub.Client.SecretHash != nil {
			t.Fatal("public client got a secret")
		}
		good := []oauth.ClientAuth{{ClientID: conf.Client.ID, Secret: conf.Secret}, {ClientID: conf.Client.ID, Secret: conf.Secret, Basic: true}, {ClientID: pub.Client.ID}}
		for _, a := range good {
			if _, err := e.svc.AuthenticateClient(ctx, a); err != nil {
				t.Errorf("%+v refused: %v", a.ClientID, err)
			}
		}
		bad := []oauth.ClientAuth{
			{},
			{ClientID: "nope", Secret: conf.Secret},
			{ClientID: conf.Client.ID},
			{ClientID: conf.Client.ID, Secret: "wrong"},
			{ClientID: conf.Client.ID, Secret: pubSecretLike()},
			{ClientID: pub.Client.ID, Secret: conf.Secret},
		}
		for i, a := range bad {
			_, err := e.svc.AuthenticateClient(ctx, a)
			wantOAuthError(t, "bad client auth "+string(rune('0'+i)), err, oauth.ErrCodeInvalidClient)
		}
		_, err := e.svc.AuthenticateClient(ctx, oauth.ClientAuth{ClientID: conf.Client.ID, Secret: "wrong", Basic: true})
		if oe := wantOAuthError(t, "basic", err, oauth.ErrCodeInvalidClient); !oe.BasicAuth || oe.Status() != 401 {
			t.Errorf("basic failure = %+v", oe)
		}

		// Rotation: the old secret stops at once.
		rot, err := e.svc.RotateSecret(ctx, e.adminA, conf.Client.ID)
		if err != nil || rot.Secret == conf.Secret {
			t.Fatalf("rotate: %v", err)
		}
		if _, err := e.svc.AuthenticateClient(ctx, oauth.ClientAuth{ClientID: conf.Client.ID, Secret: conf.Secret}); err == nil {
			t.Error("old secret still works after rotation")
		}
		if _, err := e.svc.AuthenticateClient(ctx, oauth.ClientAuth{ClientID: conf.Client.ID, Secret: rot.Secret}); err != nil {
			t.Errorf("new secret: %v", err)
		}
		if _, err := e.svc.RotateSecret(ctx, e.adminA, pub.Client.ID); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("rotate a public client's secret: %v", err)
		}
		// Disabling stops token requests.
		if _, err := e.svc.UpdateClient(ctx, e.adminA, conf.Client.ID, oauth.ClientInput{Disabled: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.AuthenticateClient(ctx, oauth.ClientAuth{ClientID: conf.Client.ID, Secret: rot.Secret}); err == nil {
			t.Error("disabled client authenticated")
		}
	})
}

func pubSecretLike() string { return "kwcs_" + strings.Repeat("A", 50) }

func TestConsentDecisions(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		c := &e.client(e.adminA, models.OAuthConfidential, func(in *oauth.ClientInput) {
			in.AllowedUsers, in.AllowedGroups = []string{bob}, []string{"group-svc"}
		}).Client
		loc, _ := e.authorize(authParams(c.ID))
		id := requestID(t, loc)
		p, err := e.svc.PendingRequest(ctx, e.userA, id)
		if err != nil || p.Allowed {
			t.Fatalf("restricted app for alice: %+v, %v", p, err)
		}
		if _, err := e.svc.Decide(ctx, e.userA, id, true); !errors.Is(err, models.ErrForbidden) {
			t.Fatalf("alice approves a restricted app: %v", err)
		}
		to, err := e.svc.Decide(ctx, e.userA, id, false)
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(to)
		if u.Query().Get("error") != oauth.ErrCodeAccessDenied || u.Query().Get("state") != "xyz-state" || u.Query().Has("code") {
			t.Fatalf("deny redirect = %q", to)
		}
		if _, err := e.svc.Decide(ctx, e.userA, id, false); !errors.Is(err, models.ErrConflict) {
			t.Errorf("second decision: %v, want conflict", err)
		}
		// Named user and group members may approve.
		bobUser := oauth.User{Tenant: e.a, AccountID: bob}
		e.code(bobUser, authParams(c.ID))
		e.groups.members[alice] = []string{"group-svc"}
		e.code(e.userA, authParams(c.ID))
		// Requests expire.
		loc, _ = e.authorize(authParams(c.ID))
		e.clock.Advance(oauth.RequestTTL)
		if _, err := e.svc.Decide(ctx, e.userA, requestID(t, loc), true); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("decide an expired request: %v", err)
		}
	})
}

func TestOtherTenantsIDsAreNotFound(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		ca := &e.client(e.adminA, models.OAuthConfidential).Client
		cb := &e.client(e.adminB, models.OAuthConfidential).Client
		loc, _ := e.authorize(authParams(ca.ID))
		id := requestID(t, loc)
		if _, err := e.svc.PendingRequest(ctx, e.userB, id); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("site B reads site A's request: %v", err)
		}
		if _, err := e.svc.Decide(ctx, e.userB, id, true); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("site B approves site A's request: %v", err)
		}
		notFound := map[string]error{}
		_, notFound["get"] = e.svc.Client(ctx, e.adminB, ca.ID)
		_, notFound["update"] = e.svc.UpdateClient(ctx, e.adminB, ca.ID, oauth.ClientInput{Name: ptr("x")})
		_, notFound["rotate"] = e.svc.RotateSecret(ctx, e.adminB, ca.ID)
		_, notFound["revoke grants"] = e.svc.RevokeClientGrants(ctx, e.adminB, ca.ID, "r")
		notFound["delete"] = e.svc.DeleteClient(ctx, e.adminB, ca.ID, "r")
		for what, err := range notFound {
			if !errors.Is(err, models.ErrNotFound) {
				t.Errorf("site B %s site A's client: %v, want not found", what, err)
			}
		}
		if list, _ := e.svc.Clients(ctx, e.adminB); len(list) != 1 || list[0].ID != cb.ID {
			t.Errorf("site B's client list = %+v", list)
		}
		tr := e.exchange(ca, e.code(e.userA, authParams(ca.ID)))
		grantID := e.verify(tr.AccessToken, "GET", "/4/worklogs").CredentialID
		if _, err := e.svc.RevokeOwnGrant(ctx, e.userB, grantID, ""); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("site B user revokes site A's grant: %v", err)
		}
		if _, err := e.svc.RevokeOwnGrant(ctx, oauth.User{Tenant: e.a, AccountID: bob}, grantID, ""); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("bob revokes alice's grant: %v", err)
		}
		// Site B's client cannot use site A's tokens.
		_, err := e.token(cb, "grant_type", "refresh_token", "refresh_token", tr.RefreshToken)
		wantOAuthError(t, "site B's client refreshes site A's token", err, oauth.ErrCodeInvalidGrant)
		if in, _ := e.svc.Introspect(ctx, cb, tr.AccessToken); in.Active {
			t.Error("site B's client introspects site A's token")
		}
		if err := e.svc.RevokeToken(ctx, cb, tr.RefreshToken, ""); err != nil {
			t.Fatal(err)
		}
		if grantStatus(t, e, e.a.ID, grantID) != models.StatusActive {
			t.Error("site B's client revoked site A's grant")
		}
		// The owner may.
		g, err := e.svc.RevokeOwnGrant(ctx, e.userA, grantID, "")
		if err != nil || g.RevokedAt == nil || g.RevokedBy != alice {
			t.Fatalf("owner revokes: %+v, %v", g, err)
		}
		if g, err := e.svc.RevokeOwnGrant(ctx, e.userA, grantID, ""); err != nil || g.RevokedAt == nil {
			t.Errorf("revoke again: %+v, %v", g, err)
		}
	})
}

func TestClientAdminLifecycle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		invalid := []oauth.ClientInput{
			{Name: ptr(""), RedirectURIs: []string{"https://a.example/cb"}, AllowedScopes: []string{"full"}},
			{Name: ptr("x"), RedirectURIs: []string{"http://a.example/cb"}, AllowedScopes: []string{"full"}},
			{Name: ptr("x"), RedirectURIs: []string{"com.example.app:/cb"}, AllowedScopes: []string{"full"}},
			{Name: ptr("x"), RedirectURIs: nil, AllowedScopes: []string{"full"}},
			{Name: ptr("x"), RedirectURIs: []string{"https://a.example/cb"}},
			{Name: ptr("x"), RedirectURIs: []string{"https://a.example/cb"}, AllowedScopes: []string{"worklogs:delete"}},
			{Name: ptr("x"), Type: "secret", RedirectURIs: []string{"https://a.example/cb"}, AllowedScopes: []string{"full"}},
			{Name: ptr("x"), RedirectURIs: []string{"https://a.example/cb", "https://a.example/cb"}, AllowedScopes: []string{"full"}},
		}
		for i, in := range invalid {
			if _, err := e.svc.CreateClient(ctx, e.adminA, in); !errors.Is(err, models.ErrInvalid) {
				t.Errorf("invalid input %d: %v", i, err)
			}
		}
		if list, _ := e.svc.Clients(ctx, e.adminA); len(list) != 0 {
			t.Fatalf("invalid input created clients: %+v", list)
		}
		c := &e.client(e.adminA, models.OAuthConfidential).Client
		if c.OwnerAccountID != admin || c.CreatedBy != admin || c.Type != models.OAuthConfidential {
			t.Errorf("client = %+v", c)
		}
		up, err := e.svc.UpdateClient(ctx, e.adminA, c.ID, oauth.ClientInput{Name: ptr("Renamed"), AllowedScopes: []string{"worklogs:view"}})
		if err != nil || up.Name != "Renamed" || up.AllowedScopes != "worklogs:view" || len(up.RedirectURIs) != 2 {
			t.Fatalf("update = %+v, %v", up, err)
		}
		t1 := e.exchange(c, e.code(e.userA, authParams(c.ID)))
		t2 := e.exchange(c, e.code(oauth.User{Tenant: e.a, AccountID: bob}, authParams(c.ID)))
		if _, err := e.svc.RevokeClientGrants(ctx, e.adminA, c.ID, ""); !errors.Is(err, models.ErrInvalid) {
			t.Errorf("revoke grants without a reason: %v", err)
		}
		revoked, err := e.svc.RevokeClientGrants(ctx, e.adminA, c.ID, "app compromised")
		if err != nil || len(revoked) != 2 {
			t.Fatalf("revoke grants = %d, %v", len(revoked), err)
		}
		for _, tok := range []string{t1.AccessToken, t2.AccessToken} {
			if r := e.verify(tok, "GET", "/4/worklogs"); r.Reason != models.ReasonRevoked {
				t.Errorf("token after revoke-grants = %+v", r)
			}
		}
		t3 := e.exchange(c, e.code(e.userA, authParams(c.ID)))
		if err := e.svc.DeleteClient(ctx, e.adminA, c.ID, ""); err != nil {
			t.Fatal(err)
		}
		if r := e.verify(t3.AccessToken, "GET", "/4/worklogs"); r.Reason != models.ReasonRevoked {
			t.Errorf("token after client deletion = %+v", r)
		}
		if _, err := e.svc.Client(ctx, e.adminA, c.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("deleted client: %v", err)
		}
		if grants, _ := e.svc.Grants(ctx, e.userA); len(grants) != 2 {
			t.Errorf("grants of a deleted app stay listed (revoked): %d", len(grants))
		}
		for _, a := range []string{"oauth_client.update", "oauth_client.revoke_grants", "oauth_client.delete"} {
			if countAudit(t, e, a) == 0 {
				t.Errorf("no %s audit event", a)
			}
		}
	})
}

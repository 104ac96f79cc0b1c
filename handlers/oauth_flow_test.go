package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// TestOAuthFlowWithGoClient runs the whole 3LO flow with golang.org/x/oauth2
// as the client, against the real server: registration by an admin, the
// authorization request, consent by the user through the consent API, the
// code exchange with PKCE, verification by a resource server, refresh
// rotation, introspection, self-service listing and revocation.
func TestOAuthFlowWithGoClient(t *testing.T) {
	forEachOAuthDialect(t, func(t *testing.T, e *oauthEnv) {
		id, secret := e.registerClient(map[string]any{
			"name": "Timesheet sync", "type": "confidential", "redirectUris": []string{oaRedirect}, "allowedScopes": []string{"worklogs:manage", "teams:view"},
		})
		if !strings.HasPrefix(secret, "kwcs_") {
			t.Fatalf("client secret %q", secret)
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())
		for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams} {
			cfg := &oauth2.Config{
				ClientID: id, ClientSecret: secret, RedirectURL: oaRedirect, Scopes: []string{"worklogs:view"},
				Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/oauth/authorize", TokenURL: e.srv.URL + "/oauth/token", AuthStyle: style},
			}
			pkce := oauth2.GenerateVerifier()
			back := e.consent(cfg.AuthCodeURL("state-123", oauth2.S256ChallengeOption(pkce)), e.aliceA(), true)
			if back.Host != "app.example.com" || back.Query().Get("state") != "state-123" || back.Query().Get("iss") != e.srv.URL {
				t.Fatalf("consent sends the browser to %s", back)
			}
			tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
			if err != nil {
				t.Fatalf("exchange (%v): %v", style, err)
			}
			if !strings.HasPrefix(tok.AccessToken, "kwa_") || !strings.HasPrefix(tok.RefreshToken, "kwr_") || tok.TokenType != "Bearer" || tok.Extra("scope") != "worklogs:view" ||
				time.Until(tok.Expiry) < 59*time.Minute {
				t.Fatalf("token = %+v", tok)
			}
			v := e.verify(tok.AccessToken, "GET", "/4/worklogs")
			if v["active"] != true || v["kind"] != "oauth_grant" || v["principal"] != oaAlice || v["tenant"] != e.a.ID {
				t.Fatalf("verify = %v", v)
			}
			if v := e.verify(tok.AccessToken, "DELETE", "/4/worklogs/1"); v["active"] != false || v["reason"] != "scope_denied" {
				t.Errorf("delete with a view grant: %v", v)
			}

			// Refresh through the library: the token is rotated.
			tok.Expiry = time.Now().Add(-time.Minute)
			fresh, err := cfg.TokenSource(ctx, tok).Token()
			if err != nil {
				t.Fatalf("refresh: %v", err)
			}
			if fresh.RefreshToken == tok.RefreshToken || fresh.AccessToken == tok.AccessToken {
				t.Fatal("refresh did not rotate")
			}
			if v := e.verify(fresh.AccessToken, "GET", "/4/worklogs"); v["active"] != true || v["credentialId"] == "" {
				t.Fatalf("refreshed token = %v", v)
			}

			// Introspection with client credentials and as a resource server.
			in := e.call("POST", "/oauth/introspect", url.Values{"token": {fresh.AccessToken}}, "Authorization", basic(id, secret))
			if m := in.json(t); in.status != 200 || m["active"] != true || m["client_id"] != id || m["sub"] != oaAlice || m["scope"] != "worklogs:view" {
				t.Fatalf("introspect: %d %s", in.status, in.body)
			}
			in = e.call("POST", "/oauth/introspect", url.Values{"token": {fresh.RefreshToken}}, "Authorization", "Bearer "+oaRSToken)
			if m := in.json(t); m["active"] != true || m["token_type"] != "refresh_token" {
				t.Fatalf("resource server introspect: %s", in.body)
			}
			in = e.call("POST", "/oauth/introspect", url.Values{"token": {tok.RefreshToken}}, "Authorization", basic(id, secret))
			if m := in.json(t); m["active"] != false || len(m) != 1 {
				t.Fatalf("introspect a rotated refresh token: %s", in.body)
			}

			// Revocation (RFC 7009) of the refresh token kills the grant.
			r := e.call("POST", "/oauth/revoke", url.Values{"token": {fresh.RefreshToken}, "token_type_hint": {"refresh_token"}, "client_id": {id}, "client_secret": {secret}})
			if r.status != http.StatusOK || len(r.body) != 0 {
				t.Fatalf("revoke: %d %s", r.status, r.body)
			}
			if v := e.verify(fresh.AccessToken, "GET", "/4/worklogs"); v["active"] != false || v["reason"] != "revoked" {
				t.Fatalf("access token after revocation: %v", v)
			}
			if _, err := cfg.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken, Expiry: time.Now().Add(-time.Minute)}).Token(); err == nil {
				t.Fatal("refresh after revocation succeeded")
			} else if re, ok := err.(*oauth2.RetrieveError); !ok || re.ErrorCode != "invalid_grant" {
				t.Fatalf("refresh after revocation: %v", err)
			}
			e.noSecretsInLogs(secret, tok.AccessToken, tok.RefreshToken, fresh.AccessToken, fresh.RefreshToken, back.Query().Get("code"))
		}

		// "Apps you authorized": both grants, revoked.
		r := e.call("GET", "/api/me/v1/grants", nil, jwtAuth(e.aliceA())...)
		items, _ := r.json(t)["items"].([]any)
		if r.status != 200 || len(items) != 2 {
			t.Fatalf("grants: %d %s", r.status, r.body)
		}
		g := items[0].(map[string]any)
		if g["clientName"] != "Timesheet sync" || g["clientId"] != id || g["status"] != "revoked" || !slices.Equal(strs(g["scopes"]), []string{"worklogs:view"}) {
			t.Errorf("grant = %v", g)
		}
		// Bob sees none of them.
		r = e.call("GET", "/api/me/v1/grants", nil, jwtAuth(userJWT(t, oaClientKeyA, oaSecretA, oaBob))...)
		if items, _ := r.json(t)["items"].([]any); len(items) != 0 {
			t.Errorf("bob's grants: %s", r.body)
		}
	})
}

func basic(id, secret string) string {
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
	return req.Header.Get("Authorization")
}

// TestOAuthPublicClientAndSelfServiceRevoke: a public native client
// (loopback redirect, any port, PKCE, no secret) through x/oauth2, then the
// user revokes the app on the self-service page.
func TestOAuthPublicClientAndSelfServiceRevoke(t *testing.T) {
	forEachOAuthDialect(t, func(t *testing.T, e *oauthEnv) {
		id, secret := e.registerClient(map[string]any{
			"name": "CLI", "type": "public", "redirectUris": []string{"http://127.0.0.1/cb"}, "allowedScopes": []string{"full"},
		})
		if secret != "" {
			t.Fatal("public client got a secret")
		}
		ctx := context.WithValue(context.Background(), oauth2.HTTPClient, e.srv.Client())
		cfg := &oauth2.Config{ClientID: id, RedirectURL: "http://127.0.0.1:53682/cb", Scopes: []string{"full"},
			Endpoint: oauth2.Endpoint{AuthURL: e.srv.URL + "/oauth/authorize", TokenURL: e.srv.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInParams}}
		// Without PKCE: refused, back to the app.
		resp, err := e.noRedirect().Get(cfg.AuthCodeURL("s"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		if resp.StatusCode != http.StatusFound || loc.Host != "127.0.0.1:53682" || loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("public client without PKCE: %d %s", resp.StatusCode, resp.Header.Get("Location"))
		}
		// plain is refused too.
		resp, err = e.noRedirect().Get(cfg.AuthCodeURL("s", oauth2.SetAuthURLParam("code_challenge", oauth2.GenerateVerifier()), oauth2.SetAuthURLParam("code_challenge_method", "plain")))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if loc, _ := url.Parse(resp.Header.Get("Location")); loc.Query().Get("error") != "invalid_request" {
			t.Fatalf("plain PKCE: %s", resp.Header.Get("Location"))
		}

		pkce := oauth2.GenerateVerifier()
		back := e.consent(cfg.AuthCodeURL("s2", oauth2.S256ChallengeOption(pkce)), e.aliceA(), true)
		tok, err := cfg.Exchange(ctx, back.Query().Get("code"), oauth2.VerifierOption(pkce))
		if err != nil {
			t.Fatalf("public exchange: %v", err)
		}
		v := e.verify(tok.AccessToken, "DELETE", "/4/plans/1")
		if v["active"] != true {
			t.Fatalf("full grant: %v", v)
		}
		r := e.call("POST", "/api/me/v1/grants/"+v["credentialId"].(string)+"/revoke", nil, jwtAuth(userJWT(t, oaClientKeyA, oaSecretA, oaBob))...)
		if r.status != http.StatusNotFound {
			t.Errorf("bob revokes alice's grant: %d", r.status)
		}
		r = e.call("POST", "/api/me/v1/grants/"+v["credentialId"].(string)+"/revoke", nil, jwtAuth(e.aliceA())...)
		if r.status != http.StatusOK || r.json(t)["status"] != "revoked" {
			t.Fatalf("self-service revoke: %d %s", r.status, r.body)
		}
		if v := e.verify(tok.AccessToken, "GET", "/4/plans"); v["reason"] != "revoked" {
			t.Errorf("after self-service revoke: %v", v)
		}
		// A denial goes back with access_denied.
		back = e.consent(cfg.AuthCodeURL("s3", oauth2.S256ChallengeOption(pkce)), e.aliceA(), false)
		if back.Query().Get("error") != "access_denied" || back.Query().Get("state") != "s3" {
			t.Errorf("deny: %s", back)
		}
	})
}

// TestOAuthEndpointErrors: open-redirect attempts, RFC 6749 error bodies,
// client authentication failures, metadata.
func TestOAuthEndpointErrors(t *testing.T) {
	forEachOAuthDialect(t, func(t *testing.T, e *oauthEnv) {
		id, secret := e.registerClient(map[string]any{"name": "App", "redirectUris": []string{oaRedirect}, "allowedScopes": []string{"worklogs:view"}})

		// Open-redirect attempts: an error page, no Location header.
		for _, q := range []url.Values{
			{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {"https://evil.example.net/cb"}},
			{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {"https://app.example.com/callback/../../x"}},
			{"client_id": {id}, "response_type": {"code"}, "redirect_uri": {"//evil.example.net/callback"}},
			{"client_id": {"unknown"}, "response_type": {"code"}, "redirect_uri": {"https://evil.example.net/cb"}},
		} {
			r := e.call("GET", "/oauth/authorize?"+q.Encode(), nil)
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" || r.json(t)["error"] == "" {
				t.Errorf("authorize %v: %d Location %q %s", q, r.status, r.header.Get("Location"), r.body)
			}
			r = e.call("GET", "/oauth/authorize?"+q.Encode(), nil, "Accept", "text/html")
			if r.status != http.StatusBadRequest || r.header.Get("Location") != "" || !strings.Contains(string(r.body), "cannot be authorized") || strings.Contains(string(r.body), "evil.example.net") {
				t.Errorf("authorize page %v: %d %s", q, r.status, r.body)
			}
		}

		// Token endpoint errors: RFC 6749 bodies, no-store.
		cases := []struct {
			name   string
			form   url.Values
			header []string
			status int
			code   string
		}{
			{"bad secret (basic)", url.Values{"grant_type": {"authorization_code"}, "code": {"x"}}, []string{"Authorization", basic(id, "kwcs_wrong")}, 401, "invalid_client"},
			{"bad secret (post)", url.Values{"grant_type": {"authorization_code"}, "client_id": {id}, "client_secret": {"nope"}}, nil, 401, "invalid_client"},
			{"no client", url.Values{"grant_type": {"authorization_code"}}, nil, 401, "invalid_client"},
			{"both methods", url.Values{"grant_type": {"authorization_code"}, "client_secret": {secret}}, []string{"Authorization", basic(id, secret)}, 400, "invalid_request"},
			{"password grant", url.Values{"grant_type": {"password"}, "client_id": {id}, "client_secret": {secret}}, nil, 400, "unsupported_grant_type"},
			{"unknown code", url.Values{"grant_type": {"authorization_code"}, "code": {"kwac_" + strings.Repeat("x", 49)}}, []string{"Authorization", basic(id, secret)}, 400, "invalid_grant"},
			{"duplicate parameter", url.Values{"grant_type": {"refresh_token", "refresh_token"}}, []string{"Authorization", basic(id, secret)}, 400, "invalid_request"},
		}
		for _, c := range cases {
			r := e.call("POST", "/oauth/token", c.form, c.header...)
			m := r.json(t)
			if r.status != c.status || m["error"] != c.code || r.header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s: %d %s (Cache-Control %q), want %d %s", c.name, r.status, r.body, r.header.Get("Cache-Control"), c.status, c.code)
			}
			if c.code == "invalid_client" && len(c.header) > 0 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("%s: no WWW-Authenticate challenge", c.name)
			}
		}
		r := e.call("POST", "/oauth/token", map[string]any{"grant_type": "authorization_code"}, "Authorization", basic(id, secret))
		if r.status != 400 || r.json(t)["error"] != "invalid_request" {
			t.Errorf("JSON body to the token endpoint: %d %s", r.status, r.body)
		}
		// Revocation: unknown tokens are fine; client authentication is not optional.
		if r := e.call("POST", "/oauth/revoke", url.Values{"token": {"kwr_unknown"}}, "Authorization", basic(id, secret)); r.status != 200 {
			t.Errorf("revoke unknown: %d %s", r.status, r.body)
		}
		if r := e.call("POST", "/oauth/revoke", url.Values{"token": {"kwr_unknown"}, "client_id": {id}}); r.status != 401 || r.json(t)["error"] != "invalid_client" {
			t.Errorf("revoke without the secret: %d %s", r.status, r.body)
		}
		// Introspection needs a confidential client or a resource server token.
		if r := e.call("POST", "/oauth/introspect", url.Values{"token": {"kwa_x"}}, "Authorization", "Bearer not-a-resource-server"); r.status != 401 {
			t.Errorf("introspect with a bad bearer: %d", r.status)
		}
		if r := e.call("POST", "/oauth/introspect", url.Values{"token": {"kwa_x"}}); r.status != 401 {
			t.Errorf("introspect anonymously: %d", r.status)
		}
		if r := e.call("POST", "/oauth/introspect", url.Values{"token": {"kwa_x"}}, "Authorization", "Bearer "+oaRSToken); r.status != 200 || string(r.body) != "{\"active\":false}\n" {
			t.Errorf("introspect unknown: %d %s", r.status, r.body)
		}

		// Metadata (RFC 8414).
		r = e.call("GET", "/.well-known/oauth-authorization-server", nil)
		m := r.json(t)
		if r.status != 200 || m["issuer"] != e.srv.URL || m["token_endpoint"] != e.srv.URL+"/oauth/token" || m["authorization_endpoint"] != e.srv.URL+"/oauth/authorize" ||
			m["revocation_endpoint"] != e.srv.URL+"/oauth/revoke" || m["introspection_endpoint"] != e.srv.URL+"/oauth/introspect" ||
			!slices.Equal(strs(m["code_challenge_methods_supported"]), []string{"S256"}) || !slices.Contains(strs(m["scopes_supported"]), "worklogs:view") ||
			!slices.Equal(strs(m["grant_types_supported"]), []string{"authorization_code", "refresh_token"}) {
			t.Errorf("metadata: %s", r.body)
		}
	})
}

// TestOAuthAdminAndConsentAPIs: 401 without a user, 403 for non-admins,
// 404 for another site's ids, validation errors.
func TestOAuthAdminAndConsentAPIs(t *testing.T) {
	forEachOAuthDialect(t, func(t *testing.T, e *oauthEnv) {
		id, _ := e.registerClient(map[string]any{"name": "App", "redirectUris": []string{oaRedirect}, "allowedScopes": []string{"worklogs:view"}})
		paths := []struct{ method, path string }{
			{"GET", "/api/admin/v1/oauth/clients"}, {"GET", "/api/admin/v1/oauth/clients/" + id}, {"PATCH", "/api/admin/v1/oauth/clients/" + id},
			{"DELETE", "/api/admin/v1/oauth/clients/" + id}, {"POST", "/api/admin/v1/oauth/clients/" + id + "/rotate-secret"},
			{"POST", "/api/admin/v1/oauth/clients/" + id + "/revoke-grants"},
		}
		for _, p := range paths {
			if r := e.call(p.method, p.path, nil); r.status != 401 {
				t.Errorf("%s %s anonymously: %d", p.method, p.path, r.status)
			}
			if r := e.call(p.method, p.path, nil, jwtAuth(e.aliceA())...); r.status != 403 {
				t.Errorf("%s %s as a non-admin: %d", p.method, p.path, r.status)
			}
			if p.path == "/api/admin/v1/oauth/clients" {
				continue
			}
			body := map[string]any{"reason": "x"}
			if p.method == "PATCH" {
				body = map[string]any{"name": "x"}
			}
			if r := e.call(p.method, p.path, body, jwtAuth(e.adminB())...); r.status != 404 {
				t.Errorf("%s %s as site B's admin: %d %s", p.method, p.path, r.status, r.body)
			}
		}
		r := e.call("POST", "/api/admin/v1/oauth/clients", map[string]any{"name": "", "redirectUris": []string{"http://evil.example.net"}, "allowedScopes": []string{}}, jwtAuth(e.adminA())...)
		if r.status != 400 || !strings.Contains(string(r.body), "redirectUris[0]") {
			t.Errorf("invalid client: %d %s", r.status, r.body)
		}
		r = e.call("PATCH", "/api/admin/v1/oauth/clients/"+id, map[string]any{"name": "Renamed", "disabled": true}, jwtAuth(e.adminA())...)
		if m := r.json(t); r.status != 200 || m["name"] != "Renamed" || m["disabled"] != true || m["secretHint"] == "" {
			t.Errorf("patch: %d %s", r.status, r.body)
		}
		r = e.call("POST", "/api/admin/v1/oauth/clients/"+id+"/rotate-secret", nil, jwtAuth(e.adminA())...)
		rotated, _ := r.json(t)["clientSecret"].(string)
		if r.status != 200 || !strings.HasPrefix(rotated, "kwcs_") || r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("rotate: %d %s", r.status, r.body)
		}
		r = e.call("POST", "/api/admin/v1/oauth/clients/"+id+"/revoke-grants", map[string]any{}, jwtAuth(e.adminA())...)
		if r.status != 400 {
			t.Errorf("revoke-grants without a reason: %d %s", r.status, r.body)
		}
		r = e.call("GET", "/api/admin/v1/oauth/clients", nil, jwtAuth(e.adminA())...)
		if items := r.json(t)["items"].([]any); len(items) != 1 || strings.Contains(string(r.body), rotated) {
			t.Errorf("list: %s", r.body)
		}
		if r := e.call("GET", "/api/admin/v1/oauth/clients", nil, jwtAuth(e.adminB())...); len(r.json(t)["items"].([]any)) != 0 {
			t.Errorf("site B lists site A's clients: %s", r.body)
		}

		// The consent API: another site's request id is not found.
		id2, _ := e.registerClient(map[string]any{"name": "App2", "redirectUris": []string{oaRedirect}, "allowedScopes": []string{"worklogs:view"}})
		resp, err := e.noRedirect().Get(e.srv.URL + "/oauth/authorize?" + url.Values{"client_id": {id2}, "response_type": {"code"}, "redirect_uri": {oaRedirect}}.Encode())
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		loc, _ := url.Parse(resp.Header.Get("Location"))
		reqID := loc.Query().Get("ac.request")
		bobB := userJWT(t, oaClientKeyB, oaSecretB, oaBob)
		if r := e.call("GET", "/api/me/v1/oauth/requests/"+reqID, nil, jwtAuth(bobB)...); r.status != 404 {
			t.Errorf("site B reads site A's request: %d", r.status)
		}
		if r := e.call("POST", "/api/me/v1/oauth/requests/"+reqID+"/decision", map[string]any{"approve": true}, jwtAuth(bobB)...); r.status != 404 {
			t.Errorf("site B approves site A's request: %d", r.status)
		}
		if r := e.call("GET", "/api/me/v1/oauth/requests/"+reqID, nil); r.status != 401 {
			t.Errorf("anonymous consent request: %d", r.status)
		}
		if r := e.call("POST", "/api/me/v1/oauth/requests/"+reqID+"/decision", map[string]any{}, jwtAuth(e.aliceA())...); r.status != 400 {
			t.Errorf("decision without approve: %d", r.status)
		}
		r = e.call("GET", "/api/me/v1/oauth/requests/"+reqID, nil, jwtAuth(e.aliceA())...)
		if m := r.json(t); r.status != 200 || m["site"] != "https://"+oaClientKeyA+".atlassian.net" || m["redirectHost"] != "app.example.com" || m["allowed"] != true ||
			m["client"].(map[string]any)["name"] != "App2" || !slices.Equal(strs(m["scopes"]), []string{"worklogs:view"}) {
			t.Errorf("consent request: %d %s", r.status, r.body)
		}
		if r := e.call("DELETE", "/api/admin/v1/oauth/clients/"+id2, nil, jwtAuth(e.adminA())...); r.status != 204 {
			t.Errorf("delete: %d %s", r.status, r.body)
		}
		if r := e.call("GET", "/api/me/v1/oauth/requests/"+reqID, nil, jwtAuth(e.aliceA())...); r.status != 404 {
			t.Errorf("request of a deleted client: %d", r.status)
		}
	})
}

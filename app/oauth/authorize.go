package oauth

import (
	"context"
	"errors"
	"net/url"
	"unicode/utf8"

	"github.com/keyward/keyward/app/scope"
	"github.com/keyward/keyward/models"
)

// maxStateLength bounds the state parameter kept with a request.
const maxStateLength = 2048

// Authorize validates an authorization request (the query of GET
// /oauth/authorize), stores it pending the user's decision and returns the
// consent page to send the browser to.
//
// An unknown or disabled client, a bad redirect_uri or a site that cannot
// consent is returned as an *Error with Redirect false: show it, never
// redirect (no open redirect). Any other problem is returned as the
// client's redirect_uri carrying error, error_description, state and iss.
func (s *Service) Authorize(ctx context.Context, q url.Values) (string, error) {
	for _, name := range []string{"client_id", "redirect_uri"} {
		if len(q[name]) > 1 {
			return "", oerr(ErrCodeInvalidRequest, name+" must be given once")
		}
	}
	clientID := q.Get("client_id")
	if clientID == "" {
		return "", oerr(ErrCodeInvalidRequest, "client_id is required")
	}
	c, err := s.Store.ClientByID(ctx, clientID)
	if errors.Is(err, models.ErrNotFound) {
		return "", oerr(ErrCodeInvalidClient, "unknown client_id")
	} else if err != nil {
		return "", err
	}
	if c.DisabledAt != nil {
		return "", oerr(ErrCodeUnauthorizedClient, "this app has been disabled by the site's administrators")
	}
	redirectURI, given := q.Get("redirect_uri"), true
	if redirectURI == "" {
		if len(c.RedirectURIs) != 1 {
			return "", oerr(ErrCodeInvalidRequest, "redirect_uri is required: the app has several registered")
		}
		redirectURI, given = c.RedirectURIs[0], false
	} else if !matchRedirectURI(c, redirectURI) {
		return "", oerr(ErrCodeInvalidRequest, "redirect_uri does not match any URI registered for this app")
	}
	t, err := s.Tenants.Get(ctx, c.TenantID)
	if err != nil {
		return "", err
	}
	if t.State != models.TenantInstalled {
		return "", oerr(ErrCodeTemporarilyUnavailable, "keyward is not enabled on this app's Jira site")
	}

	// From here on the redirect_uri is trusted: errors go back to the app.
	state := q.Get("state")
	fail := func(code, description string) (string, error) {
		if utf8.RuneCountInString(state) > maxStateLength {
			state = ""
		}
		return withParams(redirectURI, url.Values{"error": {code}, "error_description": {description}, "state": {state}, "iss": {s.cfg.Issuer}}), nil
	}
	for _, name := range []string{"response_type", "scope", "state", "code_challenge", "code_challenge_method"} {
		if len(q[name]) > 1 {
			return fail(ErrCodeInvalidRequest, name+" must be given once")
		}
	}
	switch rt := q.Get("response_type"); rt {
	case "code":
	case "":
		return fail(ErrCodeInvalidRequest, "response_type is required")
	default:
		return fail(ErrCodeUnsupportedResponseType, "only response_type=code is supported")
	}
	if q.Has("request") || q.Has("request_uri") {
		return fail("request_not_supported", "request objects are not supported")
	}
	if utf8.RuneCountInString(state) > maxStateLength {
		return fail(ErrCodeInvalidRequest, "state is too long (at most 2048 characters)")
	}
	allowed, err := scope.ParseString(c.AllowedScopes)
	if err != nil {
		return "", err
	}
	requested := allowed
	if raw := q.Get("scope"); raw != "" {
		requested, err = scope.ParseString(raw)
		if err != nil {
			return fail(ErrCodeInvalidScope, err.Error())
		}
		if requested == (scope.Set{}) {
			return fail(ErrCodeInvalidScope, "scope names no scope")
		}
		if !requested.Within(allowed) {
			return fail(ErrCodeInvalidScope, "scope exceeds what the site's administrators allow this app: "+c.AllowedScopes)
		}
	}
	challenge, method := q.Get("code_challenge"), q.Get("code_challenge_method")
	switch {
	case challenge == "" && method != "":
		return fail(ErrCodeInvalidRequest, "code_challenge_method without code_challenge")
	case challenge == "" && c.Type == models.OAuthPublic:
		return fail(ErrCodeInvalidRequest, "PKCE is required for public clients: send code_challenge with code_challenge_method=S256")
	case challenge != "" && method != pkceS256:
		return fail(ErrCodeInvalidRequest, "only code_challenge_method=S256 is supported (plain is refused)")
	case challenge != "" && !validS256Challenge(challenge):
		return fail(ErrCodeInvalidRequest, "code_challenge must be 43 characters of base64url (an S256 digest)")
	}
	if challenge == "" {
		method = ""
	}

	id, err := randomID()
	if err != nil {
		return "", err
	}
	now := s.now()
	r := &models.OAuthRequest{
		ID: id, TenantID: c.TenantID, ClientID: c.ID, RedirectURI: redirectURI, RedirectURIGiven: given,
		Scopes: requested.String(), State: state, CodeChallenge: challenge, CodeChallengeMethod: method,
		CreatedAt: now, ExpiresAt: now.Add(RequestTTL),
	}
	page, err := s.cfg.Consent.URL(t, id)
	if err != nil {
		return "", &Error{Code: ErrCodeTemporarilyUnavailable, Description: "this app's Jira site has no consent page configured"}
	}
	if err := s.Store.CreateRequest(ctx, r); err != nil {
		return "", err
	}
	return page, nil
}

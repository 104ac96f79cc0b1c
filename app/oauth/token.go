package oauth

import (
	"context"
	"errors"
	"net/url"
	"time"

	"github.com/keyward/keyward/app/credentials"
	"github.com/keyward/keyward/app/scope"
	"github.com/keyward/keyward/app/store"
	"github.com/keyward/keyward/app/token"
	"github.com/keyward/keyward/models"
)

// TokenResponse is a successful token endpoint answer (RFC 6749 5.1).
type TokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
}

// Token serves POST /oauth/token for an authenticated client: grant types
// authorization_code and refresh_token.
func (s *Service) Token(ctx context.Context, c *models.OAuthClient, form url.Values) (*TokenResponse, error) {
	for name, vs := range form {
		if len(vs) > 1 {
			return nil, oerr(ErrCodeInvalidRequest, name+" must be given once")
		}
	}
	switch gt := form.Get("grant_type"); gt {
	case "authorization_code":
		return s.exchangeCode(ctx, c, form)
	case "refresh_token":
		return s.refresh(ctx, c, form)
	case "":
		return nil, oerr(ErrCodeInvalidRequest, "grant_type is required")
	default:
		return nil, oerr(ErrCodeUnsupportedGrantType, "supported grant types: authorization_code, refresh_token")
	}
}

// issued is a fresh access and refresh token pair.
type issued struct {
	access, refresh string
	accessHash      [32]byte
	refreshHash     [32]byte
}

func newPair() (*issued, error) {
	a, err := token.New(token.KindAccessToken)
	if err != nil {
		return nil, err
	}
	r, err := token.New(token.KindRefreshToken)
	if err != nil {
		return nil, err
	}
	return &issued{access: a, refresh: r, accessHash: token.Hash(a), refreshHash: token.Hash(r)}, nil
}

func (s *Service) response(p *issued, scopes string) *TokenResponse {
	return &TokenResponse{AccessToken: p.access, TokenType: "Bearer", ExpiresIn: int64(s.cfg.AccessTTL.Seconds()), RefreshToken: p.refresh, Scope: scopes}
}

// exchangeCode redeems an authorization code once. A code presented again
// revokes the grant it was exchanged for (RFC 6749 section 4.1.2).
func (s *Service) exchangeCode(ctx context.Context, c *models.OAuthClient, form url.Values) (*TokenResponse, error) {
	code := form.Get("code")
	if code == "" {
		return nil, oerr(ErrCodeInvalidRequest, "code is required")
	}
	if kind, err := token.Parse(code); err != nil || kind != token.KindAuthCode {
		return nil, oerr(ErrCodeInvalidGrant, "invalid authorization code")
	}
	pair, err := newPair()
	if err != nil {
		return nil, err
	}
	h := token.Hash(code)
	allowed, err := s.codeUserAllowed(ctx, c, h[:])
	if err != nil {
		return nil, err
	}
	now := s.now()
	var (
		failure   *Error
		replayOf  string // grant to revoke after a replay
		grantedTo string
		scopes    string
	)
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		first, err := s.Store.UseCode(ctx, c.TenantID, h[:], now)
		if err != nil {
			return err
		}
		r, err := s.Store.RequestByCode(ctx, c.TenantID, h[:])
		if errors.Is(err, models.ErrNotFound) {
			failure = oerr(ErrCodeInvalidGrant, "invalid authorization code")
			return nil
		} else if err != nil {
			return err
		}
		// The code is spent from here on, whatever else is wrong: the
		// transaction commits with code_used_at set.
		switch {
		case !first:
			replayOf, failure = r.GrantID, oerr(ErrCodeInvalidGrant, "authorization code already used")
			return nil
		case r.ClientID != c.ID:
			failure = oerr(ErrCodeInvalidGrant, "authorization code was issued to another client")
			return nil
		case r.CodeExpiresAt == nil || !now.Before(*r.CodeExpiresAt):
			failure = oerr(ErrCodeInvalidGrant, "authorization code expired")
			return nil
		}
		if failure = checkCodeRequest(r, form); failure != nil {
			return nil
		}
		if !allowed {
			failure = oerr(ErrCodeInvalidGrant, "the app's administrators no longer allow this user to authorize it")
			return nil
		}
		if !scopesStillAllowed(r.Scopes, c.AllowedScopes) {
			failure = oerr(ErrCodeInvalidGrant, "the app's allowed scopes changed since the user consented; ask again")
			return nil
		}
		g, err := s.createGrant(ctx, c, r, pair, now)
		if err != nil {
			return err
		}
		grantedTo, scopes = g.ID, g.Scopes
		return s.Store.SetCodeGrant(ctx, c.TenantID, r.ID, g.ID)
	})
	if err != nil {
		return nil, err
	}
	if replayOf != "" {
		s.revokeGrant(ctx, c.TenantID, replayOf, "authorization code replayed", "oauth_grant.code_replay")
	}
	if failure != nil {
		return nil, failure
	}
	s.Log.WithFields(map[string]any{"tenant": c.TenantID, "client": c.ID, "grant": grantedTo}).Info("oauth grant created")
	return s.response(pair, scopes), nil
}

// checkCodeRequest checks redirect_uri and the PKCE verifier of a token
// request against the authorization request.
func checkCodeRequest(r *models.OAuthRequest, form url.Values) *Error {
	redirectURI, given := form.Get("redirect_uri"), form.Has("redirect_uri")
	if r.RedirectURIGiven && redirectURI != r.RedirectURI || !r.RedirectURIGiven && given && redirectURI != r.RedirectURI {
		return oerr(ErrCodeInvalidGrant, "redirect_uri differs from the authorization request")
	}
	verifier := form.Get("code_verifier")
	switch {
	case r.CodeChallenge != "" && verifier == "":
		return oerr(ErrCodeInvalidGrant, "code_verifier is required (the authorization request had a code_challenge)")
	case r.CodeChallenge != "" && !verifyPKCE(r.CodeChallenge, verifier):
		return oerr(ErrCodeInvalidGrant, "code_verifier does not match the code_challenge")
	case r.CodeChallenge == "" && verifier != "":
		return oerr(ErrCodeInvalidGrant, "code_verifier sent but the authorization request had no code_challenge")
	}
	return nil
}

func scopesStillAllowed(granted, allowed string) bool {
	g, err1 := scope.ParseString(granted)
	a, err2 := scope.ParseString(allowed)
	return err1 == nil && err2 == nil && g.Within(a)
}

// createGrant stores a new grant with its first access and refresh tokens.
func (s *Service) createGrant(ctx context.Context, c *models.OAuthClient, r *models.OAuthRequest, p *issued, now time.Time) (*models.Credential, error) {
	expires := now.Add(s.cfg.RefreshTTL)
	accessExp := minTime(now.Add(s.cfg.AccessTTL), expires)
	g := &models.Credential{
		ID: newID(), TenantID: c.TenantID, Kind: models.KindOAuthGrant, OwnerAccountID: r.DecidedBy, Name: c.Name,
		Hint: token.Hint(p.access), Scopes: r.Scopes, ClientID: c.ID, CreatedAt: now, UpdatedAt: now, ExpiresAt: &expires,
	}
	if err := s.Credentials.Create(ctx, g, &models.CredentialSecret{Hash: p.accessHash[:], TenantID: c.TenantID, CredentialID: g.ID, CreatedAt: now, ExpiresAt: &accessExp}); err != nil {
		return nil, err
	}
	if err := s.Store.CreateRefreshToken(ctx, &models.OAuthRefreshToken{Hash: p.refreshHash[:], TenantID: c.TenantID, GrantID: g.ID, CreatedAt: now, ExpiresAt: expires}); err != nil {
		return nil, err
	}
	return g, s.Audit.Record(ctx, auditEvent(c.TenantID, now, r.DecidedBy, "oauth_grant.create", string(models.KindOAuthGrant), g.ID, "",
		map[string]any{"client": c.ID, "clientName": c.Name, "scopes": g.Scopes, "expiresAt": expires}))
}

// refresh rotates a refresh token: the presented one is marked used and a
// new pair is issued, in one transaction; of concurrent refreshes with the
// same token exactly one succeeds. A rotated token presented again after
// RefreshReuseGrace revokes the grant.
func (s *Service) refresh(ctx context.Context, c *models.OAuthClient, form url.Values) (*TokenResponse, error) {
	presented := form.Get("refresh_token")
	if presented == "" {
		return nil, oerr(ErrCodeInvalidRequest, "refresh_token is required")
	}
	if kind, err := token.Parse(presented); err != nil || kind != token.KindRefreshToken {
		return nil, oerr(ErrCodeInvalidGrant, "invalid refresh token")
	}
	var want scope.Set
	if raw := form.Get("scope"); raw != "" {
		var err error
		if want, err = scope.ParseString(raw); err != nil {
			return nil, oerr(ErrCodeInvalidScope, err.Error())
		}
	}
	pair, err := newPair()
	if err != nil {
		return nil, err
	}
	h := token.Hash(presented)
	if excluded, err := s.refreshUserExcluded(ctx, c, h[:]); err != nil {
		return nil, err
	} else if excluded != "" {
		s.revokeGrant(ctx, c.TenantID, excluded, reasonUserNotAllowed, actionUserNotAllowed)
		return nil, oerr(ErrCodeInvalidGrant, "the app's administrators no longer allow this user; the grant is revoked")
	}
	now := s.now()
	var (
		failure  *Error
		reused   string
		narrowed string
		scopes   string
	)
	err = s.Tx.InTx(ctx, func(ctx context.Context) error {
		rt, err := s.Store.GetRefreshToken(ctx, c.TenantID, h[:])
		if errors.Is(err, models.ErrNotFound) {
			failure = oerr(ErrCodeInvalidGrant, "invalid refresh token")
			return nil
		} else if err != nil {
			return err
		}
		g, err := s.Credentials.GetForUpdate(ctx, c.TenantID, rt.GrantID)
		if errors.Is(err, models.ErrNotFound) {
			failure = oerr(ErrCodeInvalidGrant, "invalid refresh token")
			return nil
		} else if err != nil {
			return err
		}
		if g.ClientID != c.ID || g.Kind != models.KindOAuthGrant {
			// Not this client's token: refuse without spending it.
			failure = oerr(ErrCodeInvalidGrant, "refresh token was issued to another client")
			return nil
		}
		if st := g.Status(now); st != models.StatusActive {
			failure = oerr(ErrCodeInvalidGrant, "the grant is "+string(st))
			return nil
		}
		m, err := s.Store.GrantState(ctx, c.TenantID, g.ID)
		if err != nil {
			return err
		}
		if reason := inactiveReason(m); reason != "" {
			// Refused like its access tokens at /v1/verify, without
			// spending the token or revoking the grant: it works again if
			// the owner is reactivated (offboarding revokes when it
			// should).
			failure = oerr(ErrCodeInvalidGrant, inactiveDescription[reason])
			return nil
		}
		if !scopesStillAllowed(g.Scopes, c.AllowedScopes) {
			// The admin narrowed the app below what the user granted: the
			// grant ends, and the user must authorize the app again.
			narrowed, failure = g.ID, oerr(ErrCodeInvalidGrant, "the app's allowed scopes no longer cover this grant; the grant is revoked, authorize again")
			return nil
		}
		if want != (scope.Set{}) {
			// A narrower scope is accepted; the tokens keep the grant's
			// scope, which the response states.
			granted, err := scope.ParseString(g.Scopes)
			if err != nil || !want.Within(granted) {
				failure = oerr(ErrCodeInvalidScope, "scope exceeds the grant: "+g.Scopes)
				return nil
			}
		}
		first, err := s.Store.UseRefreshToken(ctx, c.TenantID, h[:], now)
		if err != nil {
			return err
		}
		if !first {
			if rt, err = s.Store.GetRefreshToken(ctx, c.TenantID, h[:]); err != nil {
				return err
			}
			switch {
			case rt.UsedAt != nil && now.Sub(*rt.UsedAt) > RefreshReuseGrace:
				reused, failure = g.ID, oerr(ErrCodeInvalidGrant, "refresh token already used; the grant is revoked")
			case rt.UsedAt != nil:
				failure = oerr(ErrCodeInvalidGrant, "refresh token already used")
			default:
				failure = oerr(ErrCodeInvalidGrant, "refresh token expired")
			}
			return nil
		}
		expires := now.Add(s.cfg.RefreshTTL)
		accessExp := minTime(now.Add(s.cfg.AccessTTL), expires)
		if err := s.Credentials.AddSecret(ctx, &models.CredentialSecret{Hash: pair.accessHash[:], TenantID: c.TenantID, CredentialID: g.ID, CreatedAt: now, ExpiresAt: &accessExp}); err != nil {
			return err
		}
		if err := s.Store.CreateRefreshToken(ctx, &models.OAuthRefreshToken{Hash: pair.refreshHash[:], TenantID: c.TenantID, GrantID: g.ID, CreatedAt: now, ExpiresAt: expires}); err != nil {
			return err
		}
		if err := s.Store.SetReplacedBy(ctx, c.TenantID, h[:], pair.refreshHash[:]); err != nil {
			return err
		}
		g.ExpiresAt, g.Hint, g.UpdatedAt = &expires, token.Hint(pair.access), now
		if err := s.Credentials.Update(ctx, g); err != nil {
			return err
		}
		scopes = g.Scopes
		// Rows a day past their expiry only make "expired" answers
		// "unknown"; drop them so a long-lived grant stays small.
		return s.Store.PruneGrant(ctx, c.TenantID, g.ID, now.Add(-24*time.Hour))
	})
	if err != nil {
		return nil, err
	}
	if reused != "" {
		s.revokeGrant(ctx, c.TenantID, reused, "refresh token reused after rotation", "oauth_grant.refresh_reuse")
	}
	if narrowed != "" {
		s.revokeGrant(ctx, c.TenantID, narrowed, "the app's allowed scopes were narrowed below this grant", "oauth_grant.scopes_narrowed")
	}
	if failure != nil {
		return nil, failure
	}
	return s.response(pair, scopes), nil
}

// revokeGrant revokes a grant on keyward's own account (reuse or replay
// detected, or a restriction that no longer admits its owner). A failure
// is logged: the caller's answer is a refusal anyway.
func (s *Service) revokeGrant(ctx context.Context, tenantID, grantID, reason, action string) {
	_, err := s.Revoker.Revoke(ctx, store.RevokeFilter{TenantID: tenantID, IDs: []string{grantID}, Kind: models.KindOAuthGrant},
		credentials.Revocation{Actor: credentials.ActorSystem, Reason: reason, Action: action})
	entry := s.Log.WithFields(map[string]any{"tenant": tenantID, "grant": grantID, "reason": reason})
	if err != nil {
		entry.WithError(err).Error("oauth: could not revoke grant")
		return
	}
	entry.Warn("oauth: grant revoked")
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

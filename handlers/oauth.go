package handlers

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"html/template"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/oauth"
	"github.com/keyward/keyward/models"
)

// OAuthServer is the authorization server as the /oauth endpoints, the
// consent API and the self-service grants API use it.
type OAuthServer interface {
	Authorize(ctx context.Context, q url.Values) (string, error)
	AuthenticateClient(ctx context.Context, a oauth.ClientAuth) (*models.OAuthClient, error)
	Token(ctx context.Context, c *models.OAuthClient, form url.Values) (*oauth.TokenResponse, error)
	RevokeToken(ctx context.Context, c *models.OAuthClient, token, hint string) error
	Introspect(ctx context.Context, caller *models.OAuthClient, token string) (*oauth.Introspection, error)
	Metadata() oauth.Metadata

	PendingRequest(ctx context.Context, u oauth.User, id string) (*oauth.PendingRequest, error)
	Decide(ctx context.Context, u oauth.User, id string, approve bool) (string, error)
	Grants(ctx context.Context, u oauth.User) ([]models.Credential, error)
	RevokeOwnGrant(ctx context.Context, u oauth.User, id, reason string) (*models.Credential, error)
}

// registerOAuth adds the OAuth routes: the protocol endpoints, the consent
// and grants API under me, client management under admin.
func registerOAuth(e *echo.Echo, me, admin *echo.Group, d Deps, rs *resourceServers) {
	if d.OAuth == nil {
		return
	}
	h := &oauthHandlers{svc: d.OAuth, rs: rs, log: d.Log}
	e.GET("/.well-known/oauth-authorization-server", h.metadata)
	e.GET("/oauth/authorize", h.authorize)
	e.POST("/oauth/token", h.token)
	e.POST("/oauth/revoke", h.revoke)
	e.POST("/oauth/introspect", h.introspect)

	g := &grantHandlers{svc: d.OAuth}
	me.GET("/oauth/requests/:id", g.request)
	me.POST("/oauth/requests/:id/decision", g.decide)
	me.GET("/grants", g.list)
	me.POST("/grants/:id/revoke", g.revoke)

	if d.OAuthClients != nil {
		a := &oauthAdminHandlers{svc: d.OAuthClients}
		admin.GET("/oauth/clients", a.list)
		admin.POST("/oauth/clients", a.create)
		admin.GET("/oauth/clients/:id", a.get)
		admin.PATCH("/oauth/clients/:id", a.update)
		admin.DELETE("/oauth/clients/:id", a.delete)
		admin.POST("/oauth/clients/:id/rotate-secret", a.rotateSecret)
		admin.POST("/oauth/clients/:id/revoke-grants", a.revokeGrants)
	}
}

type oauthHandlers struct {
	svc OAuthServer
	rs  *resourceServers
	log *logrus.Entry
}

func (h *oauthHandlers) metadata(c echo.Context) error {
	c.Response().Header().Set("Cache-Control", "public, max-age=3600")
	return c.JSON(http.StatusOK, h.svc.Metadata())
}

// authorize validates the request and sends the browser to the consent page
// inside the site's Jira, or back to the app with an error. A request
// whose client or redirect_uri cannot be trusted gets an error page.
func (h *oauthHandlers) authorize(c echo.Context) error {
	noStore(c)
	loc, err := h.svc.Authorize(c.Request().Context(), c.QueryParams())
	if err != nil {
		oe, ok := oauth.AsError(err)
		if !ok {
			return err
		}
		return authorizeErrorPage(c, oe)
	}
	return c.Redirect(http.StatusFound, loc)
}

var errorPage = template.Must(template.New("error").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Authorization failed</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#172b4d}code{background:#f4f5f7;padding:0 .25rem}</style>
</head><body><h1>This app cannot be authorized</h1>
<p>{{.Description}}</p>
<p>Error: <code>{{.Code}}</code>. Tell the app's developer or your Jira administrator.</p>
</body></html>`))

// authorizeErrorPage shows an error to the person in the browser (HTML) or
// to a program (JSON); it never redirects.
func authorizeErrorPage(c echo.Context, oe *oauth.Error) error {
	status := http.StatusBadRequest
	if oe.Code == oauth.ErrCodeTemporarilyUnavailable {
		status = http.StatusServiceUnavailable
	}
	if strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/html") {
		var b strings.Builder
		if err := errorPage.Execute(&b, oe); err != nil {
			return err
		}
		c.Response().Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
		return c.HTML(status, b.String())
	}
	return c.JSON(status, oauthErrorBody{Error: oe.Code, Description: oe.Description})
}

type oauthErrorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// oauthError answers a token, revocation or introspection request with an
// RFC 6749 section 5.2 error body.
func (h *oauthHandlers) oauthError(c echo.Context, err error) error {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		return he // e.g. a body over the limit: the one error handler answers
	}
	oe, ok := oauth.AsError(err)
	if !ok {
		code := oauth.ErrCodeServerError
		if errors.Is(err, models.ErrUnavailable) {
			code = oauth.ErrCodeTemporarilyUnavailable
		}
		requestLog(c, h.log).WithError(err).Error("oauth request failed")
		oe = &oauth.Error{Code: code}
	} else {
		requestLog(c, h.log).WithFields(logrus.Fields{"error": oe.Code, "reason": oe.Description}).Info("oauth request refused")
	}
	if oe.Code == oauth.ErrCodeInvalidClient && oe.BasicAuth {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Basic realm="keyward", charset="UTF-8"`)
	}
	noStore(c)
	return c.JSON(oe.Status(), oauthErrorBody{Error: oe.Code, Description: oe.Description})
}

// form parses an application/x-www-form-urlencoded body.
func form(c echo.Context) (url.Values, error) {
	mt, _, _ := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if mt != echo.MIMEApplicationForm {
		return nil, &oauth.Error{Code: oauth.ErrCodeInvalidRequest, Description: "the body must be application/x-www-form-urlencoded"}
	}
	if err := c.Request().ParseForm(); err != nil {
		var tooLarge *echo.HTTPError
		if errors.As(err, &tooLarge) {
			return nil, tooLarge
		}
		return nil, &oauth.Error{Code: oauth.ErrCodeInvalidRequest, Description: "the body is not a valid form"}
	}
	return c.Request().PostForm, nil
}

// clientAuth reads client_secret_basic or client_secret_post credentials
// (or a public client's bare client_id). Using both methods is refused.
func clientAuth(r *http.Request, f url.Values) (oauth.ClientAuth, error) {
	if id, secret, ok := r.BasicAuth(); ok {
		if f.Has("client_secret") {
			return oauth.ClientAuth{}, &oauth.Error{Code: oauth.ErrCodeInvalidRequest, Description: "use one client authentication method, not both"}
		}
		// RFC 6749 section 2.3.1: both parts are form-urlencoded first.
		if v, err := url.QueryUnescape(id); err == nil {
			id = v
		}
		if v, err := url.QueryUnescape(secret); err == nil {
			secret = v
		}
		if fid := f.Get("client_id"); fid != "" && fid != id {
			return oauth.ClientAuth{}, &oauth.Error{Code: oauth.ErrCodeInvalidRequest, Description: "client_id differs from the Basic credentials"}
		}
		return oauth.ClientAuth{ClientID: id, Secret: secret, Basic: true}, nil
	}
	if len(f["client_id"]) > 1 || len(f["client_secret"]) > 1 {
		return oauth.ClientAuth{}, &oauth.Error{Code: oauth.ErrCodeInvalidRequest, Description: "client credentials must be given once"}
	}
	return oauth.ClientAuth{ClientID: f.Get("client_id"), Secret: f.Get("client_secret")}, nil
}

// authenticated parses the form and authenticates the client.
func (h *oauthHandlers) authenticated(c echo.Context) (*models.OAuthClient, url.Values, error) {
	f, err := form(c)
	if err != nil {
		return nil, nil, err
	}
	a, err := clientAuth(c.Request(), f)
	if err != nil {
		return nil, nil, err
	}
	client, err := h.svc.AuthenticateClient(c.Request().Context(), a)
	if err != nil {
		return nil, nil, err
	}
	c.Set(logTenantKey, client.TenantID)
	return client, f, nil
}

func (h *oauthHandlers) token(c echo.Context) error {
	client, f, err := h.authenticated(c)
	if err != nil {
		return h.oauthError(c, err)
	}
	f.Del("client_id")
	f.Del("client_secret")
	resp, err := h.svc.Token(c.Request().Context(), client, f)
	if err != nil {
		return h.oauthError(c, err)
	}
	noStore(c)
	return c.JSON(http.StatusOK, resp)
}

// revoke is RFC 7009: 200 with an empty body whether or not the token was
// known.
func (h *oauthHandlers) revoke(c echo.Context) error {
	client, f, err := h.authenticated(c)
	if err != nil {
		return h.oauthError(c, err)
	}
	if err := h.svc.RevokeToken(c.Request().Context(), client, f.Get("token"), f.Get("token_type_hint")); err != nil {
		return h.oauthError(c, err)
	}
	noStore(c)
	return c.NoContent(http.StatusOK)
}

// introspect is RFC 7662, for the app's own tokens (client credentials) or
// for resource servers (a KEYWARD_VERIFY_TOKENS bearer).
func (h *oauthHandlers) introspect(c echo.Context) error {
	var caller *models.OAuthClient
	var f url.Values
	var err error
	if tok := bearerToken(c.Request()); tok != "" {
		if !h.rs.allows(tok) {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="keyward"`)
			return h.oauthError(c, &oauth.Error{Code: oauth.ErrCodeInvalidClient, Description: "unknown resource server token"})
		}
		if f, err = form(c); err != nil {
			return h.oauthError(c, err)
		}
	} else {
		if caller, f, err = h.authenticated(c); err != nil {
			return h.oauthError(c, err)
		}
		if caller.Type != models.OAuthConfidential {
			return h.oauthError(c, &oauth.Error{Code: oauth.ErrCodeInvalidClient, Description: "public clients cannot introspect tokens"})
		}
	}
	out, err := h.svc.Introspect(c.Request().Context(), caller, f.Get("token"))
	if err != nil {
		return h.oauthError(c, err)
	}
	noStore(c)
	return c.JSON(http.StatusOK, out)
}

// allows reports whether tok is one of the resource servers' tokens
// (constant time).
func (rs *resourceServers) allows(tok string) bool {
	d := sha256.Sum256([]byte(tok))
	ok := 0
	for i := range rs.digests {
		ok |= subtle.ConstantTimeCompare(d[:], rs.digests[i][:])
	}
	return ok == 1
}

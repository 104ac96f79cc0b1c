package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/models"
)

// accessLogger writes one JSON line per request at Debug level (and costs
// nothing at higher levels). Query strings are left out: Connect puts its
// JWT there.
func accessLogger(log *logrus.Entry) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			if !log.Logger.IsLevelEnabled(logrus.DebugLevel) {
				return nil // below the configured level: build no fields
			}
			req := c.Request()
			requestLog(c, log).WithFields(logrus.Fields{
				"method":     req.Method,
				"path":       req.URL.Path,
				"status":     c.Response().Status,
				"bytes":      c.Response().Size,
				"latency_ms": float64(time.Since(start).Microseconds()) / 1000,
				"ip":         c.RealIP(),
			}).Debug("request")
			return nil
		}
	}
}

// TenantLookup resolves tenants and their secrets for authentication.
type TenantLookup interface {
	SharedSecret(ctx context.Context, clientKey string) (*models.Tenant, []byte, error)
	ForgeTenant(ctx context.Context, inv tenants.ForgeInvocation) (*models.Tenant, error)
}

// FITVerifier verifies Forge Invocation Tokens.
type FITVerifier interface {
	Verify(ctx context.Context, token string) (*auth.FITClaims, error)
}

// connectToken returns the Connect JWT of a request: the jwt query
// parameter wins over the Authorization header.
func connectToken(r *http.Request) string {
	if t := r.URL.Query().Get("jwt"); t != "" {
		return t
	}
	if h := r.Header.Get(echo.HeaderAuthorization); len(h) > 4 && strings.EqualFold(h[:4], "JWT ") {
		return strings.TrimSpace(h[4:])
	}
	return ""
}

func bearerToken(r *http.Request) string {
	if h := r.Header.Get(echo.HeaderAuthorization); len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

// authenticator turns Connect JWTs and Forge Invocation Tokens into a
// Principal.
type authenticator struct {
	tenants TenantLookup
	connect *auth.ConnectVerifier
	fit     FITVerifier // nil when no Forge app id is configured
	baseURL string      // KEYWARD_BASE_URL: its path prefix is not part of qsh
	log     *logrus.Entry
}

func (a *authenticator) relPath(r *http.Request) string {
	return auth.RelativePath(a.baseURL, r.URL.EscapedPath())
}

type (
	tenantHolderKey struct{}
	tenantHolder    struct{ tenant *models.Tenant }
)

// secretLookup finds a Connect site's shared secret and remembers the site
// for the request that asked, so one lookup serves verification and routing.
func (a *authenticator) secretLookup(ctx context.Context, clientKey string) ([]byte, error) {
	t, secret, err := a.tenants.SharedSecret(ctx, clientKey)
	if err != nil {
		if errors.Is(err, models.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w", auth.ErrUnknownIssuer, err)
		}
		return nil, err
	}
	if h, ok := ctx.Value(tenantHolderKey{}).(*tenantHolder); ok {
		h.tenant = t
	}
	return secret, nil
}

// connectClaims verifies the request's Connect JWT.
func (a *authenticator) connectClaims(c echo.Context, allowContext bool) (*auth.ConnectClaims, *models.Tenant, error) {
	token := connectToken(c.Request())
	if token == "" {
		return nil, nil, errUnauthenticated
	}
	r := c.Request()
	holder := &tenantHolder{}
	claims, err := a.connect.Verify(context.WithValue(r.Context(), tenantHolderKey{}, holder), token, auth.ConnectRequest{Method: r.Method, Path: a.relPath(r), RawQuery: r.URL.RawQuery, AllowContextQSH: allowContext})
	if err != nil {
		requestLog(c, a.log).WithField("reason", err.Error()).Info("connect jwt refused")
		return nil, nil, errUnauthenticated
	}
	return claims, holder.tenant, nil
}

// forgePrincipal verifies the request's Forge Invocation Token.
func (a *authenticator) forgePrincipal(c echo.Context) (*Principal, *auth.FITClaims, error) {
	if a.fit == nil {
		return nil, nil, errUnauthenticated
	}
	token := bearerToken(c.Request())
	if token == "" {
		return nil, nil, errUnauthenticated
	}
	claims, err := a.fit.Verify(c.Request().Context(), token)
	if err != nil {
		requestLog(c, a.log).WithField("reason", err.Error()).Info("forge invocation token refused")
		return nil, nil, errUnauthenticated
	}
	t, err := a.tenants.ForgeTenant(c.Request().Context(), tenants.ForgeInvocation{
		InstallationID: claims.InstallationID,
		APIBaseURL:     claims.APIBaseURL,
		CloudID:        claims.CloudID,
		SiteURL:        claims.SiteURL,
		SystemToken:    c.Request().Header.Get("x-forge-oauth-system"),
	})
	if err != nil {
		return nil, nil, err
	}
	return &Principal{Tenant: t, AccountID: claims.Principal, Via: "forge"}, claims, nil
}

// forgeTrigger authenticates a Forge trigger (product or lifecycle event,
// scheduled trigger). The app's pages can invoke any path of the remote,
// so a token that names a user (a principal: the invoking user's
// accountId, which only UI invocations carry) is a page's call and is
// refused here with 403: an ordinary user must not post user events or
// start jobs. A context (cloudId, siteUrl) alone does not refuse a token:
// it is not established that Forge trigger tokens never carry one (a
// Forge-hosted scheduled trigger does receive context.cloudId), and
// refusing genuine triggers would stop every Forge site's events. Such a
// token is accepted and logged as a warning.
func (a *authenticator) forgeTrigger(c echo.Context) (*Principal, *auth.FITClaims, error) {
	p, claims, err := a.forgePrincipal(c)
	if err != nil {
		return nil, nil, err
	}
	if claims.Principal != "" {
		requestLog(c, a.log).WithField("module", claims.ModuleKey).Warn("forge UI invocation token presented to a trigger endpoint")
		return nil, nil, newAPIError(http.StatusForbidden, "not_a_trigger", "this endpoint accepts only Forge triggers")
	}
	if claims.CloudID != "" || claims.SiteURL != "" {
		requestLog(c, a.log).WithField("module", claims.ModuleKey).Warn("forge trigger token carries a context without a principal; accepted")
	}
	return p, claims, nil
}

// requireForgeTrigger is forgeTrigger as middleware.
func (a *authenticator) requireForgeTrigger(next echo.HandlerFunc) echo.HandlerFunc {
	return withPrincipal(a.forgeTrigger, next)
}

// withPrincipal runs next with the principal authenticate finds.
func withPrincipal(authenticate func(echo.Context) (*Principal, *auth.FITClaims, error), next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, _, err := authenticate(c)
		if err != nil {
			return err
		}
		setPrincipal(c, p)
		return next(c)
	}
}

// requireConnect authenticates Connect calls with a query-string-hash JWT
// (pages, webhooks, lifecycle). allowContext marks routes meant for the
// page's own XHR calls, where context-qsh tokens are accepted.
func (a *authenticator) requireConnect(allowContext bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			claims, t, err := a.connectClaims(c, allowContext)
			if err != nil {
				return err
			}
			setPrincipal(c, &Principal{Tenant: t, AccountID: claims.Subject, Via: "connect"})
			return next(c)
		}
	}
}

// requireForge authenticates Forge remote calls.
func (a *authenticator) requireForge(next echo.HandlerFunc) echo.HandlerFunc {
	return withPrincipal(a.forgePrincipal, next)
}

// requireUser authenticates the page's API calls: a Connect context JWT
// (Authorization: JWT) or a Forge Invocation Token (Authorization: Bearer),
// and requires an identified user of an installed site.
func (a *authenticator) requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		var p *Principal
		if bearerToken(c.Request()) != "" {
			fp, _, err := a.forgePrincipal(c)
			if err != nil {
				return err
			}
			p = fp
		} else {
			claims, t, err := a.connectClaims(c, true)
			if err != nil {
				return err
			}
			p = &Principal{Tenant: t, AccountID: claims.Subject, Via: "connect"}
		}
		if p.AccountID == "" {
			return errUnauthenticated
		}
		if p.Tenant.State != models.TenantInstalled {
			return newAPIError(http.StatusForbidden, "site_not_active", "keyward is not enabled on this site")
		}
		setPrincipal(c, p)
		return next(c)
	}
}

// boundRequestID drops a client's X-Request-Id unless it is a short token
// of letters, digits and ". _ -": the id is echoed and logged with every
// line of the request, so it must not carry arbitrary text. RequestID then
// makes a fresh one.
func boundRequestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header
		if id := h.Get(echo.HeaderXRequestID); id != "" && !plainRequestID(id) {
			h.Del(echo.HeaderXRequestID)
		}
		return next(c)
	}
}

func plainRequestID(id string) bool {
	if len(id) > 64 {
		return false
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == '-':
		default:
			return false
		}
	}
	return true
}

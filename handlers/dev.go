package handlers

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/models"
)

// DevTokens signs Connect context tokens for the local dev site. Only dev
// mode (KEYWARD_DEV=1, loopback only) provides one.
type DevTokens interface {
	// Token signs a token for the dev admin (as "admin") or the dev user
	// (as "user").
	Token(as string) (token string, expiresAt time.Time, err error)
}

// registerDev adds the dev-mode routes: open a page with a fresh token, or
// refresh the token from the page.
func registerDev(e *echo.Echo, dev DevTokens) {
	g := e.Group("/dev", localHostOnly)
	g.GET("/admin", devRedirect(dev, "admin", "/ui/admin"))
	g.GET("/me", devRedirect(dev, "user", "/ui/me"))
	g.GET("/token", func(c echo.Context) error {
		as := c.QueryParam("as")
		if as != "admin" && as != "user" {
			return models.Invalid("as", "must be admin or user")
		}
		tok, exp, err := dev.Token(as)
		if err != nil {
			return err
		}
		noStore(c)
		return c.JSON(http.StatusOK, map[string]any{"token": tok, "expiresAt": exp})
	})
}

// localHostOnly answers dev routes only for requests addressed to this
// machine by name or loopback address: a page elsewhere that rebinds its
// own host name to 127.0.0.1 (DNS rebinding) gets 403, not a dev token.
func localHostOnly(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		host := c.Request().Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		host = strings.Trim(host, "[]")
		if ip := net.ParseIP(host); !(host == "localhost" || ip != nil && ip.IsLoopback()) {
			return newAPIError(http.StatusForbidden, "dev_local_only", "dev mode answers only on localhost")
		}
		return next(c)
	}
}

// devRedirect sends the browser to a page with the token in the fragment,
// which never reaches a server or a log.
func devRedirect(dev DevTokens, as, page string) echo.HandlerFunc {
	return func(c echo.Context) error {
		tok, _, err := dev.Token(as)
		if err != nil {
			return err
		}
		noStore(c)
		return c.Redirect(http.StatusFound, page+"#token="+url.QueryEscape(tok))
	}
}

package handlers

import (
	"net/http"
	"net/url"
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
	e.GET("/dev/admin", devRedirect(dev, "admin", "/ui/admin"))
	e.GET("/dev/me", devRedirect(dev, "user", "/ui/me"))
	e.GET("/dev/token", func(c echo.Context) error {
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

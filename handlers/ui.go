package handlers

import (
	"bytes"
	"errors"
	"io/fs"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
)

// uiCSP lets the page load Atlassian's Connect JS and be framed by Jira
// Cloud (and by itself), and nothing else.
const uiCSP = "default-src 'self'; " +
	"script-src 'self' https://connect-cdn.atl-paas.net; " +
	"style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
	"frame-ancestors 'self' https://*.atlassian.net https://*.jira.com; " +
	"base-uri 'self'; form-action 'self'; object-src 'none'"

// uiHandler serves the embedded single-page app under /ui/: files by
// name, every other path (/ui/admin, /ui/me, /ui/consent) as index.html.
type uiHandler struct {
	files fs.FS
}

func (h *uiHandler) serve(c echo.Context) error {
	name := strings.TrimPrefix(c.Param("*"), "/")
	// Assets are referenced relatively (./assets/...), so a page at any
	// depth under /ui/ asks for them below its own path.
	if i := strings.LastIndex(name, "assets/"); i >= 0 && (i == 0 || name[i-1] == '/') {
		return h.file(c, name[i:], "public, max-age=31536000, immutable")
	}
	if name != "" && name != "index.html" && !strings.HasSuffix(name, "/") {
		if st, err := fs.Stat(h.files, name); err == nil && st.Mode().IsRegular() {
			return h.file(c, name, "no-cache")
		}
	}
	c.Response().Header().Set("Content-Security-Policy", uiCSP)
	return h.file(c, "index.html", "no-cache")
}

func (h *uiHandler) file(c echo.Context, name, cacheControl string) error {
	if !fs.ValidPath(name) {
		return echo.ErrNotFound
	}
	b, err := fs.ReadFile(h.files, name)
	if errors.Is(err, fs.ErrNotExist) {
		return echo.ErrNotFound
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", cacheControl)
	http.ServeContent(c.Response(), c.Request(), name, time.Time{}, bytes.NewReader(b))
	return nil
}

// uiRoot sends /ui to the admin page.
func uiRoot(c echo.Context) error {
	return c.Redirect(http.StatusFound, "ui/admin")
}

package handlers

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/labstack/echo/v4"
)

func uiServer() *echo.Echo {
	e := echo.New()
	ui := &uiHandler{files: fstest.MapFS{
		"index.html":           {Data: []byte(`<!doctype html><script src="./assets/index-abc.js"></script>`)},
		"assets/index-abc.js":  {Data: []byte(`console.log(1)`)},
		"assets/index-abc.css": {Data: []byte(`body{}`)},
		"favicon.svg":          {Data: []byte(`<svg/>`)},
	}}
	e.GET("/ui", uiRoot)
	e.GET("/ui/*", ui.serve)
	e.HEAD("/ui/*", ui.serve)
	return e
}

func TestUIServesPagesAssetsAndFallback(t *testing.T) {
	e := uiServer()
	tests := []struct {
		name, method, path string
		status             int
		body, cache, ctype string
		csp                bool
	}{
		{"admin page", "GET", "/ui/admin", 200, "<!doctype html>", "no-cache", "text/html", true},
		{"self-service page", "GET", "/ui/me", 200, "<!doctype html>", "no-cache", "text/html", true},
		{"consent with query", "GET", "/ui/consent?request=abc", 200, "<!doctype html>", "no-cache", "text/html", true},
		{"deep route falls back", "GET", "/ui/admin/credentials/42", 200, "<!doctype html>", "no-cache", "text/html", true},
		{"index by name", "GET", "/ui/index.html", 200, "<!doctype html>", "no-cache", "text/html", true},
		{"hashed asset", "GET", "/ui/assets/index-abc.js", 200, "console.log", "public, max-age=31536000, immutable", "javascript", false},
		{"asset from a nested page", "GET", "/ui/admin/assets/index-abc.css", 200, "body{}", "public, max-age=31536000, immutable", "text/css", false},
		{"other file", "GET", "/ui/favicon.svg", 200, "<svg/>", "no-cache", "image/svg+xml", false},
		{"missing asset is 404, not the page", "GET", "/ui/assets/nope.js", 404, "", "", "", false},
		{"traversal stays inside", "GET", "/ui/assets/../../go.mod", 404, "", "", "", false},
		{"head", "HEAD", "/ui/admin", 200, "", "no-cache", "text/html", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tc.status, rec.Body)
			}
			if tc.status != 200 {
				return
			}
			if !strings.Contains(rec.Body.String(), tc.body) {
				t.Errorf("body %q lacks %q", rec.Body, tc.body)
			}
			if got := rec.Header().Get("Cache-Control"); got != tc.cache {
				t.Errorf("Cache-Control %q, want %q", got, tc.cache)
			}
			if got := rec.Header().Get("Content-Type"); !strings.Contains(got, tc.ctype) {
				t.Errorf("Content-Type %q, want %q", got, tc.ctype)
			}
			csp := rec.Header().Get("Content-Security-Policy")
			if tc.csp != (csp != "") {
				t.Fatalf("CSP %q, want present=%v", csp, tc.csp)
			}
			if tc.csp {
				for _, want := range []string{"https://connect-cdn.atl-paas.net", "frame-ancestors 'self' https://*.atlassian.net https://*.jira.com", "default-src 'self'"} {
					if !strings.Contains(csp, want) {
						t.Errorf("CSP %q lacks %q", csp, want)
					}
				}
			}
		})
	}
}

func TestUIRootRedirectsToAdmin(t *testing.T) {
	rec := httptest.NewRecorder()
	uiServer().ServeHTTP(rec, httptest.NewRequest("GET", "/ui", nil))
	if rec.Code != http.StatusFound || rec.Header().Get("Location") != "ui/admin" {
		t.Fatalf("got %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

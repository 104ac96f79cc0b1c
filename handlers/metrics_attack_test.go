package handlers_test

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
)

// TestAttackRegression_MetricsMethodCardinality: every invented method name
// once became a label value of the request histogram, so anyone could grow
// the registry (and every scrape) without limit. Methods outside the
// standard ones are counted as OTHER.
func TestAttackRegression_MetricsMethodCardinality(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		for i := range 50 {
			e.do(fmt.Sprintf("X-INVENTED-%03d", i), "/healthz", nil)
		}
		e.do(http.MethodGet, "/healthz", nil)
		rec := e.do(http.MethodGet, "/metrics", nil)
		if rec.Code != http.StatusOK {
			t.Fatalf("metrics: %d", rec.Code)
		}
		methods := map[string]bool{}
		for _, m := range regexp.MustCompile(`method="([^"]*)"`).FindAllStringSubmatch(rec.Body.String(), -1) {
			methods[m[1]] = true
		}
		if len(methods) > 8 || !methods["OTHER"] || !methods["GET"] {
			t.Fatalf("method label values %v, want the standard methods and OTHER", methods)
		}
	})
}

// TestClientRequestIDBounded: a client's X-Request-Id is kept when it is a
// short plain token and replaced otherwise.
func TestClientRequestIDBounded(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		for id, keep := range map[string]bool{
			"abc-123_x.y":              true,
			strings.Repeat("a", 65):    false,
			"with space":               false,
			"inject\"}{\"admin\":true": false,
			"ünicode":                  false,
		} {
			rec := e.do(http.MethodGet, "/healthz", nil, echo.HeaderXRequestID, id)
			got := rec.Header().Get(echo.HeaderXRequestID)
			if keep != (got == id) || got == "" {
				t.Errorf("X-Request-Id %q answered as %q (keep %v)", id, got, keep)
			}
		}
	})
}

package handlers

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/models"
)

// rejectBadText refuses requests whose path, query or form values are not
// valid UTF-8 or contain NUL: such text cannot be stored (PostgreSQL refuses
// it) and is never legitimate here. 400 before anything else runs.
func rejectBadText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !cleanText(r.URL.Path) {
			return models.Invalid("path", "must be valid UTF-8 without NUL characters")
		}
		for name, vs := range r.URL.Query() {
			if !cleanText(name) {
				return models.Invalid("query", "parameter names must be valid UTF-8 without NUL characters")
			}
			for _, v := range vs {
				if !cleanText(v) {
					return models.Invalid(truncate(name, 64), "must be valid UTF-8 without NUL characters")
				}
			}
		}
		if r.Method == http.MethodPost && strings.HasPrefix(r.Header.Get(echo.HeaderContentType), echo.MIMEApplicationForm) {
			if err := r.ParseForm(); err != nil {
				return models.Invalid("body", "malformed form body")
			}
			for name, vs := range r.PostForm {
				for _, v := range append(vs, name) {
					if !cleanText(v) {
						return models.Invalid(truncate(name, 64), "must be valid UTF-8 without NUL characters")
					}
				}
			}
		}
		return next(c)
	}
}

// cleanText reports whether s is valid UTF-8 without NUL.
func cleanText(s string) bool {
	return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}

package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// descriptor serves the rendered Connect descriptor.
func descriptor(body []byte) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, body)
	}
}

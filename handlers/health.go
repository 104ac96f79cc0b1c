package handlers

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// Readiness reports whether the database answers and its schema is current.
type Readiness interface {
	Ping(ctx context.Context) error
	CheckSchema(ctx context.Context) error
}

func healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func readyz(db Readiness) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		checks := map[string]string{"database": "ok", "schema": "ok"}
		status := http.StatusOK
		if err := db.Ping(ctx); err != nil {
			checks["database"], checks["schema"], status = "unreachable", "unknown", http.StatusServiceUnavailable
		} else if err := db.CheckSchema(ctx); err != nil {
			checks["schema"], status = "outdated", http.StatusServiceUnavailable
		}
		state := "ready"
		if status != http.StatusOK {
			state = "not_ready"
		}
		return c.JSON(status, map[string]any{"status": state, "checks": checks})
	}
}

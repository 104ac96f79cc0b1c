package handlers

import (
	"context"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/models"
)

// SiteAdmins tells whether a user administers a site (checked against Jira).
type SiteAdmins interface {
	IsSiteAdmin(ctx context.Context, t *models.Tenant, accountID string) (bool, error)
}

// requireAdmin lets only the site's Jira administrators through; it runs
// after requireUser.
func requireAdmin(admins SiteAdmins) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p, err := userPrincipal(c)
			if err != nil {
				return err
			}
			ok, err := admins.IsSiteAdmin(c.Request().Context(), p.Tenant, p.AccountID)
			if err != nil {
				return err
			}
			if !ok {
				return models.ErrForbidden
			}
			return next(c)
		}
	}
}

package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/auth"
	"github.com/keyward/keyward/app/tenants"
	"github.com/keyward/keyward/models"
)

// Lifecycle is the tenant service as the lifecycle callbacks use it.
type Lifecycle interface {
	ConnectInstalled(ctx context.Context, p tenants.InstallPayload) (*models.Tenant, error)
	ConnectUninstalled(ctx context.Context, clientKey string) error
	ConnectEnabled(ctx context.Context, clientKey string) error
	ConnectDisabled(ctx context.Context, clientKey string) error
	IsGone(ctx context.Context, clientKey string) bool
}

// InstallVerifier verifies the RS256 tokens of signed installs.
type InstallVerifier interface {
	Verify(ctx context.Context, token, bodyClientKey, method, relPath string) (*auth.ConnectClaims, error)
}

type lifecycleHandlers struct {
	svc     Lifecycle
	install InstallVerifier
	auth    *authenticator
}

func readInstallPayload(c echo.Context) (tenants.InstallPayload, error) {
	var p tenants.InstallPayload
	body, err := readBody(c)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return p, jsonFieldError(err)
	}
	return p, p.Validate(false)
}

// errInstallKeyBusy answers a signed install or uninstall whose key could
// not be fetched now (auth.ErrKeyFetchBusy): temporary, so that Atlassian
// or the admin retries.
var errInstallKeyBusy = newAPIError(http.StatusServiceUnavailable, "unavailable", "temporarily unavailable, try again later")

// verifySigned checks the signed-install token of installed/uninstalled.
// Every refusal of the token is the generic 401; only a key that may not
// be fetched right now (the per-process fetch budget is spent, or too many
// fetches are in flight) is 503 with Retry-After, since nothing is known
// about the token then.
func (h *lifecycleHandlers) verifySigned(c echo.Context, clientKey string) error {
	token := connectToken(c.Request())
	if token == "" {
		return errUnauthenticated
	}
	r := c.Request()
	if _, err := h.install.Verify(r.Context(), token, clientKey, r.Method, h.auth.relPath(r)); err != nil {
		if errors.Is(err, auth.ErrKeyFetchBusy) {
			requestLog(c, h.auth.log).WithField("reason", err.Error()).Warn("signed install deferred: install key fetch busy")
			c.Response().Header().Set("Retry-After", strconv.Itoa(int(auth.KeyFetchRetryAfter/time.Second)))
			return errInstallKeyBusy
		}
		requestLog(c, h.auth.log).WithField("reason", err.Error()).Warn("signed install refused")
		return errUnauthenticated
	}
	return nil
}

func (h *lifecycleHandlers) installed(c echo.Context) error {
	p, err := readInstallPayload(c)
	if err != nil {
		return err
	}
	if err := h.verifySigned(c, p.ClientKey); err != nil {
		return err
	}
	t, err := h.svc.ConnectInstalled(c.Request().Context(), p)
	if err != nil {
		return err
	}
	c.Set(logTenantKey, t.ID)
	return c.NoContent(http.StatusNoContent)
}

func (h *lifecycleHandlers) uninstalled(c echo.Context) error {
	p, err := readInstallPayload(c)
	if err != nil {
		return err
	}
	if err := h.verifySigned(c, p.ClientKey); err != nil {
		return err
	}
	if err := h.svc.ConnectUninstalled(c.Request().Context(), p.ClientKey); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// toggled handles enabled and disabled: HS256 JWT with the site's secret.
// A late callback for a site that is gone (e.g. disabled after uninstall,
// possibly without any JWT) is answered without changing anything.
func (h *lifecycleHandlers) toggled(apply func(Lifecycle, context.Context, string) error) echo.HandlerFunc {
	return func(c echo.Context) error {
		p, err := readInstallPayload(c)
		if err != nil {
			return err
		}
		claims, _, err := h.auth.connectClaims(c, false)
		if err != nil {
			if h.svc.IsGone(c.Request().Context(), p.ClientKey) {
				return c.NoContent(http.StatusNoContent)
			}
			return err
		}
		if claims.Issuer != p.ClientKey {
			return errUnauthenticated
		}
		if err := apply(h.svc, c.Request().Context(), p.ClientKey); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
}

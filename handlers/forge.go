package handlers

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/models"
)

// forgeEvent is the envelope of a Forge product or lifecycle event.
type forgeEvent struct {
	EventType string `json:"eventType"`
	Payload   *struct {
		EventType string `json:"eventType"`
	} `json:"payload"` // product events nest the event type here
}

type forgeHandlers struct {
	auth  *authenticator
	users UserEvents // nil: user events are unsupported
	jobs  JobAdmin   // nil: scheduled triggers only refresh the system token
}

// scheduled receives the Forge scheduled trigger. Authenticating it already
// stored the newest app system token (Forge hands out fresh ones only with
// invocations); it also starts a reconciliation of this site, unless one is
// running. The answer is immediate: the run goes on in the background.
func (h *forgeHandlers) scheduled(c echo.Context) error {
	p := principal(c)
	if h.jobs == nil {
		return c.NoContent(http.StatusNoContent)
	}
	run, err := h.jobs.StartForTenant(c.Request().Context(), "reconcile", p.Tenant.ID, "forge-scheduled-trigger")
	switch {
	case errors.Is(err, models.ErrConflict):
		return c.JSON(http.StatusAccepted, map[string]any{"started": false, "reason": err.Error()})
	case err != nil:
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"started": true, "runId": run.ID})
}

// events receives Forge triggers. The tenant is created or refreshed from the
// verified token by the authentication step, which is what installed and
// upgraded events need.
func (h *forgeHandlers) events(c echo.Context) error {
	p, claims, err := h.auth.forgeTrigger(c)
	if err != nil {
		return err
	}
	setPrincipal(c, p)
	body, err := readBody(c)
	if err != nil {
		return err
	}
	var ev forgeEvent
	if err := json.Unmarshal(body, &ev); err != nil {
		return jsonFieldError(err)
	}
	if ev.EventType == "" && ev.Payload != nil {
		ev.EventType = ev.Payload.EventType
	}
	switch ev.EventType {
	case "avi:forge:installed:app", "avi:forge:upgraded:app":
		requestLog(c, h.auth.log).WithField("event", ev.EventType).WithField("app_version", claims.AppVersion).Info("forge installation event")
		return c.NoContent(http.StatusNoContent)
	case "avi:jira:created:user", "avi:jira:updated:user", "avi:jira:deleted:user":
		if h.users == nil {
			return newAPIError(http.StatusUnprocessableEntity, "unsupported_event", "this endpoint does not handle "+ev.EventType)
		}
		return ingestUserEvent(c, h.users, offboard.SourceForge, "", body)
	case "":
		return models.Invalid("eventType", "required")
	default:
		return newAPIError(http.StatusUnprocessableEntity, "unsupported_event", "this endpoint does not handle "+ev.EventType)
	}
}

// whoami answers a Forge UI resolver call with the verified caller.
func (h *forgeHandlers) whoami(c echo.Context) error {
	p := principal(c)
	return c.JSON(http.StatusOK, map[string]string{"tenant": p.Tenant.ID, "accountId": p.AccountID, "via": p.Via})
}

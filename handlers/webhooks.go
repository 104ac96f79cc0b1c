package handlers

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/models"
)

// UserEvents stores user events from Jira for asynchronous processing.
type UserEvents interface {
	Ingest(ctx context.Context, d offboard.Delivery) (*models.WebhookEvent, bool, error)
}

// webhookAck is the answer to a stored (or duplicate) user event.
type webhookAck struct {
	ID        int64 `json:"id"`
	Duplicate bool  `json:"duplicate"`
}

// jiraUserWebhook receives Connect user_created/updated/deleted webhooks
// (authenticated by requireConnect with a real qsh): it stores the event
// and answers at once; workers process it.
func jiraUserWebhook(events UserEvents) echo.HandlerFunc {
	return func(c echo.Context) error {
		body, err := readBody(c)
		if err != nil {
			return err
		}
		return ingestUserEvent(c, events, offboard.SourceConnect, c.Request().Header.Get("X-Atlassian-Webhook-Identifier"), body)
	}
}

func ingestUserEvent(c echo.Context, events UserEvents, source, identifier string, body []byte) error {
	p := principal(c)
	if p == nil {
		return errUnauthenticated
	}
	ev, dup, err := events.Ingest(c.Request().Context(), offboard.Delivery{TenantID: p.Tenant.ID, Source: source, Identifier: identifier, Body: body})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, webhookAck{ID: ev.ID, Duplicate: dup})
}

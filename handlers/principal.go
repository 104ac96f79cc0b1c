package handlers

import (
	"github.com/labstack/echo/v4"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/models"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	Tenant    *models.Tenant
	AccountID string // the acting Jira user; empty for app-level calls
	Via       string // "connect" or "forge"
}

const principalKey = "keyward.principal"

func setPrincipal(c echo.Context, p *Principal) {
	c.Set(principalKey, p)
	c.Set(logTenantKey, p.Tenant.ID)
	if p.AccountID != "" {
		c.Set(logActorKey, p.AccountID)
	}
}

func principal(c echo.Context) *Principal {
	p, _ := c.Get(principalKey).(*Principal)
	return p
}

// userPrincipal returns the caller, requiring an identified Jira user.
func userPrincipal(c echo.Context) (*Principal, error) {
	p := principal(c)
	if p == nil || p.AccountID == "" {
		return nil, errUnauthenticated
	}
	return p, nil
}

const (
	logTenantKey = "keyward.log.tenant"
	logActorKey  = "keyward.log.actor"
)

// requestLog is the logger of one request: request id, tenant and actor.
func requestLog(c echo.Context, base *logrus.Entry) *logrus.Entry {
	fields := logrus.Fields{"request_id": c.Response().Header().Get(echo.HeaderXRequestID)}
	if t, ok := c.Get(logTenantKey).(string); ok {
		fields["tenant"] = t
	}
	if a, ok := c.Get(logActorKey).(string); ok {
		fields["actor"] = a
	}
	return base.WithFields(fields)
}

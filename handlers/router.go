// Package handlers adapts HTTP to keyward's services: Echo routes, the
// authentication middleware that turns Connect JWTs and Forge Invocation
// Tokens into a principal, DTOs and the one error handler.
package handlers

import (
	"io/fs"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/sirupsen/logrus"

	"github.com/keyward/keyward/app/auth"
)

// Deps is everything the HTTP layer needs, built by the composition root.
type Deps struct {
	Log        *logrus.Entry
	BaseURL    string
	BodyLimit  string
	JWTLeeway  time.Duration
	Descriptor []byte

	DB        Readiness
	Tenants   TenantLookup
	Lifecycle Lifecycle
	Install   InstallVerifier
	FIT       FITVerifier // nil: Forge calls are refused

	Keys         KeyService
	AccessLog    AccessLogReader
	Lifetime     MaxKeyLifetime
	Checker      CredentialChecker
	VerifyTokens []string
	Admins       SiteAdmins
	Metrics      *Metrics         // nil: a private registry
	Inventory    InventoryService // nil: no admin inventory routes
	Dev          DevTokens        // nil: no /dev routes (dev mode off)
	OAuth        OAuthServer      // nil: no OAuth routes
	OAuthClients OAuthClientAdmin // nil: no OAuth client admin routes
	UI           fs.FS            // the built frontend (frontend.Dist()); nil: no /ui routes
	UserEvents   UserEvents       // nil: no user webhooks or Forge user events
	Offboard     OffboardAdmin    // nil: no offboarding admin routes
	Jobs         JobAdmin         // nil: no job admin routes
}

// New builds the Echo server with every route.
func New(d Deps) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Log)
	e.Server.ReadHeaderTimeout = 10 * time.Second
	e.Server.ReadTimeout = 30 * time.Second
	e.Server.IdleTimeout = 120 * time.Second

	if d.Metrics == nil {
		d.Metrics = NewMetrics()
	}
	e.Use(boundRequestID, middleware.RequestID())
	e.Use(d.Metrics.middleware)
	e.Use(accessLogger(d.Log))
	e.Use(middleware.Recover())
	e.Use(middleware.BodyLimit(d.BodyLimit))
	e.Use(rejectBadText)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{XSSProtection: "0", ContentTypeNosniff: "nosniff", ReferrerPolicy: "no-referrer"}))

	a := &authenticator{tenants: d.Tenants, fit: d.FIT, baseURL: d.BaseURL, log: d.Log}
	a.connect = &auth.ConnectVerifier{Lookup: a.secretLookup, Leeway: d.JWTLeeway}

	e.GET("/healthz", healthz)
	e.GET("/readyz", readyz(d.DB))
	e.GET("/metrics", d.Metrics.handler())
	e.GET("/atlassian-connect.json", descriptor(d.Descriptor))

	lc := &lifecycleHandlers{svc: d.Lifecycle, install: d.Install, auth: a}
	e.POST("/lifecycle/installed", lc.installed)
	e.POST("/lifecycle/uninstalled", lc.uninstalled)
	e.POST("/lifecycle/enabled", lc.toggled(Lifecycle.ConnectEnabled))
	e.POST("/lifecycle/disabled", lc.toggled(Lifecycle.ConnectDisabled))

	fh := &forgeHandlers{auth: a, users: d.UserEvents, jobs: d.Jobs}
	if d.UserEvents != nil {
		e.POST("/webhooks/jira/user", jiraUserWebhook(d.UserEvents), a.requireConnect(false))
	}
	e.POST("/forge/events", fh.events)
	e.POST("/forge/ui/whoami", fh.whoami, a.requireForge)
	e.POST("/forge/scheduled", fh.scheduled, a.requireForgeTrigger)

	me := e.Group("/api/me/v1", a.requireUser)
	me.GET("/whoami", whoami)
	kh := &keyHandlers{keys: d.Keys, log: d.AccessLog, lifetime: d.Lifetime}
	me.POST("/keys", kh.create)
	me.GET("/keys", kh.list)
	me.GET("/keys/:id", kh.get)
	me.POST("/keys/:id/regenerate", kh.regenerate)
	me.POST("/keys/:id/revoke", kh.revoke)
	me.DELETE("/keys/:id", kh.revoke)
	me.GET("/keys/:id/access-log", kh.accessLog)

	admin := e.Group("/api/admin/v1", a.requireUser, requireAdmin(d.Admins))
	admin.GET("/whoami", whoami)
	if d.Inventory != nil {
		(&inventoryHandlers{svc: d.Inventory, log: d.Log}).register(admin)
	}
	if d.Dev != nil {
		registerDev(e, d.Dev)
	}

	rs := newResourceServers(d.VerifyTokens)
	e.POST("/v1/verify", verify(d.Checker, d.Metrics), rs.require)
	registerOAuth(e, me, admin, d, rs)
	if d.Offboard != nil {
		(&offboardAdmin{svc: d.Offboard, jobs: d.Jobs}).register(admin)
	}

	if d.UI != nil {
		ui := &uiHandler{files: d.UI}
		e.GET("/ui", uiRoot)
		e.GET("/ui/*", ui.serve)
		e.HEAD("/ui/*", ui.serve)
	}

	e.RouteNotFound("/*", func(c echo.Context) error {
		return newAPIError(http.StatusNotFound, "not_found", "no such route")
	})
	return e
}

func whoami(c echo.Context) error {
	p := principal(c)
	return c.JSON(http.StatusOK, map[string]string{"tenant": p.Tenant.ID, "accountId": p.AccountID, "via": p.Via})
}

package handlers

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/keyward/keyward/app/offboard"
	"github.com/keyward/keyward/models"
)

// OffboardAdmin is the offboarding service as admins use it.
type OffboardAdmin interface {
	GetSettings(ctx context.Context, tenantID string) (*models.OffboardingSettings, error)
	UpdateSettings(ctx context.Context, tenantID, actor string, in offboard.SettingsInput) (*models.OffboardingSettings, error)
	ListEvents(ctx context.Context, tenantID string, status models.WebhookEventStatus, before int64, limit int) ([]models.WebhookEvent, error)
	RetryEvent(ctx context.Context, tenantID, actor string, id int64) (*models.WebhookEvent, error)
	ListReports(ctx context.Context, tenantID, kind string, before int64, limit int) ([]models.Report, error)
	Report(ctx context.Context, tenantID string, id int64, maxItems int) (*offboard.ReportDocument, error)
	WriteReportCSV(ctx context.Context, tenantID string, id int64, w io.Writer) error
}

// JobAdmin lists and starts jobs for one site.
type JobAdmin interface {
	List(ctx context.Context, tenantID string) ([]models.JobInfo, error)
	StartForTenant(ctx context.Context, name, tenantID, actor string) (*models.JobRun, error)
	GetRun(ctx context.Context, tenantID string, id int64) (*models.JobRun, error)
}

type offboardAdmin struct {
	svc  OffboardAdmin
	jobs JobAdmin
}

func (h *offboardAdmin) register(g *echo.Group) {
	g.GET("/settings/offboarding", h.getSettings)
	g.PUT("/settings/offboarding", h.putSettings)
	g.GET("/webhook-events", h.listEvents)
	g.POST("/webhook-events/:id/retry", h.retryEvent)
	g.GET("/reports", h.listReports)
	g.GET("/reports/:id", h.getReport)
	if h.jobs != nil {
		g.GET("/jobs", h.listJobs)
		g.GET("/jobs/runs/:id", h.getRun)
		g.POST("/jobs/:name/run", h.startJob)
	}
}

type offboardingSettingsDTO struct {
	AutoRevoke             bool       `json:"autoRevoke"`
	GracePeriodSeconds     int        `json:"gracePeriodSeconds"`
	ExemptAccountIDs       []string   `json:"exemptAccountIds"`
	StaleAfterDays         int        `json:"staleAfterDays"`
	RevokeStale            bool       `json:"revokeStale"`
	ReportWebhookURL       string     `json:"reportWebhookUrl"`
	ReportWebhookSecretSet bool       `json:"reportWebhookSecretSet"`
	UpdatedAt              *time.Time `json:"updatedAt,omitempty"`
	UpdatedBy              string     `json:"updatedBy,omitempty"`
}

func toSettingsDTO(s *models.OffboardingSettings) offboardingSettingsDTO {
	d := offboardingSettingsDTO{
		AutoRevoke: s.AutoRevoke, GracePeriodSeconds: s.GraceSeconds, ExemptAccountIDs: s.ExemptAccountIDs,
		StaleAfterDays: s.StaleAfterDays, RevokeStale: s.RevokeStale, ReportWebhookURL: s.ReportWebhookURL,
		ReportWebhookSecretSet: len(s.ReportWebhookSecretEnc) > 0, UpdatedBy: s.UpdatedBy,
	}
	if !s.UpdatedAt.IsZero() {
		d.UpdatedAt = &s.UpdatedAt
	}
	if d.ExemptAccountIDs == nil {
		d.ExemptAccountIDs = []string{}
	}
	return d
}

// settingsRequest changes the settings; omitted fields keep their value.
// The read-only fields of the GET answer are accepted and ignored, so a
// client can send back what it read.
type settingsRequest struct {
	AutoRevoke          *bool      `json:"autoRevoke"`
	GracePeriodSeconds  *int       `json:"gracePeriodSeconds"`
	ExemptAccountIDs    *[]string  `json:"exemptAccountIds"`
	StaleAfterDays      *int       `json:"staleAfterDays"`
	RevokeStale         *bool      `json:"revokeStale"`
	ReportWebhookURL    *string    `json:"reportWebhookUrl"`
	ReportWebhookSecret *string    `json:"reportWebhookSecret"`
	SecretSet           *bool      `json:"reportWebhookSecretSet"`
	UpdatedAt           *time.Time `json:"updatedAt"`
	UpdatedBy           *string    `json:"updatedBy"`
}

func (h *offboardAdmin) getSettings(c echo.Context) error {
	p := principal(c)
	s, err := h.svc.GetSettings(c.Request().Context(), p.Tenant.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSettingsDTO(s))
}

func (h *offboardAdmin) putSettings(c echo.Context) error {
	p := principal(c)
	var req settingsRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in := offboard.SettingsInput{
		AutoRevoke: req.AutoRevoke, GraceSeconds: req.GracePeriodSeconds, StaleAfterDays: req.StaleAfterDays,
		RevokeStale: req.RevokeStale, ReportWebhookURL: req.ReportWebhookURL, ReportWebhookSecret: req.ReportWebhookSecret,
	}
	if req.ExemptAccountIDs != nil {
		in.ExemptAccountIDs = append([]string{}, *req.ExemptAccountIDs...)
	}
	s, err := h.svc.UpdateSettings(c.Request().Context(), p.Tenant.ID, p.AccountID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toSettingsDTO(s))
}

type webhookEventDTO struct {
	ID            int64      `json:"id"`
	Source        string     `json:"source"`
	EventType     string     `json:"eventType"`
	AccountID     string     `json:"accountId"`
	Active        *bool      `json:"active,omitempty"`
	EventAt       time.Time  `json:"eventAt"`
	ReceivedAt    time.Time  `json:"receivedAt"`
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	NextAttemptAt time.Time  `json:"nextAttemptAt"`
	Reason        string     `json:"reason,omitempty"`
	Outcome       string     `json:"outcome,omitempty"`
	ProcessedAt   *time.Time `json:"processedAt,omitempty"`
}

func toEventDTO(e *models.WebhookEvent) webhookEventDTO {
	return webhookEventDTO{
		ID: e.ID, Source: e.Source, EventType: e.EventType, AccountID: e.AccountID, Active: e.Active, EventAt: e.EventAt,
		ReceivedAt: e.ReceivedAt, Status: string(e.Status), Attempts: e.Attempts, NextAttemptAt: e.NextAttemptAt,
		Reason: e.LastError, Outcome: e.Outcome, ProcessedAt: e.ProcessedAt,
	}
}

// offboardPage reads the before/limit keyset parameters.
func offboardPage(c echo.Context) (before int64, limit int, err error) {
	limit = 50
	if v := c.QueryParam("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 500 {
			return 0, 0, models.Invalid("limit", "must be from 1 to 500")
		}
	}
	if v := c.QueryParam("before"); v != "" {
		if before, err = strconv.ParseInt(v, 10, 64); err != nil || before < 1 {
			return 0, 0, models.Invalid("before", "must be a positive id")
		}
	}
	return before, limit, nil
}

type offboardList[T any] struct {
	Items      []T    `json:"items"`
	NextBefore *int64 `json:"nextBefore,omitempty"`
}

func (h *offboardAdmin) listEvents(c echo.Context) error {
	p := principal(c)
	before, limit, err := offboardPage(c)
	if err != nil {
		return err
	}
	events, err := h.svc.ListEvents(c.Request().Context(), p.Tenant.ID, models.WebhookEventStatus(c.QueryParam("status")), before, limit)
	if err != nil {
		return err
	}
	out := offboardList[webhookEventDTO]{Items: make([]webhookEventDTO, len(events))}
	for i := range events {
		out.Items[i] = toEventDTO(&events[i])
	}
	if len(events) == limit {
		out.NextBefore = &events[len(events)-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

func offboardID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id < 1 {
		return 0, models.ErrNotFound
	}
	return id, nil
}

func (h *offboardAdmin) retryEvent(c echo.Context) error {
	p := principal(c)
	id, err := offboardID(c, "id")
	if err != nil {
		return err
	}
	ev, err := h.svc.RetryEvent(c.Request().Context(), p.Tenant.ID, p.AccountID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toEventDTO(ev))
}

func (h *offboardAdmin) listReports(c echo.Context) error {
	p := principal(c)
	before, limit, err := offboardPage(c)
	if err != nil {
		return err
	}
	kind := c.QueryParam("kind")
	if kind != "" && kind != models.ReportReconcile && kind != models.ReportWeekly {
		return models.Invalid("kind", "must be reconcile or weekly")
	}
	reps, err := h.svc.ListReports(c.Request().Context(), p.Tenant.ID, kind, before, limit)
	if err != nil {
		return err
	}
	out := offboardList[offboard.ReportDocument]{Items: make([]offboard.ReportDocument, len(reps))}
	for i := range reps {
		out.Items[i] = offboard.Document(&reps[i])
	}
	if len(reps) == limit {
		out.NextBefore = &reps[len(reps)-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

// getReport answers GET /reports/:id as JSON, and as CSV for
// /reports/:id.csv or ?format=csv.
func (h *offboardAdmin) getReport(c echo.Context) error {
	p := principal(c)
	raw, format := c.Param("id"), c.QueryParam("format")
	if strings.HasSuffix(raw, ".csv") {
		raw, format = strings.TrimSuffix(raw, ".csv"), "csv"
	} else if strings.HasSuffix(raw, ".json") {
		raw, format = strings.TrimSuffix(raw, ".json"), "json"
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id < 1 {
		return models.ErrNotFound
	}
	switch format {
	case "", "json":
		doc, err := h.svc.Report(c.Request().Context(), p.Tenant.ID, id, 0)
		if err != nil {
			return err
		}
		if format == "json" {
			c.Response().Header().Set("Content-Disposition", `attachment; filename="keyward-report-`+raw+`.json"`)
		}
		return c.JSON(http.StatusOK, doc)
	case "csv":
		w := &lazyCSV{c: c, name: "keyward-report-" + raw + ".csv"}
		return h.svc.WriteReportCSV(c.Request().Context(), p.Tenant.ID, id, w)
	default:
		return models.Invalid("format", "must be json or csv")
	}
}

// lazyCSV sets the CSV headers on the first write, so an error before any
// output still gets the JSON error answer.
type lazyCSV struct {
	c       echo.Context
	name    string
	started bool
}

func (w *lazyCSV) Write(b []byte) (int, error) {
	if !w.started {
		w.started = true
		h := w.c.Response().Header()
		h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
		h.Set("Content-Disposition", `attachment; filename="`+w.name+`"`)
		w.c.Response().WriteHeader(http.StatusOK)
	}
	return w.c.Response().Write(b)
}

type jobRunDTO struct {
	ID          int64           `json:"id"`
	Job         string          `json:"job"`
	TriggeredBy string          `json:"triggeredBy"`
	ScheduledAt *time.Time      `json:"scheduledAt,omitempty"`
	Status      string          `json:"status"`
	StartedAt   time.Time       `json:"startedAt"`
	FinishedAt  *time.Time      `json:"finishedAt,omitempty"`
	HeartbeatAt time.Time       `json:"heartbeatAt"`
	Progress    json.RawMessage `json:"progress,omitempty"`
	Counts      json.RawMessage `json:"counts,omitempty"`
	Error       string          `json:"error,omitempty"`
}

// toRunDTO shows a run; a scheduled run over every site shows only its
// timing and status, never counters or errors that mix other sites in.
func toRunDTO(r *models.JobRun, full bool) jobRunDTO {
	d := jobRunDTO{ID: r.ID, Job: r.Job, TriggeredBy: r.TriggeredBy, ScheduledAt: r.ScheduledAt, Status: string(r.Status),
		StartedAt: r.StartedAt, FinishedAt: r.FinishedAt, HeartbeatAt: r.HeartbeatAt}
	if full {
		d.Progress, d.Counts, d.Error = jsonOrEmpty(r.Progress), jsonOrEmpty(r.Counts), r.Error
	}
	return d
}

func jsonOrEmpty(s string) json.RawMessage {
	if !json.Valid([]byte(s)) {
		return json.RawMessage("{}")
	}
	return json.RawMessage(s)
}

type jobDTO struct {
	Name             string      `json:"name"`
	Description      string      `json:"description"`
	Schedule         string      `json:"schedule,omitempty"`
	Global           bool        `json:"global,omitempty"` // runs for the whole deployment; not started from a site
	NextRun          *time.Time  `json:"nextRun,omitempty"`
	LastScheduledRun *jobRunDTO  `json:"lastScheduledRun,omitempty"`
	LastRuns         []jobRunDTO `json:"lastRuns"`
}

func (h *offboardAdmin) listJobs(c echo.Context) error {
	p := principal(c)
	infos, err := h.jobs.List(c.Request().Context(), p.Tenant.ID)
	if err != nil {
		return err
	}
	out := make([]jobDTO, len(infos))
	for i, in := range infos {
		d := jobDTO{Name: in.Name, Description: in.Description, Schedule: in.Schedule, Global: in.Global, NextRun: in.NextRun, LastRuns: []jobRunDTO{}}
		if in.LastScheduled != nil {
			r := toRunDTO(in.LastScheduled, false)
			d.LastScheduledRun = &r
		}
		for j := range in.LastRuns {
			d.LastRuns = append(d.LastRuns, toRunDTO(&in.LastRuns[j], true))
		}
		out[i] = d
	}
	return c.JSON(http.StatusOK, map[string]any{"jobs": out})
}

func (h *offboardAdmin) startJob(c echo.Context) error {
	p := principal(c)
	run, err := h.jobs.StartForTenant(c.Request().Context(), c.Param("name"), p.Tenant.ID, p.AccountID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, map[string]any{"runId": run.ID, "run": toRunDTO(run, true)})
}

func (h *offboardAdmin) getRun(c echo.Context) error {
	p := principal(c)
	id, err := offboardID(c, "id")
	if err != nil {
		return err
	}
	run, err := h.jobs.GetRun(c.Request().Context(), p.Tenant.ID, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRunDTO(run, true))
}

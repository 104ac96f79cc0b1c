package handlers

import (
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the Prometheus collectors of one server.
type Metrics struct {
	registry *prometheus.Registry
	requests *prometheus.HistogramVec
	verify   *prometheus.CounterVec
}

// NewMetrics registers keyward's collectors, the Go runtime's and the
// process's in a registry of its own.
func NewMetrics() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "keyward_http_request_duration_seconds",
			Help:    "HTTP requests by route, method and status class.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route", "method", "status"}),
		verify: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "keyward_verifications_total",
			Help: "Credential verifications by decision and refusal reason.",
		}, []string{"decision", "reason"}),
	}
	m.registry.MustRegister(m.requests, m.verify, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds more collectors (e.g. the access log writer's counters).
func (m *Metrics) Register(cs ...prometheus.Collector) { m.registry.MustRegister(cs...) }

func (m *Metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		if err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		status := strconv.Itoa(c.Response().Status/100) + "xx"
		m.requests.WithLabelValues(route, methodLabel(c.Request().Method), status).Observe(time.Since(start).Seconds())
		return nil
	}
}

// methodLabel bounds the method label to the standard methods: any token
// is a valid method, and a label per invented one would grow the registry
// (and every scrape) without limit.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

func (m *Metrics) observeVerify(active bool, reason string) {
	if active {
		m.verify.WithLabelValues("allow", "").Inc()
		return
	}
	m.verify.WithLabelValues("deny", reason).Inc()
}

func (m *Metrics) handler() echo.HandlerFunc {
	return echo.WrapHandler(promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{}))
}

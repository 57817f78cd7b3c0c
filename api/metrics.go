package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/prometheus/client_golang/prometheus"
)

// httpMetrics counts requests and observes their latency by route pattern (not raw path, so the
// label set stays small).
func httpMetrics(reg prometheus.Registerer) fiber.Handler {
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_http_requests_total", Help: "HTTP requests by method, route and status.",
	}, []string{"method", "route", "status"})
	latency := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "switchboard_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
		Buckets: prometheus.DefBuckets,
	}, []string{"method", "route"})
	reg.MustRegister(requests, latency)
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		status := c.Response().StatusCode()
		if err != nil {
			status = toAPIError(err).Status
		}
		// Method and route are zero-copy strings over buffers fiber reuses for later requests;
		// the label values are kept for the life of the process, so they must be copies.
		method, route := utils.CopyString(c.Method()), utils.CopyString(c.Route().Path)
		requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
		latency.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		return err
	}
}

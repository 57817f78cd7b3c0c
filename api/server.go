// Package api is Switchboard's REST API: fiber handlers, one file per resource, errors in one
// envelope (errors.go), bearer-token auth (auth.go) and the OpenAPI document (openapi.yaml).
package api

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/internal/blobstore"
	"github.com/switchboardhq/switchboard/internal/events"
	"github.com/switchboardhq/switchboard/workflows"
)

// Config is what the API needs to know beyond its dependencies.
type Config struct {
	TaskQueue      string
	TemporalUIURL  string
	Namespace      string
	AutoCloseAfter time.Duration
	BodyLimit      int
	Urgencies      []string
	// UpdateTimeout bounds how long a request waits for a ticket workflow to answer.
	UpdateTimeout time.Duration
	// RateLimit is how many requests a token may make per minute (0: unlimited).
	RateLimit int
	// AuthFailureLimit is how many failed authentications a client address may make per
	// minute before its requests are refused with 429 (0: unlimited).
	AuthFailureLimit int
	// CallNoEndAfter ends a phone call that never gets an end callback.
	CallNoEndAfter time.Duration
	// MessengerRequireOwner: agents message a ticket's customers only once the ticket is
	// theirs (accepted or assigned to them). Internal notes are open to every agent.
	MessengerRequireOwner bool
	// VideoURLTemplate makes video sessions' join links: "{room}" is replaced by an
	// unguessable room name. Empty: video sessions are off.
	VideoURLTemplate string
	// Blobs stores attachments (SWITCHBOARD_BLOB_URL); nil: uploads and downloads answer 503.
	Blobs *blobstore.Store
	// WhatsApp turns the WhatsApp channel on (nil: off).
	WhatsApp *WhatsAppConfig
	// AttachmentMaxBytes is the largest file an upload may carry (SWITCHBOARD_ATTACHMENT_MAX_BYTES).
	AttachmentMaxBytes int64
	// PublicChatRate, PublicChatStartRate and PublicChatSessionRate limit the public widget API
	// (/public/chat/v1) per minute: requests per client address, sessions started per client
	// address, requests per chat session (0: unlimited).
	PublicChatRate, PublicChatStartRate, PublicChatSessionRate int
	// PublicKBRate limits reads of published articles (/kb/{slug}) per address and minute (0:
	// unlimited).
	PublicKBRate int
	// AttachmentExpireAfter is for tests only: how long an unreferenced upload is kept (zero:
	// workflows.AttachmentExpiryAfter, 24 hours). No setting of the binary reaches it.
	AttachmentExpireAfter time.Duration
}

// DefaultConfig is the configuration used when nothing is set.
func DefaultConfig() Config {
	return Config{TaskQueue: workflows.DefaultTaskQueue, TemporalUIURL: "http://localhost:8233", Namespace: "default",
		AutoCloseAfter: workflows.DefaultAutoCloseAfter, BodyLimit: 1 << 20,
		Urgencies: []string{"Low", "Medium", "High", "Urgent"}, UpdateTimeout: 30 * time.Second, RateLimit: 1200,
		AuthFailureLimit: 60, CallNoEndAfter: workflows.DefaultNoEndAfter, MessengerRequireOwner: true,
		AttachmentMaxBytes: DefaultAttachmentMaxBytes, PublicChatRate: 3000, PublicChatStartRate: 120, PublicChatSessionRate: 120,
		PublicKBRate: 600}
}

// Server holds the API's dependencies.
type Server struct {
	db       *bun.DB
	temporal client.Client
	cfg      Config
	log      *slog.Logger
	tokens   *tokenCache
	limit    fiber.Handler // the per-token rate limit, shared by /api/v1 and /public/v1
	failures *failureLimit // failed authentications per client address
	hub      *events.Hub
	shutdown chan struct{} // closed when the app shuts down; ends event streams
}

// New builds the fiber app with every route. reg receives the HTTP metrics and is served on
// /metrics with whatever else is registered there (nil: no metrics).
func New(db *bun.DB, tc client.Client, cfg Config, log *slog.Logger, reg *prometheus.Registry) *App {
	_, a := newServer(db, tc, cfg, log, reg)
	return a
}

func newServer(db *bun.DB, tc client.Client, cfg Config, log *slog.Logger, reg *prometheus.Registry) (*Server, *App) {
	s := &Server{db: db, temporal: tc, cfg: cfg, log: log, tokens: newTokenCache(10 * time.Second),
		limit: rateLimit(cfg.RateLimit), failures: newFailureLimit(cfg.AuthFailureLimit),
		hub: events.NewHub(), shutdown: make(chan struct{})}
	app := fiber.New(fiber.Config{
		ErrorHandler: errorHandler(log),
		// Request bodies are streamed (fasthttp reads the first 8 KiB and hands the rest over as a
		// stream), so that an attachment upload (streamedBody) is never held in memory, nor read
		// before its handler has checked who sends it. Every other body is read whole by
		// bodyLimit, first, within the same limits fasthttp applied before: up to 4x the limit is
		// read and refused past the limit with a clean 413; past 4x it is refused unread and the
		// connection closed.
		StreamRequestBody:            true,
		DisablePreParseMultipartForm: true, // pre-parsing would read a whole multipart body
		BodyLimit:                    hardBodyLimit(cfg.BodyLimit),
		DisableStartupMessage:        true,
		UnescapePath:                 true, // status names in paths carry spaces (%20)
		ReadTimeout:                  30 * time.Second,
		WriteTimeout:                 cfg.UpdateTimeout + 10*time.Second,
		IdleTimeout:                  2 * time.Minute,
		// PBXs send recording links of up to 8 KiB in the query string.
		ReadBufferSize: 16 << 10,
	})
	app.Use(recover.New(), bodyLimit(cfg.BodyLimit, hardBodyLimit(cfg.BodyLimit)))
	a := &App{App: app, stop: func() {}}
	if db != nil {
		ctx, cancel := context.WithCancel(context.Background())
		go s.hub.Run(ctx, db, log)
		a.stop = sync.OnceFunc(func() {
			cancel()
			close(s.shutdown)
		})
	}
	if reg != nil {
		app.Use(httpMetrics(reg))
		app.Get("/metrics", adaptor.HTTPHandler(promhttp.HandlerFor(reg, promhttp.HandlerOpts{})))
	}
	app.Use(requestLog(log))
	app.Use(sanitizeInput) // no control character or bad UTF-8 gets past here (sanitize.go)
	app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	app.Get("/readyz", s.ready)
	app.Get("/api/v1/openapi.json", serveOpenAPI)

	// Failed authentications are limited per client address before any token lookup.
	app.Use("/public/v1", s.limitAuthFailures)
	s.telephonyRoutes(app)
	s.publicKBRoutes(app)     // published articles, for anyone (no token)
	s.publicChatRoutes(app)   // the chat widget's visitors (visitor tokens, CORS per widget)
	s.widgetRoutes(app)       // widget.js and its demo page
	s.whatsappRoutes(app)     // Twilio's WhatsApp webhook (signed)
	s.approvalLinkRoutes(app) // approvers' one-time decision links (no session)
	// Every route below starts with requirePerm, which runs the Idempotency-Key middleware
	// after the permission check (TestEveryRouteChecksAPermission).
	v1 := app.Group("/api/v1", s.limitAuthFailures, s.authenticate, s.limit, s.withServer)
	s.personRoutes(v1)
	s.teamRoutes(v1)
	s.statusRoutes(v1)
	s.ticketRoutes(v1)
	s.calendarRoutes(v1)
	s.slaRoutes(v1)
	s.callGroupRoutes(v1)
	s.agentRoutes(v1)
	s.callRoutes(v1)
	s.streamRoutes(v1)
	s.webhookRoutes(v1)
	s.triggerRoutes(v1)
	s.formRoutes(v1)
	s.kbRoutes(v1)
	s.textBlockRoutes(v1)
	s.attachmentRoutes(v1)
	s.chatGroupRoutes(v1)
	s.chatWidgetRoutes(v1)
	s.chatPresenceRoutes(v1)
	s.chatTicketRoutes(v1)
	s.messageTemplateRoutes(v1)
	s.chatRoutes(v1)
	s.approvalRuleRoutes(v1)
	s.approvalRoutes(v1)
	app.Use(func(c *fiber.Ctx) error {
		return errNotFound("no route for %s %s", c.Method(), c.Path())
	})
	return s, a
}

// App is the fiber app; shutting it down first ends the event streams, which would otherwise
// hold the shutdown until its timeout.
type App struct {
	*fiber.App
	stop func()
}

// Shutdown stops the app at once, ending streams first.
func (a *App) Shutdown() error {
	a.stop()
	return a.App.Shutdown()
}

// ShutdownWithTimeout lets in-flight requests finish for up to d, ending streams first.
func (a *App) ShutdownWithTimeout(d time.Duration) error {
	a.stop()
	return a.App.ShutdownWithTimeout(d)
}

// ready reports whether PostgreSQL and Temporal answer.
func (s *Server) ready(c *fiber.Ctx) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 3*time.Second)
	defer cancel()
	checks := fiber.Map{"postgres": "ok", "temporal": "ok"}
	ok := true
	if err := s.db.PingContext(ctx); err != nil {
		checks["postgres"], ok = err.Error(), false
	}
	if _, err := s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}); err != nil {
		checks["temporal"], ok = err.Error(), false
	}
	if !ok {
		c.Set(fiber.HeaderRetryAfter, "5")
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "checks": checks})
	}
	return c.JSON(fiber.Map{"status": "ready", "checks": checks})
}

func requestLog(log *slog.Logger) fiber.Handler {
	return func(c *fiber.Ctx) error {
		start := time.Now()
		err := c.Next()
		log.Debug("request", "method", c.Method(), "path", c.Path(), "status", c.Response().StatusCode(),
			"duration", time.Since(start))
		return err
	}
}

// hardBodyLimit is the body size past which a request is refused unread.
func hardBodyLimit(limit int) int { return min(4*limit, 64<<20) }

// bodyLimit reads every request body but a streamed upload's (streamedBody) into memory, up to
// hard bytes (readBody), and refuses one over the configured limit with the envelope's 413.
func bodyLimit(limit, hard int) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if streamedBody(c) {
			// Whatever the handler (or a refusal before it) left unread is read and dropped, or
			// the connection closed, so that the next request on it starts where it should.
			defer drain(c, bodyReader(c))
			return c.Next()
		}
		if err := readBody(c, hard); err != nil {
			return err
		}
		if len(c.Body()) > limit {
			return &Error{Status: fiber.StatusRequestEntityTooLarge, Code: "payload_too_large",
				Message: fmt.Sprintf("the request body is larger than the limit of %d bytes", limit)}
		}
		return c.Next()
	}
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }

// getOne answers GET for one record: the path parameter names it, load reads it (a 404 when
// it is not there).
func getOne[T any](param string, load func(context.Context, string) (*T, error)) fiber.Handler {
	return func(c *fiber.Ctx) error {
		v, err := load(c.UserContext(), c.Params(param))
		if err != nil {
			return err
		}
		return c.JSON(v)
	}
}

// findOne reads the row whose column equals value, or answers 404 with the message given.
func findOne[T any](ctx context.Context, db bun.IDB, column string, value any, notFound string, args ...any) (*T, error) {
	row := new(T)
	if err := db.NewSelect().Model(row).Where("? = ?", bun.Ident(column), value).Scan(ctx); err != nil {
		if isNoRows(err) {
			return nil, errNotFound(notFound, args...)
		}
		return nil, err
	}
	return row, nil
}

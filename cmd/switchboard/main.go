// Command switchboard is the whole help desk in one binary:
//
//	switchboard serve          API and worker in one process
//	switchboard api            the REST API only
//	switchboard worker         the Temporal worker only
//	switchboard migrate        create the database if missing, migrate it, register search attributes
//	switchboard token create   mint an API token for a person
//	switchboard demo           seed a demo workspace through the API
//	switchboard version        print the version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/uber-go/tally/v4"
	tallyprom "github.com/uber-go/tally/v4/prometheus"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"
	sdktally "go.temporal.io/sdk/contrib/tally"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/api"
	"github.com/switchboardhq/switchboard/internal/blobstore"
	"github.com/switchboardhq/switchboard/internal/webhook"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/worker"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: switchboard <command>

commands:
  serve                 run the API and the worker in one process
  api                   run the REST API only
  worker                run the Temporal worker only
  migrate               create the database if missing, apply migrations, register search attributes
  token create --person <id|email> --name <name> [--scopes a,b]
                        mint an API token (printed once)
  demo --url <api url> --token <admin token>
                        seed a demo workspace through the API (safe to run twice)
  version               print the version

configuration comes from environment variables; see README.md.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errors.New("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "version":
		fmt.Println("switchboard", version)
		return nil
	case "demo":
		return runDemo(rest)
	case "-h", "--help", "help":
		fmt.Print(usage)
		return nil
	}
	cfg, err := LoadConfig(os.Getenv)
	if err != nil {
		return fmt.Errorf("bad configuration:\n%w", err)
	}
	log := newLogger(cfg, os.Stderr)
	slog.SetDefault(log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch cmd {
	case "serve":
		return serve(ctx, cfg, log, true, true)
	case "api":
		return serve(ctx, cfg, log, true, false)
	case "worker":
		return serve(ctx, cfg, log, false, true)
	case "migrate":
		return migrate(ctx, cfg, log)
	case "token":
		return tokenCommand(ctx, cfg, rest)
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: cfg.LogLevel}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// newTemporalClient connects lazily, so the process starts (and reports 503 on /readyz) while
// Temporal is still down; SDK metrics go to reg.
func newTemporalClient(cfg Config, log *slog.Logger, reg *prometheus.Registry) (client.Client, io.Closer, error) {
	reporter, err := tallyprom.Configuration{TimerType: "histogram"}.NewReporter(tallyprom.ConfigurationOptions{
		Registry: reg, OnError: func(err error) { log.Warn("metric not registered", "err", err) },
	})
	if err != nil {
		return nil, nil, err
	}
	scope, closer := tally.NewRootScope(tally.ScopeOptions{
		CachedReporter: reporter, Separator: tallyprom.DefaultSeparator,
		SanitizeOptions: &sdktally.PrometheusSanitizeOptions,
	}, time.Second)
	c, err := client.NewLazyClient(client.Options{
		HostPort: cfg.TemporalAddress, Namespace: cfg.TemporalNamespace,
		Logger:         tlog.NewStructuredLogger(log.With("component", "temporal")),
		MetricsHandler: sdktally.NewMetricsHandler(sdktally.NewPrometheusNamingScope(scope)),
	})
	if err == nil {
		warmUp(c)
	}
	return c, closer, err
}

// warmUp makes a lazy client load the server's capabilities once, before requests use it
// concurrently: the SDK (v1.50) reads them unlocked on the eager-start path while the first
// callers write them, a data race the race detector caught under concurrent ticket creates.
// Temporal may be down at start (the client stays lazy then; the first calls load them).
func warmUp(c client.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, _ = c.CheckHealth(ctx, &client.CheckHealthRequest{})
}

func newRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

func apiConfig(cfg Config) api.Config {
	c := api.DefaultConfig()
	c.TaskQueue, c.TemporalUIURL, c.Namespace = cfg.TaskQueue, cfg.TemporalUIURL, cfg.TemporalNamespace
	c.AutoCloseAfter, c.BodyLimit, c.Urgencies = cfg.AutoCloseAfter, cfg.BodyLimit, cfg.Urgencies
	c.RateLimit, c.AuthFailureLimit, c.CallNoEndAfter = cfg.RateLimit, cfg.AuthFailureLimit, cfg.CallNoEndAfter
	c.MessengerRequireOwner, c.VideoURLTemplate = cfg.MessengerRequireOwner, cfg.VideoURLTemplate
	c.AttachmentMaxBytes = int64(cfg.AttachmentMaxBytes)
	if cfg.WhatsAppOn() {
		tw := cfg.Twilio
		c.WhatsApp = &api.WhatsAppConfig{Sender: &tw, Media: &tw, AuthToken: tw.AuthToken, PublicURL: cfg.PublicURL, GroupID: cfg.WhatsAppGroup}
	}
	return c
}

// serve runs the API, the worker, or both, until ctx ends; then in-flight requests finish and the
// worker stops.
func serve(ctx context.Context, cfg Config, log *slog.Logger, withAPI, withWorker bool) error {
	db := schema.Open(cfg.DatabaseURL)
	defer db.Close()
	reg := newRegistry()
	tc, closer, err := newTemporalClient(cfg, log, reg)
	if err != nil {
		return err
	}
	defer closer.Close()
	defer tc.Close()
	if cfg.AdminToken != "" {
		if err := retry(ctx, log, "ensure the admin", func() error { _, err := api.EnsureAdmin(ctx, db, cfg.AdminToken); return err }); err != nil {
			return err
		}
	}

	blobs, err := blobstore.Open(ctx, cfg.BlobURL)
	if err != nil {
		return err
	}
	defer blobs.Close()

	var w sdkworker.Worker
	if withWorker {
		w, err = startWorker(ctx, cfg, log, tc, db, blobs, activities.NewChatMetrics(reg))
		if err != nil {
			return err
		}
		defer w.Stop()
	}
	if !withAPI {
		<-ctx.Done()
		log.Info("worker stopping")
		return nil
	}
	// Uploads stream through temporary keys; a process killed mid-upload leaves one behind.
	go blobs.SweepStale(ctx, log, blobstore.StaleAfter)
	acfg := apiConfig(cfg)
	acfg.Blobs = blobs
	app := api.New(db, tc, acfg, log, reg)
	errc := make(chan error, 1)
	go func() { errc <- app.Listen(cfg.HTTPAddr) }()
	log.Info("switchboard serving", "addr", cfg.HTTPAddr, "worker", withWorker, "version", version)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing in-flight requests", "timeout", cfg.ShutdownTimeout)
	return shutdown(app, cfg.ShutdownTimeout)
}

func shutdown(app *api.App, timeout time.Duration) error {
	return app.ShutdownWithTimeout(timeout)
}

// startWorker starts the worker, retrying while Temporal is unreachable.
func startWorker(ctx context.Context, cfg Config, log *slog.Logger, tc client.Client, db *bun.DB, blobs *blobstore.Store, chat *activities.ChatMetrics) (sdkworker.Worker, error) {
	opts := worker.Options{TaskQueue: cfg.TaskQueue, WorkflowPollers: cfg.WorkflowPollers,
		ActivityPollers: cfg.ActivityPollers, MaxConcurrentWorkflows: cfg.MaxConcurrent, MaxConcurrentActivites: cfg.MaxConcurrent}
	var w sdkworker.Worker
	err := retry(ctx, log, "start the worker", func() error {
		acts := &activities.Activities{DB: db, Temporal: tc, Webhooks: webhook.Options{Allow: cfg.WebhookAllow},
			Blobs: blobs, AutoCloseAfter: cfg.AutoCloseAfter,
			Chat: activities.ChatDistribution{Idle: cfg.ChatIdle, Grace: cfg.ChatIdleGrace, Metrics: chat}}
		if cfg.WhatsAppOn() {
			tw := cfg.Twilio
			acts.WhatsApp = &tw
		}
		w = worker.New(tc, acts, opts)
		return w.Start()
	})
	return w, err
}

// retry calls f until it succeeds or ctx ends, backing off to 5 s between tries.
func retry(ctx context.Context, log *slog.Logger, what string, f func() error) error {
	wait := 200 * time.Millisecond
	for {
		err := f()
		if err == nil {
			return nil
		}
		log.Warn("retrying: could not "+what, "err", err, "in", wait)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %w", what, err)
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

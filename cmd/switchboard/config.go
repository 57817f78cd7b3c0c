package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboardhq/switchboard/internal/blobstore"
	"github.com/switchboardhq/switchboard/internal/channel/twilio"
	"github.com/switchboardhq/switchboard/workflows"
)

// Config is read from the environment at start; every bad value is reported, each with what is
// allowed, before anything runs.
type Config struct {
	DatabaseURL       string
	TemporalAddress   string
	TemporalNamespace string
	TemporalUIURL     string
	HTTPAddr          string
	AdminToken        string
	TaskQueue         string
	AutoCloseAfter    time.Duration
	ShutdownTimeout   time.Duration
	BodyLimit         int
	Urgencies         []string
	LogLevel          slog.Level
	LogFormat         string
	RateLimit         int
	AuthFailureLimit  int
	CallNoEndAfter    time.Duration
	WorkflowPollers   int
	ActivityPollers   int
	MaxConcurrent     int
	// WebhookAllow are internal ranges webhooks may reach (the guard refuses them otherwise).
	WebhookAllow []netip.Prefix
	// MessengerRequireOwner: agents message customers only on tickets they own.
	MessengerRequireOwner bool
	// VideoURLTemplate makes video sessions' links ("{room}"); empty turns them off.
	VideoURLTemplate string
	// BlobURL is the attachment store: a file:// directory or an s3:// bucket (gocloud.dev/blob).
	BlobURL string
	// AttachmentMaxBytes is the largest file an upload may carry.
	AttachmentMaxBytes int
	// ChatIdle: an online agent without an event stream this long is away for chat
	// distribution; ChatIdleGrace later their unanswered offers go back to the queue.
	ChatIdle      time.Duration
	ChatIdleGrace time.Duration
	// WhatsApp through Twilio: all of account, token, sender and group, or none (off).
	Twilio        twilio.Client
	WhatsAppGroup string
	// PublicURL is this API's address as Twilio calls it (its webhook signatures cover it).
	PublicURL string
}

// WhatsAppOn says whether the WhatsApp channel is configured.
func (c Config) WhatsAppOn() bool { return c.Twilio.AccountSID != "" }

// envDefaults are the values used when a variable is unset or empty.
var envDefaults = map[string]string{
	"SWITCHBOARD_DATABASE_URL":            "postgres://postgres@127.0.0.1:5432/switchboard?sslmode=disable",
	"TEMPORAL_ADDRESS":                    "127.0.0.1:7233",
	"TEMPORAL_NAMESPACE":                  "default",
	"SWITCHBOARD_TEMPORAL_UI_URL":         "http://localhost:8233",
	"SWITCHBOARD_HTTP_ADDR":               ":8080",
	"SWITCHBOARD_TASK_QUEUE":              workflows.DefaultTaskQueue,
	"SWITCHBOARD_AUTO_CLOSE_AFTER":        "7d",
	"SWITCHBOARD_SHUTDOWN_TIMEOUT":        "30s",
	"SWITCHBOARD_BODY_LIMIT":              "1MiB",
	"SWITCHBOARD_URGENCIES":               "Low,Medium,High,Urgent",
	"SWITCHBOARD_LOG_LEVEL":               "info",
	"SWITCHBOARD_LOG_FORMAT":              "json",
	"SWITCHBOARD_WORKFLOW_POLLERS":        "8",
	"SWITCHBOARD_ACTIVITY_POLLERS":        "4",
	"SWITCHBOARD_MAX_CONCURRENT":          "256",
	"SWITCHBOARD_ADMIN_TOKEN":             "",
	"SWITCHBOARD_RATE_LIMIT":              "1200",
	"SWITCHBOARD_AUTH_FAILURE_LIMIT":      "60",
	"SWITCHBOARD_CALL_NO_END_AFTER":       "4h",
	"SWITCHBOARD_CHAT_IDLE":               "2m",
	"SWITCHBOARD_CHAT_IDLE_GRACE":         "60s",
	"SWITCHBOARD_WEBHOOK_ALLOW_CIDRS":     "",
	"SWITCHBOARD_MESSENGER_REQUIRE_OWNER": "true",
	"SWITCHBOARD_VIDEO_URL_TEMPLATE":      "",
	"SWITCHBOARD_BLOB_URL":                blobstore.DefaultURL,
	"SWITCHBOARD_ATTACHMENT_MAX_BYTES":    "25MiB",
	"SWITCHBOARD_TWILIO_ACCOUNT_SID":      "",
	"SWITCHBOARD_TWILIO_AUTH_TOKEN":       "",
	"SWITCHBOARD_TWILIO_FROM":             "",
	"SWITCHBOARD_TWILIO_BASE_URL":         twilio.DefaultBaseURL,
	"SWITCHBOARD_WHATSAPP_GROUP":          "",
	"SWITCHBOARD_PUBLIC_URL":              "http://localhost:8080",
}

// LoadConfig reads the configuration through getenv (os.Getenv in the binary).
func LoadConfig(getenv func(string) string) (Config, error) {
	p := parser{getenv: getenv}
	c := Config{
		DatabaseURL:           p.url("SWITCHBOARD_DATABASE_URL", "postgres", "postgresql"),
		TemporalAddress:       p.hostPort("TEMPORAL_ADDRESS", true),
		TemporalNamespace:     p.nonEmpty("TEMPORAL_NAMESPACE"),
		TemporalUIURL:         p.url("SWITCHBOARD_TEMPORAL_UI_URL", "http", "https"),
		HTTPAddr:              p.hostPort("SWITCHBOARD_HTTP_ADDR", false),
		AdminToken:            p.adminToken("SWITCHBOARD_ADMIN_TOKEN"),
		TaskQueue:             p.nonEmpty("SWITCHBOARD_TASK_QUEUE"),
		AutoCloseAfter:        p.duration("SWITCHBOARD_AUTO_CLOSE_AFTER"),
		ShutdownTimeout:       p.duration("SWITCHBOARD_SHUTDOWN_TIMEOUT"),
		BodyLimit:             p.size("SWITCHBOARD_BODY_LIMIT"),
		Urgencies:             p.list("SWITCHBOARD_URGENCIES"),
		LogLevel:              p.level("SWITCHBOARD_LOG_LEVEL"),
		LogFormat:             p.oneOf("SWITCHBOARD_LOG_FORMAT", "json", "text"),
		RateLimit:             p.intRange("SWITCHBOARD_RATE_LIMIT", 0, 1_000_000),
		AuthFailureLimit:      p.intRange("SWITCHBOARD_AUTH_FAILURE_LIMIT", 0, 1_000_000),
		CallNoEndAfter:        p.duration("SWITCHBOARD_CALL_NO_END_AFTER"),
		WorkflowPollers:       p.intRange("SWITCHBOARD_WORKFLOW_POLLERS", 2, 100),
		ActivityPollers:       p.intRange("SWITCHBOARD_ACTIVITY_POLLERS", 1, 100),
		MaxConcurrent:         p.intRange("SWITCHBOARD_MAX_CONCURRENT", 1, 10000),
		WebhookAllow:          p.cidrs("SWITCHBOARD_WEBHOOK_ALLOW_CIDRS"),
		MessengerRequireOwner: p.oneOf("SWITCHBOARD_MESSENGER_REQUIRE_OWNER", "true", "false") == "true",
		VideoURLTemplate:      p.videoTemplate("SWITCHBOARD_VIDEO_URL_TEMPLATE"),
		BlobURL:               p.blobURL("SWITCHBOARD_BLOB_URL"),
		AttachmentMaxBytes:    p.sizeUpTo("SWITCHBOARD_ATTACHMENT_MAX_BYTES", 1<<30, "1GiB"),
		ChatIdle:              p.duration("SWITCHBOARD_CHAT_IDLE"),
		ChatIdleGrace:         p.duration("SWITCHBOARD_CHAT_IDLE_GRACE"),
		PublicURL:             p.url("SWITCHBOARD_PUBLIC_URL", "http", "https"),
	}
	c.Twilio, c.WhatsAppGroup = p.twilio()
	return c, errors.Join(p.errs...)
}

// twilio reads the WhatsApp channel's settings: all four or none.
func (p *parser) twilio() (twilio.Client, string) {
	names := []string{"SWITCHBOARD_TWILIO_ACCOUNT_SID", "SWITCHBOARD_TWILIO_AUTH_TOKEN", "SWITCHBOARD_TWILIO_FROM", "SWITCHBOARD_WHATSAPP_GROUP"}
	var set, missing []string
	for _, n := range names {
		if p.get(n) != "" {
			set = append(set, n)
		} else {
			missing = append(missing, n)
		}
	}
	if len(set) == 0 {
		return twilio.Client{}, ""
	}
	if len(missing) > 0 {
		p.fail(missing[0], "", "the WhatsApp channel needs %s too (set all four or none)", strings.Join(missing, ", "))
		return twilio.Client{}, ""
	}
	from := p.get("SWITCHBOARD_TWILIO_FROM")
	if !strings.HasPrefix(from, "whatsapp:+") {
		p.fail("SWITCHBOARD_TWILIO_FROM", from, "must be the sender as Twilio writes it: whatsapp:+<number>")
	}
	return twilio.Client{BaseURL: p.url("SWITCHBOARD_TWILIO_BASE_URL", "http", "https"), AccountSID: p.get("SWITCHBOARD_TWILIO_ACCOUNT_SID"),
		AuthToken: p.get("SWITCHBOARD_TWILIO_AUTH_TOKEN"), From: from}, p.get("SWITCHBOARD_WHATSAPP_GROUP")
}

type parser struct {
	getenv func(string) string
	errs   []error
}

func (p *parser) get(name string) string {
	if v := strings.TrimSpace(p.getenv(name)); v != "" {
		return v
	}
	return envDefaults[name]
}

func (p *parser) fail(name, v, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s=%q: %s", name, v, fmt.Sprintf(format, args...)))
}

func (p *parser) nonEmpty(name string) string {
	v := p.get(name)
	if v == "" {
		p.fail(name, v, "must not be empty")
	}
	return v
}

func (p *parser) url(name string, schemes ...string) string {
	v := p.get(name)
	u, err := url.Parse(v)
	if err != nil || !slices.Contains(schemes, u.Scheme) || u.Host == "" {
		p.fail(name, v, "must be a URL starting with %s://host", strings.Join(schemes, ":// or "))
	}
	return v
}

// hostPort checks host:port; needHost says whether the host may be left out (":8080").
func (p *parser) hostPort(name string, needHost bool) string {
	v := p.get(name)
	host, port, err := net.SplitHostPort(v)
	n, perr := strconv.Atoi(port)
	if err != nil || perr != nil || n < 0 || n > 65535 || (needHost && host == "") {
		want := "host:port, e.g. 127.0.0.1:7233"
		if !needHost {
			want = "[host]:port, e.g. :8080"
		}
		p.fail(name, v, "must be %s", want)
	}
	return v
}

func (p *parser) adminToken(name string) string {
	v := p.get(name)
	if v != "" && (len(v) < 20 || strings.ContainsAny(v, " \t\n")) {
		p.fail(name, "(hidden)", "must be at least 20 characters with no spaces (or unset)")
	}
	return v
}

// duration accepts Go durations (90m, 168h) and whole days (7d).
func (p *parser) duration(name string) time.Duration {
	v := p.get(name)
	d, err := parseDuration(v)
	if err != nil || d <= 0 {
		p.fail(name, v, "must be a positive duration such as 30s, 90m, 168h or 7d")
	}
	return d
}

func parseDuration(v string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		return time.Duration(n) * 24 * time.Hour, err
	}
	return time.ParseDuration(v)
}

// size accepts bytes or a number with KiB/MiB, up to 64MiB.
func (p *parser) size(name string) int { return p.sizeUpTo(name, 64<<20, "64MiB") }

// sizeUpTo accepts bytes or a number with KiB/MiB/GiB, from 1 byte to max (maxText).
func (p *parser) sizeUpTo(name string, max int, maxText string) int {
	v := p.get(name)
	mult := 1
	num := v
	for suffix, m := range map[string]int{"KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30} {
		if s, ok := strings.CutSuffix(v, suffix); ok {
			num, mult = s, m
		}
	}
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n <= 0 || n > max/mult {
		p.fail(name, v, "must be a size from 1 byte to %s, e.g. 1048576, 512KiB or 1MiB", maxText)
		return 0
	}
	return n * mult
}

// blobURL accepts a bucket URL the blob store opens: file:///dir, file://./dir or s3://bucket?...
func (p *parser) blobURL(name string) string {
	v := p.get(name)
	if err := blobstore.CheckURL(v); err != nil {
		p.fail(name, redactURL(v), "must be file:///abs/dir, file://./relative/dir or s3://bucket?region=... (%s)",
			strings.TrimPrefix(err.Error(), "blobstore: "))
	}
	return v
}

// redactURL hides a URL's password (an s3 URL carries none; a mistaken one might).
func redactURL(v string) string {
	u, err := url.Parse(v)
	if err != nil {
		return "(not a URL)"
	}
	return u.Redacted()
}

func (p *parser) list(name string) []string {
	v := p.get(name)
	var out []string
	for _, s := range strings.Split(v, ",") {
		s = strings.TrimSpace(s)
		if s == "" || slices.Contains(out, s) {
			p.fail(name, v, "must be a comma-separated list of distinct, non-empty names")
			return nil
		}
		out = append(out, s)
	}
	return out
}

func (p *parser) level(name string) slog.Level {
	v := p.get(name)
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		p.fail(name, v, "must be one of debug, info, warn, error")
	}
	return l
}

func (p *parser) oneOf(name string, allowed ...string) string {
	v := p.get(name)
	if !slices.Contains(allowed, v) {
		p.fail(name, v, "must be one of %s", strings.Join(allowed, ", "))
	}
	return v
}

func (p *parser) intRange(name string, lo, hi int) int {
	v := p.get(name)
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		p.fail(name, v, "must be an integer from %d to %d", lo, hi)
	}
	return n
}

// cidrs accepts a comma-separated list of CIDRs (empty: none), naming every entry that is not
// one.
func (p *parser) cidrs(name string) []netip.Prefix {
	v := p.get(name)
	var out []netip.Prefix
	var bad []string
	for _, s := range csvList(v) {
		pfx, err := netip.ParsePrefix(s)
		if err != nil {
			bad = append(bad, strconv.Quote(s))
			continue
		}
		out = append(out, pfx.Masked())
	}
	if len(bad) > 0 {
		p.fail(name, v, "must be a comma-separated list of CIDRs such as 127.0.0.0/8,fd00::/8 (not a CIDR: %s)",
			strings.Join(bad, ", "))
	}
	return out
}

func csvList(v string) []string {
	var out []string
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// videoTemplate is empty (video sessions off) or an http(s) URL with a {room} to fill.
func (p *parser) videoTemplate(name string) string {
	v := p.get(name)
	if v == "" {
		return ""
	}
	u, err := url.Parse(strings.ReplaceAll(v, "{room}", "room"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || !strings.Contains(v, "{room}") {
		p.fail(name, v, "must be an http(s) URL containing {room}, e.g. https://meet.example/{room}")
	}
	return v
}

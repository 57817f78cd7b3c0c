package webhook

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Defaults of Options.
const (
	DefaultTimeout      = 10 * time.Second
	DefaultRetryInitial = 10 * time.Second
	// ExcerptLimit is how much of a receiver's answer is kept in the execution log.
	ExcerptLimit = 1 << 10
)

// Options configure delivery. The zero value is the production default: no internal address
// allowed, 10 s per attempt, first retry after 10 s.
type Options struct {
	// Allow lists ranges webhooks may reach although the guard blocks them
	// (SWITCHBOARD_WEBHOOK_ALLOW_CIDRS).
	Allow []netip.Prefix
	// Timeout bounds one attempt: connecting, sending, and reading the status and excerpt.
	Timeout time.Duration
	// RetryInitial is the first wait of the WebhookDelivery workflow's retry schedule; the
	// integration tests shorten it.
	RetryInitial time.Duration
}

// AttemptTimeout is Timeout or its default.
func (o Options) AttemptTimeout() time.Duration {
	if o.Timeout > 0 {
		return o.Timeout
	}
	return DefaultTimeout
}

// FirstRetry is RetryInitial or its default.
func (o Options) FirstRetry() time.Duration {
	if o.RetryInitial > 0 {
		return o.RetryInitial
	}
	return DefaultRetryInitial
}

// Request is one attempt of one delivery.
type Request struct {
	URL    string
	ID     string // the delivery id: webhook-id
	Secret string // whsec_...
	Body   []byte
	At     time.Time // webhook-timestamp
}

// Outcomes of an attempt.
const (
	Succeeded = "succeeded" // a 2xx
	Failed    = "failed"    // may work later: retry
	Final     = "final"     // retrying will not help
)

// Response is what came of an attempt.
type Response struct {
	StatusCode int // 0 when no answer came
	Latency    time.Duration
	Excerpt    string // the start of the answer's body, valid UTF-8, at most ExcerptLimit bytes
	RetryAfter time.Duration
	Err        error // no answer: refused, unreachable, timed out; nil when a status came back
}

// Outcome classifies the attempt. Only a 2xx is a success. A 4xx says the receiver understood
// the request and refuses it (bad path, no such hook, signature rejected): sending the same
// bytes again will not change that, so it is final, except 408 Request Timeout, 425 Too Early
// and 429 Too Many Requests, which ask to come back later. A refused (internal) address is
// final too: it is configuration, not weather. Everything else — no answer, 3xx (redirects are
// not followed), 5xx — may pass, so it is retried.
func (r Response) Outcome() string {
	var refused *RefusedError
	switch {
	case errors.As(r.Err, &refused), errors.Is(r.Err, ErrBadSecret), errors.Is(r.Err, errBadURL):
		return Final
	case r.Err != nil:
		return Failed
	case r.StatusCode >= 200 && r.StatusCode < 300:
		return Succeeded
	case r.StatusCode == 408 || r.StatusCode == 425 || r.StatusCode == 429:
		return Failed
	case r.StatusCode >= 400 && r.StatusCode < 500:
		return Final
	}
	return Failed
}

var errBadURL = errors.New("webhook: the URL is not an absolute http or https URL")

// Send makes one signed POST. It never follows redirects, ignores proxy settings (a proxy would
// connect on the webhook's behalf, past the guard) and checks every address it connects to.
func Send(ctx context.Context, o Options, r Request) Response {
	sig, err := Sign(r.Secret, r.ID, r.At, r.Body)
	if err != nil {
		return Response{Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, o.AttemptTimeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.URL, bytes.NewReader(r.Body))
	if err != nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") || req.URL.Host == "" {
		return Response{Err: errBadURL}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Switchboard-Webhooks/1")
	req.Header.Set("webhook-id", r.ID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(r.At.Unix(), 10))
	req.Header.Set("webhook-signature", sig)

	start := time.Now()
	res, err := client(o).Do(req)
	if err != nil {
		return Response{Latency: time.Since(start), Err: err}
	}
	defer res.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(res.Body, ExcerptLimit))
	return Response{StatusCode: res.StatusCode, Latency: time.Since(start), Excerpt: cleanText(excerpt),
		RetryAfter: retryAfter(res.Header.Get("Retry-After"), time.Now())}
}

// client is a fresh client per attempt with keep-alives off: attempts are rare and go to
// different hosts, and no pooled connection outlives the check made when it was dialled.
func client(o Options) *http.Client {
	guard := Guard{Allow: o.Allow}
	dialer := &net.Dialer{Timeout: o.AttemptTimeout(), Control: guard.control}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:               nil,
			DialContext:         dialer.DialContext,
			DisableKeepAlives:   true,
			ForceAttemptHTTP2:   true,
			TLSHandshakeTimeout: o.AttemptTimeout(),
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// cleanText makes bytes storable as PostgreSQL text: valid UTF-8 (a rune cut at the limit is
// dropped) and no NUL.
func cleanText(b []byte) string {
	s := strings.ToValidUTF8(string(b), "")
	return strings.ReplaceAll(s, "\x00", "")
}

// CleanError is an error message ready for the execution log: valid UTF-8, no NUL, bounded.
func CleanError(err error) string {
	s := err.Error()
	if len(s) > ExcerptLimit {
		s = s[:ExcerptLimit] // a rune cut here is dropped by cleanText
	}
	return cleanText([]byte(s))
}

// retryAfter reads a Retry-After header: seconds or an HTTP date. Zero when absent or bad.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

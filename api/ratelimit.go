package api

import (
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// rateLimit allows each token perMinute requests in a sliding minute, on /api/v1 and /public/v1
// together; past that, 429 with Retry-After. Counts are kept per API instance. perMinute 0
// turns it off.
func rateLimit(perMinute int) fiber.Handler {
	if perMinute <= 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return limiter.New(limiter.Config{
		Max:               perMinute,
		Expiration:        time.Minute,
		LimiterMiddleware: limiter.SlidingWindow{},
		KeyGenerator:      func(c *fiber.Ctx) string { return principal(c).TokenID },
		LimitReached: func(c *fiber.Ctx) error {
			retry, _ := strconv.Atoi(string(c.Response().Header.Peek(fiber.HeaderRetryAfter)))
			return &Error{Status: fiber.StatusTooManyRequests, Code: "rate_limited",
				Message:    "this token made more than " + strconv.Itoa(perMinute) + " requests in a minute; retry later",
				RetryAfter: max(retry, 1)}
		},
	})
}

// failureLimit counts failed authentications per client address in fixed one-minute windows:
// each bad or missing token costs a lookup, so an address past max failures gets 429 on every
// request until its window ends. max 0 turns it off.
type failureLimit struct {
	max    int
	mu     sync.Mutex
	window time.Time // start of the current window
	counts map[string]int
}

func newFailureLimit(max int) *failureLimit {
	return &failureLimit{max: max, counts: map[string]int{}}
}

// roll starts a new window when the current one is over (which also bounds the map's size).
func (f *failureLimit) roll(now time.Time) {
	if now.Sub(f.window) >= time.Minute {
		f.window = now
		clear(f.counts)
	}
}

// over reports whether addr is past its failures, and in how many seconds to retry.
func (f *failureLimit) over(addr string, now time.Time) (int, bool) {
	if f.max <= 0 {
		return 0, false
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roll(now)
	if f.counts[addr] < f.max {
		return 0, false
	}
	return max(1, int(math.Ceil(f.window.Add(time.Minute).Sub(now).Seconds()))), true
}

func (f *failureLimit) fail(addr string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.roll(now)
	f.counts[addr]++
}

// limitAuthFailures refuses requests from an address past its failed authentications, before
// the token is looked up, and counts each 401 it answers.
func (s *Server) limitAuthFailures(c *fiber.Ctx) error {
	addr := c.IP()
	if retry, over := s.failures.over(addr, time.Now()); over {
		return &Error{Status: fiber.StatusTooManyRequests, Code: "rate_limited",
			Message:    "too many requests with a bad or missing token from this address; retry later",
			RetryAfter: retry}
	}
	err := c.Next()
	if err != nil && toAPIError(err).Status == fiber.StatusUnauthorized {
		s.failures.fail(addr, time.Now())
	}
	return err
}

package api

import (
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
)

// rateLimit allows each token perMinute requests in a sliding minute; past that, 429 with
// Retry-After. Counts are kept per API instance. perMinute 0 turns it off.
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

package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"go.temporal.io/sdk/temporal"
)

// idempotency makes a write with an Idempotency-Key header happen once. requirePerm runs it, so
// the route's permission is always checked before anything is replayed. Keys belong to the
// token that sent them and are kept for 24 hours:
//   - the first request with a key takes a lease on it and runs; its answer (below 500) is stored
//     without its shown-once fields (see shownOnce) and replayed to a repeat of the same request,
//     with Idempotent-Replayed: true and Idempotent-Redacted naming what was left out;
//   - a repeat with a different request is a 422; a repeat while the first still runs is a 409
//     with Retry-After;
//   - a key whose lease ran out (its process died) is taken over by the next repeat;
//   - after a 5xx the key is free at once. When the 5xx was a ticket change whose workflow
//     update failed, the key's attempt is raised, so the retry is a new Temporal update (the
//     same update id would get the same failure back); otherwise (a timeout, an unreachable
//     service) the retry keeps the update id and joins the change if it is under way.
func (s *Server) idempotency(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	// An upload's body is a stream that is never held in memory, so it cannot be hashed before
	// it runs: the key is not used there. A repeated upload makes a second, unreferenced upload
	// of the same content (one blob), which expires unless a message carries it.
	if key == "" || c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead || streamedBody(c) {
		return c.Next()
	}
	if len(key) > 255 {
		return errField("Idempotency-Key", "must be at most 255 characters")
	}
	ctx := c.UserContext()
	owner := principal(c).TokenID
	hash := RequestHash(c.Method(), c.OriginalURL(), c.Body())
	attempt, claimed, err := s.claimKey(ctx, owner, key, c.Method(), c.Path(), hash)
	if err != nil {
		return err
	}
	if !claimed {
		return s.replay(c, owner, key, hash)
	}
	c.Locals(attemptKey, attempt)

	err = c.Next()
	if err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	if status >= 500 {
		next := attempt
		if failedUpdate(err) {
			next++
		}
		_, err = s.db.NewRaw(`UPDATE idempotency_keys SET lease_until = now(), attempt = ? WHERE owner_id = ? AND key = ?`,
			next, owner, key).Exec(ctx)
	} else {
		fields, _ := c.Locals(shownOnceKey).([]string)
		_, err = s.db.NewRaw(`UPDATE idempotency_keys SET status = ?, body = ?, redacted = ? WHERE owner_id = ? AND key = ?`,
			status, redact(c.Response().Body(), fields), strings.Join(fields, ","), owner, key).Exec(ctx)
	}
	if err != nil {
		s.log.Warn("idempotency key not recorded", "key", key, "err", err)
	}
	return nil
}

const (
	attemptKey   = "idempotencyAttempt"
	shownOnceKey = "shownOnce"
)

// idempotencyLease is how long a request holds its key: longer than any request may run (the
// update timeout, the write timeout's margin, and some more).
func (s *Server) idempotencyLease() time.Duration { return s.cfg.UpdateTimeout + 30*time.Second }

// claimKey takes the key for this request: a new key, or one whose lease ran out with no
// answer stored, for the same request. It returns the key's attempt.
func (s *Server) claimKey(ctx context.Context, owner, key, method, path string, hash []byte) (int, bool, error) {
	if _, err := s.db.NewRaw(`DELETE FROM idempotency_keys WHERE owner_id = ? AND key = ?
		AND created_at < now() - interval '24 hours'`, owner, key).Exec(ctx); err != nil {
		return 0, false, err
	}
	lease := s.idempotencyLease().Seconds()
	res, err := s.db.NewRaw(`INSERT INTO idempotency_keys (owner_id, key, method, path, request_hash, lease_until)
		VALUES (?, ?, ?, ?, ?, now() + ? * interval '1 second') ON CONFLICT DO NOTHING`, owner, key, method, path, hash, lease).Exec(ctx)
	if err != nil {
		return 0, false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return 0, true, nil
	}
	var attempts []int
	err = s.db.NewRaw(`UPDATE idempotency_keys SET lease_until = now() + ? * interval '1 second'
		WHERE owner_id = ? AND key = ? AND request_hash = ? AND status = 0 AND lease_until <= now()
		RETURNING attempt`, lease, owner, key, hash).Scan(ctx, &attempts)
	if err != nil && !isNoRows(err) {
		return 0, false, err
	}
	if len(attempts) == 0 {
		return 0, false, nil
	}
	return attempts[0], true, nil
}

// failedUpdate tells a Temporal update that completed with a failure (retrying under the same
// update id would only return that failure again) from a timeout or an unreachable service,
// after which the change may still be under way.
func failedUpdate(err error) bool {
	var app *temporal.ApplicationError
	var panicked *temporal.PanicError
	var activity *temporal.ActivityError
	var canceled *temporal.CanceledError
	return errors.As(err, &app) || errors.As(err, &panicked) || errors.As(err, &activity) || errors.As(err, &canceled)
}

func (s *Server) replay(c *fiber.Ctx, owner, key string, hash []byte) error {
	var stored struct {
		RequestHash []byte    `bun:"request_hash"`
		Status      int       `bun:"status"`
		Body        []byte    `bun:"body"`
		Redacted    string    `bun:"redacted"`
		LeaseUntil  time.Time `bun:"lease_until"`
	}
	err := s.db.NewRaw(`SELECT request_hash, status, body, redacted, lease_until FROM idempotency_keys WHERE owner_id = ? AND key = ?`,
		owner, key).Scan(c.UserContext(), &stored)
	if err != nil {
		return err
	}
	if !bytes.Equal(stored.RequestHash, hash) {
		return errField("Idempotency-Key", "was already used with a different request; use a new key")
	}
	if stored.Status == 0 {
		e := errConflict("a request with this Idempotency-Key is still being processed; retry later")
		e.RetryAfter = max(1, int(math.Ceil(time.Until(stored.LeaseUntil).Seconds())))
		return e
	}
	c.Set("Idempotent-Replayed", "true")
	if stored.Redacted != "" {
		c.Set("Idempotent-Redacted", stored.Redacted)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(stored.Status).Send(stored.Body)
}

// shownOnce marks fields of this answer that must be seen once only (a secret, a token): a
// stored Idempotency-Key answer leaves them out.
func shownOnce(c *fiber.Ctx, fields ...string) { c.Locals(shownOnceKey, fields) }

// redact removes top-level fields from a JSON object answer.
func redact(body []byte, fields []string) []byte {
	if len(fields) == 0 {
		return body
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(body, &obj) != nil {
		return []byte(`{}`) // never store what could not be checked
	}
	for _, f := range fields {
		delete(obj, f)
	}
	out, _ := json.Marshal(obj)
	return out
}

// RequestHash identifies a request: its method, URL (with the query) and body.
func RequestHash(method, url string, body []byte) []byte {
	h := sha256.New()
	h.Write([]byte(method + " " + url + "\n"))
	h.Write(body)
	return h.Sum(nil)
}

// idempotencyAttempt is the attempt of the request's Idempotency-Key (0 without one).
func idempotencyAttempt(c *fiber.Ctx) int {
	n, _ := c.Locals(attemptKey).(int)
	return n
}

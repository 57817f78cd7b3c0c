package api

import (
	"bytes"
	"crypto/sha256"

	"github.com/gofiber/fiber/v2"
)

// idempotency makes a write with an Idempotency-Key header happen once: the first request with
// a key runs and its answer is stored; a repeat with the same request gets the stored answer
// (with Idempotent-Replayed: true); a repeat with a different request is a 422; a repeat while
// the first is still running is a 409. Server errors are not stored, so they can be retried.
// Keys are per principal and kept for 24 hours.
func (s *Server) idempotency(c *fiber.Ctx) error {
	key := c.Get("Idempotency-Key")
	if key == "" || c.Method() == fiber.MethodGet || c.Method() == fiber.MethodHead {
		return c.Next()
	}
	if len(key) > 255 {
		return errField("Idempotency-Key", "must be at most 255 characters")
	}
	ctx := c.UserContext()
	owner := principal(c).Person.ID
	h := sha256.New()
	h.Write([]byte(c.Method() + " " + c.OriginalURL() + "\n"))
	h.Write(c.Body())
	hash := h.Sum(nil)

	if _, err := s.db.NewRaw(`DELETE FROM idempotency_keys WHERE owner_id = ? AND key = ?
		AND created_at < now() - interval '24 hours'`, owner, key).Exec(ctx); err != nil {
		return err
	}
	res, err := s.db.NewRaw(`INSERT INTO idempotency_keys (owner_id, key, method, path, request_hash)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, owner, key, c.Method(), c.Path(), hash).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return s.replay(c, owner, key, hash)
	}

	if err := c.Next(); err != nil {
		if herr := c.App().ErrorHandler(c, err); herr != nil {
			return herr
		}
	}
	status := c.Response().StatusCode()
	if status >= 500 {
		_, err = s.db.NewRaw(`DELETE FROM idempotency_keys WHERE owner_id = ? AND key = ?`, owner, key).Exec(ctx)
	} else {
		_, err = s.db.NewRaw(`UPDATE idempotency_keys SET status = ?, body = ? WHERE owner_id = ? AND key = ?`,
			status, c.Response().Body(), owner, key).Exec(ctx)
	}
	if err != nil {
		s.log.Warn("idempotency key not recorded", "key", key, "err", err)
	}
	return nil
}

func (s *Server) replay(c *fiber.Ctx, owner, key string, hash []byte) error {
	var stored struct {
		RequestHash []byte `bun:"request_hash"`
		Status      int    `bun:"status"`
		Body        []byte `bun:"body"`
	}
	err := s.db.NewRaw(`SELECT request_hash, status, body FROM idempotency_keys WHERE owner_id = ? AND key = ?`,
		owner, key).Scan(c.UserContext(), &stored)
	if err != nil {
		return err
	}
	if !bytes.Equal(stored.RequestHash, hash) {
		return errField("Idempotency-Key", "was already used with a different request; use a new key")
	}
	if stored.Status == 0 {
		return errConflict("a request with this Idempotency-Key is still being processed; retry later")
	}
	c.Set("Idempotent-Replayed", "true")
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Status(stored.Status).Send(stored.Body)
}

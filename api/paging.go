package api

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
)

// Lists page by cursor: ?limit=N&cursor=C, answered with {"data":[...],"next_cursor":"..."}
// (next_cursor is null on the last page). A cursor is opaque to clients: the sort key and id of
// the last item, base64-encoded.
type cursor struct {
	Value string `json:"v"`
	ID    string `json:"id"`
}

type page[T any] struct {
	Data       []T     `json:"data"`
	NextCursor *string `json:"next_cursor"`
}

const defaultLimit, maxLimit = 25, 100

// pageParams reads limit and cursor.
func pageParams(c *fiber.Ctx) (int, *cursor, error) {
	limit, err := pageLimit(c)
	if err != nil {
		return 0, nil, err
	}
	cur, err := pageCursor(c)
	return limit, cur, err
}

func pageLimit(c *fiber.Ctx) (int, error) {
	raw := c.Query("limit")
	if raw == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil || n < 1 || n > maxLimit {
		return 0, errField("limit", "must be an integer from 1 to %d", maxLimit)
	}
	return n, nil
}

func pageCursor(c *fiber.Ctx) (*cursor, error) {
	raw := c.Query("cursor")
	if raw == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(raw)
	cur := &cursor{}
	if err != nil || json.Unmarshal(b, cur) != nil || cur.ID == "" {
		return nil, errField("cursor", "is not a cursor this API issued; use next_cursor from the previous page")
	}
	return cur, nil
}

// makePage trims the one extra row fetched to learn whether another page follows.
func makePage[T any](rows []T, limit int, key func(T) cursor) page[T] {
	p := page[T]{Data: rows}
	if p.Data == nil {
		p.Data = []T{}
	}
	if len(rows) > limit {
		p.Data = rows[:limit]
		b, _ := json.Marshal(key(rows[limit-1]))
		s := base64.RawURLEncoding.EncodeToString(b)
		p.NextCursor = &s
	}
	return p
}

// olderThanCursor pages a newest-first list ordered by (created_at, id) DESC: the rows after
// the cursor's (whose Value is its row's created_at). No cursor: the first page.
func olderThanCursor(q *bun.SelectQuery, cur *cursor) (*bun.SelectQuery, error) {
	if cur == nil {
		return q, nil
	}
	at, err := time.Parse(time.RFC3339Nano, cur.Value)
	if err != nil {
		return nil, errField("cursor", "is not a cursor this API issued")
	}
	return q.Where("(created_at, id) < (?, ?)", at, cur.ID), nil
}

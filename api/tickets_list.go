package api

import (
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/switchboardhq/switchboard/schema"
)

// ticketSorts maps the sort parameter to its column. Every sort pages by (column, id).
var ticketSorts = map[string]string{"id": "id", "createdAt": "created_at", "updatedAt": "updated_at"}

// listTickets lists tickets with filters, newest first by default:
// status, baseStatus, urgency (comma-separated lists), ownerId, teamId, clientId, tag, type,
// q (text in the subject), createdFrom/createdTo, updatedFrom/updatedTo (RFC 3339),
// sort (id|createdAt|updatedAt), order (asc|desc), limit, cursor.
func (s *Server) listTickets(c *fiber.Ctx) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	sortParam := c.Query("sort", "id")
	column, ok := ticketSorts[sortParam]
	if !ok {
		return errField("sort", "must be one of: id, createdAt, updatedAt")
	}
	order := c.Query("order", "desc")
	if order != "asc" && order != "desc" {
		return errField("order", "must be asc or desc")
	}
	q := s.db.NewSelect().Model((*schema.Ticket)(nil)).Limit(int64(limit+1)).
		OrderExpr("? "+order+", id "+order, bun.Ident(column))
	if cur != nil {
		if err := pageAfter(q, column, order, cur); err != nil {
			return err
		}
	}
	if err := s.ticketFilters(c, q); err != nil {
		return err
	}
	var rows []schema.Ticket
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	items := make([]ticketSummary, len(rows))
	for i := range rows {
		items[i] = ticketSummary{Ticket: rows[i], Workflow: s.workflowRef(&rows[i])}
	}
	return c.JSON(makePage(items, limit, func(t ticketSummary) cursor {
		switch column {
		case "created_at":
			return cursor{Value: t.CreatedAt.Format(time.RFC3339Nano), ID: strconv.FormatInt(t.ID, 10)}
		case "updated_at":
			return cursor{Value: t.UpdatedAt.Format(time.RFC3339Nano), ID: strconv.FormatInt(t.ID, 10)}
		}
		return cursor{ID: strconv.FormatInt(t.ID, 10)}
	}))
}

// pageAfter continues after the cursor's row in the list's order.
func pageAfter(q *bun.SelectQuery, column, order string, cur *cursor) error {
	id, err := strconv.ParseInt(cur.ID, 10, 64)
	if err != nil {
		return errField("cursor", "is not a cursor this API issued")
	}
	cmp := "<"
	if order == "asc" {
		cmp = ">"
	}
	if column == "id" {
		q.Where("id "+cmp+" ?", id)
		return nil
	}
	at, err := time.Parse(time.RFC3339Nano, cur.Value)
	if err != nil {
		return errField("cursor", "does not match the sort; keep the same sort and order while paging")
	}
	q.Where("(?, id) "+cmp+" (?, ?)", bun.Ident(column), at, id)
	return nil
}

func (s *Server) ticketFilters(c *fiber.Ctx, q *bun.SelectQuery) error {
	p := principal(c)
	clients, err := s.visibleClients(c.UserContext(), p)
	if err != nil {
		return err
	}
	if clients != nil {
		q.Where("client_ids && ?", pgdialect.Array(clients)).Where("type = 'public'")
	}
	lists := []struct {
		param, column string
		allowed       []string
	}{
		{"status", "status", nil},
		{"baseStatus", "base_status", schema.BaseStatuses},
		{"urgency", "urgency", s.cfg.Urgencies},
		{"type", "type", []string{"public", "internal"}},
	}
	for _, f := range lists {
		vals := csv(c.Query(f.param))
		if len(vals) == 0 {
			continue
		}
		for _, v := range vals {
			if f.allowed != nil && !contains(f.allowed, v) {
				return errField(f.param, "unknown value %q; allowed: %s", v, strings.Join(f.allowed, ", "))
			}
		}
		q.Where("? IN (?)", bun.Ident(f.column), bun.In(vals))
	}
	for param, column := range map[string]string{"ownerId": "owner_id", "teamId": "team_id"} {
		if v := c.Query(param); v != "" {
			q.Where("? = ?", bun.Ident(column), v)
		}
	}
	if v := c.Query("clientId"); v != "" {
		q.Where("? = ANY(client_ids)", v)
	}
	if v := c.Query("tag"); v != "" {
		q.Where("? = ANY(tags)", v)
	}
	if v := c.Query("q"); v != "" {
		q.Where("subject ILIKE ?", "%"+escapeLike(v)+"%")
	}
	ranges := []struct{ param, column, op string }{
		{"createdFrom", "created_at", ">="}, {"createdTo", "created_at", "<"},
		{"updatedFrom", "updated_at", ">="}, {"updatedTo", "updated_at", "<"},
	}
	for _, r := range ranges {
		if v := c.Query(r.param); v != "" {
			t, err := parseTime(r.param, v)
			if err != nil {
				return err
			}
			q.Where("? "+r.op+" ?", bun.Ident(r.column), t)
		}
	}
	return nil
}

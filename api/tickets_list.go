package api

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/sla"
)

// ticketSorts maps the sort parameter to its column. Every sort pages by (column, id).
// sla_solution_due may be null: those rows come last in either order.
var ticketSorts = map[string]string{"id": "id", "createdAt": "created_at", "updatedAt": "updated_at",
	"slaSolutionDue": "sla_solution_due"}

// listTickets lists tickets with filters, newest first by default:
// status, baseStatus, urgency (comma-separated lists), ownerId, teamId, clientId, tag, type,
// q (text in the subject), createdFrom/createdTo, updatedFrom/updatedTo (RFC 3339),
// overdue (true|false), slaSolutionDueFrom/slaSolutionDueTo (RFC 3339),
// sort (id|createdAt|updatedAt|slaSolutionDue), order (asc|desc), limit, cursor.
func (s *Server) listTickets(c *fiber.Ctx) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	sortParam := c.Query("sort", "id")
	column, ok := ticketSorts[sortParam]
	if !ok {
		return errField("sort", "must be one of: id, createdAt, updatedAt, slaSolutionDue")
	}
	order := c.Query("order", "desc")
	if order != "asc" && order != "desc" {
		return errField("order", "must be asc or desc")
	}
	nulls := ""
	if column == "sla_solution_due" {
		nulls = " NULLS LAST"
	}
	q := s.db.NewSelect().Model((*schema.Ticket)(nil)).Limit(int64(limit+1)).
		OrderExpr("? "+order+nulls+", id "+order, bun.Ident(column))
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
	now := time.Now()
	for i := range rows {
		items[i] = s.summary(rows[i], now)
	}
	if principal(c).isCustomer() {
		if err := s.cutForCustomer(c.UserContext(), items); err != nil {
			return err
		}
	}
	return c.JSON(makePage(items, limit, func(t ticketSummary) cursor {
		switch column {
		case "created_at":
			return cursor{Value: t.CreatedAt.Format(time.RFC3339Nano), ID: strconv.FormatInt(t.ID, 10)}
		case "updated_at":
			return cursor{Value: t.UpdatedAt.Format(time.RFC3339Nano), ID: strconv.FormatInt(t.ID, 10)}
		case "sla_solution_due":
			if t.SLASolutionDue == nil {
				return cursor{Value: nullCursor, ID: strconv.FormatInt(t.ID, 10)}
			}
			return cursor{Value: t.SLASolutionDue.Format(time.RFC3339Nano), ID: strconv.FormatInt(t.ID, 10)}
		}
		return cursor{ID: strconv.FormatInt(t.ID, 10)}
	}))
}

// nullCursor is the cursor value of a row whose sort column is null.
const nullCursor = "null"

// pageAfter continues after the cursor's row in the list's order. Only sla_solution_due is
// nullable; its nulls come last in either order.
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
	nullable := column == "sla_solution_due"
	if nullable && cur.Value == nullCursor {
		q.Where("? IS NULL AND id "+cmp+" ?", bun.Ident(column), id)
		return nil
	}
	at, err := time.Parse(time.RFC3339Nano, cur.Value)
	if err != nil {
		return errField("cursor", "does not match the sort; keep the same sort and order while paging")
	}
	if nullable {
		q.Where("((?, id) "+cmp+" (?, ?) OR ? IS NULL)", bun.Ident(column), at, id, bun.Ident(column))
		return nil
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
		{"slaSolutionDueFrom", "sla_solution_due", ">="}, {"slaSolutionDueTo", "sla_solution_due", "<"},
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
	if v := c.Query("overdue"); v != "" {
		b, err := parseBool("overdue", v)
		if err != nil {
			return err
		}
		q.Where("(?) = ?", sla.OverdueSQL(time.Now()), b)
	}
	return nil
}

// cutForCustomer makes list entries what a customer may see (ticketSummary.forCustomer), with
// the public action counts in one query.
func (s *Server) cutForCustomer(ctx context.Context, items []ticketSummary) error {
	if len(items) == 0 {
		return nil
	}
	ids := make([]int64, len(items))
	for i, it := range items {
		ids[i] = it.ID
	}
	var counts []struct {
		TicketID int64 `bun:"ticket_id"`
		N        int   `bun:"n"`
	}
	err := s.db.NewRaw(`SELECT ticket_id, count(*) AS n FROM ticket_actions
		WHERE ticket_id IN (?) AND type = 'public' GROUP BY ticket_id`, bun.In(ids)).Scan(ctx, &counts)
	if err != nil {
		return err
	}
	public := map[int64]int{}
	for _, c := range counts {
		public[c.TicketID] = c.N
	}
	for i := range items {
		items[i].forCustomer(public[items[i].ID])
	}
	return nil
}

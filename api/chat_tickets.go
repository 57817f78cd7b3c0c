package api

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// The agents' queues of chat tickets (../shared/seeds/chat-desk-tickets.txt, "Manage
// tickets"): the tickets of chats that reached no agent. unassigned (newest first; with a
// department, only that department's agents and admins see it), assigned (the agent's own, no
// limit), closed (closedByMe filters). Archived tickets (90 days after creation) leave the
// queues and are listed with archived=true. An agent accepts one ticket, or quick-accepts the
// N oldest they may see; the claim is one conditional UPDATE (quick accept: FOR UPDATE SKIP
// LOCKED), so two agents never get the same ticket, and the ticket's workflow then makes the
// agent its owner. Chat tickets are not transferred (POST /tickets/{id}/assign answers 409);
// the assignee closes one after answering the customer on it.
func (s *Server) chatTicketRoutes(r fiber.Router) {
	r.Get("/chat-tickets", requirePerm(PermTicketsRead), staffOnly, s.listChatTickets)
	r.Post("/chat-tickets/quick-accept", requirePerm(PermTicketsWrite), staffOnly, s.quickAcceptChatTickets)
	r.Post("/chat-tickets/:id/accept", requirePerm(PermTicketsWrite), staffOnly, s.acceptChatTicket)
	r.Post("/chat-tickets/:id/close", requirePerm(PermTicketsWrite), staffOnly, s.closeChatTicket)
}

// Queues of GET /chat-tickets.
const (
	queueUnassigned = "unassigned"
	queueAssigned   = "assigned"
	queueClosed     = "closed"
)

// maxQuickAccept is the most tickets one quick accept takes.
const maxQuickAccept = 100

// chatTicketJSON is a chat ticket as the queues answer it: the queue row with the ticket's
// subject and status (empty while the ticket is still being made).
type chatTicketJSON struct {
	TicketID       int64   `json:"ticketId"`
	Subject        string  `json:"subject"`
	Status         string  `json:"status"`
	BaseStatus     string  `json:"baseStatus"`
	ChatID         string  `json:"chatId"`
	CustomerID     *string `json:"customerId"`
	GroupID        string  `json:"groupId"`
	DepartmentID   *string `json:"departmentId"`
	Channel        string  `json:"channel"`
	ChannelContact *string `json:"channelContact"`
	// WhatsAppWindowEndsAt is the contact's 24-hour window (nil for the web, or never wrote).
	WhatsAppWindowEndsAt *time.Time `json:"whatsappWindowEndsAt"`
	CreatedAt            time.Time  `json:"createdAt"`
	IntakeOpen           bool       `json:"intakeOpen"`
	IntakeClosedAt       *time.Time `json:"intakeClosedAt"`
	AcceptedBy           *string    `json:"acceptedBy"`
	AcceptedAt           *time.Time `json:"acceptedAt"`
	ClosedAt             *time.Time `json:"closedAt"`
	ClosedBy             *string    `json:"closedBy"`
	CloseReason          *string    `json:"closeReason"`
	ClosedChatID         *string    `json:"closedChatId"`
	ArchivedAt           *time.Time `json:"archivedAt"`
}

type chatTicketCounts struct {
	Unassigned int `json:"unassigned" bun:"unassigned"`
	Assigned   int `json:"assigned" bun:"assigned"`
	Closed     int `json:"closed" bun:"closed"`
}

type chatTicketPage struct {
	page[chatTicketJSON]
	Counts chatTicketCounts `json:"counts"`
}

// sees adds the department scope of the unassigned and closed queues for a non-admin.
func sees(q *bun.SelectQuery, me *schema.Person) *bun.SelectQuery {
	if me.Role == schema.RoleAdmin {
		return q
	}
	return q.Where(schema.SeesChatTicket, departments(me))
}

// departments is the agent's departments as a PostgreSQL array argument.
func departments(me *schema.Person) any {
	ids := me.DepartmentIDs
	if ids == nil {
		ids = []string{}
	}
	return pgdialect.Array(ids)
}

// ctClosed is when a chat ticket counts as closed: closed from its queue, or its ticket closed
// or canceled through the ordinary ticket routes (or a trigger).
const ctClosed = "(ct.closed_at IS NOT NULL OR EXISTS (SELECT 1 FROM tickets AS t WHERE t.id = ct.ticket_id AND t.base_status IN ('Closed', 'Canceled')))"

// inQueue adds the queue's condition.
func inQueue(q *bun.SelectQuery, queue string, me *schema.Person, closedByMe bool) *bun.SelectQuery {
	switch queue {
	case queueUnassigned:
		return sees(q.Where("ct.accepted_by IS NULL AND NOT "+ctClosed), me)
	case queueAssigned:
		return q.Where("ct.accepted_by = ? AND NOT "+ctClosed, me.ID)
	}
	q = sees(q.Where(ctClosed), me)
	if closedByMe {
		q = q.Where("ct.closed_by = ?", me.ID)
	}
	return q
}

func (s *Server) listChatTickets(c *fiber.Ctx) error {
	queue := c.Query("queue", queueUnassigned)
	if queue != queueUnassigned && queue != queueAssigned && queue != queueClosed {
		return errField("queue", "must be unassigned, assigned or closed (got %q)", queue)
	}
	closedByMe, err := boolQuery(c, "closedByMe")
	if err != nil {
		return err
	}
	archived, err := boolQuery(c, "archived")
	if err != nil {
		return err
	}
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	me := &principal(c).Person
	var rows []schema.ChatTicket
	q := s.db.NewSelect().Model(&rows).
		OrderExpr("ct.created_at DESC, ct.ticket_id DESC").Limit(int64(limit + 1))
	if archived {
		q = q.Where("ct.archived_at IS NOT NULL")
	} else {
		q = q.Where("ct.archived_at IS NULL")
	}
	q = inQueue(q, queue, me, closedByMe)
	if cur != nil {
		at, err := time.Parse(time.RFC3339Nano, cur.Value)
		id, err2 := strconv.ParseInt(cur.ID, 10, 64)
		if err != nil || err2 != nil {
			return errField("cursor", "is not a cursor this API issued")
		}
		q = q.Where("(ct.created_at, ct.ticket_id) < (?, ?)", at, id)
	}
	if err := q.Scan(ctx); err != nil {
		return err
	}
	items, err := s.chatTicketItems(ctx, rows)
	if err != nil {
		return err
	}
	counts, err := s.chatTicketCounts(ctx, me)
	if err != nil {
		return err
	}
	p := makePage(items, limit, func(t chatTicketJSON) cursor {
		return cursor{Value: t.CreatedAt.Format(time.RFC3339Nano), ID: strconv.FormatInt(t.TicketID, 10)}
	})
	return c.JSON(chatTicketPage{page: p, Counts: counts})
}

func boolQuery(c *fiber.Ctx, name string) (bool, error) {
	switch c.Query(name) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, errField(name, "must be true or false")
}

// chatTicketCounts are the sizes of the agent's three queues (archived tickets left out).
func (s *Server) chatTicketCounts(ctx context.Context, me *schema.Person) (chatTicketCounts, error) {
	scope, args := "true", []any{}
	if me.Role != schema.RoleAdmin {
		scope, args = schema.SeesChatTicket, []any{departments(me)}
	}
	var n chatTicketCounts
	err := s.db.NewRaw(`SELECT
		count(*) FILTER (WHERE ct.accepted_by IS NULL AND NOT `+ctClosed+` AND `+scope+`) AS unassigned,
		count(*) FILTER (WHERE ct.accepted_by = ? AND NOT `+ctClosed+`) AS assigned,
		count(*) FILTER (WHERE `+ctClosed+` AND `+scope+`) AS closed
		FROM chat_tickets AS ct WHERE ct.archived_at IS NULL`, append(append(args, me.ID), args...)...).Scan(ctx, &n)
	return n, err
}

// chatTicketItems joins the rows with their tickets' subject and status.
func (s *Server) chatTicketItems(ctx context.Context, rows []schema.ChatTicket) ([]chatTicketJSON, error) {
	ids := make([]int64, len(rows))
	for i, r := range rows {
		ids[i] = r.TicketID
	}
	var tickets []schema.Ticket
	if len(ids) > 0 {
		if err := s.db.NewSelect().Model(&tickets).Column("id", "subject", "status", "base_status").
			Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
			return nil, err
		}
	}
	byID := map[int64]schema.Ticket{}
	for _, t := range tickets {
		byID[t.ID] = t
	}
	out := make([]chatTicketJSON, len(rows))
	for i, r := range rows {
		ends, err := schema.ChannelWindowEndsAt(ctx, s.db, r.Channel, r.ChannelContact)
		if err != nil {
			return nil, err
		}
		t := byID[r.TicketID]
		out[i] = chatTicketJSON{WhatsAppWindowEndsAt: ends, TicketID: r.TicketID, Subject: t.Subject, Status: t.Status, BaseStatus: t.BaseStatus,
			ChatID: r.ChatID, CustomerID: r.CustomerID, GroupID: r.GroupID, DepartmentID: r.DepartmentID, Channel: r.Channel,
			ChannelContact: r.ChannelContact, CreatedAt: r.CreatedAt, IntakeOpen: r.IntakeClosedAt == nil,
			IntakeClosedAt: r.IntakeClosedAt, AcceptedBy: r.AcceptedBy, AcceptedAt: r.AcceptedAt, ClosedAt: r.ClosedAt,
			ClosedBy: r.ClosedBy, CloseReason: r.CloseReason, ClosedChatID: r.ClosedChatID, ArchivedAt: r.ArchivedAt}
	}
	return out, nil
}

// loadChatTicket reads a chat ticket the agent may act on (404 for one they cannot see).
func (s *Server) loadChatTicket(c *fiber.Ctx) (*schema.ChatTicket, error) {
	id, err := strconv.ParseInt(c.Params("id"), 10, 64)
	if err != nil || id <= 0 {
		return nil, errNotFound("no chat ticket %q (ids are ticket numbers)", c.Params("id"))
	}
	me := &principal(c).Person
	var ct schema.ChatTicket
	q := s.db.NewSelect().Model(&ct).Where("ct.ticket_id = ?", id)
	if me.Role != schema.RoleAdmin {
		q = q.Where("ct.accepted_by = ? OR "+schema.SeesChatTicket, me.ID, departments(me))
	}
	if err := q.Scan(c.UserContext()); err != nil {
		if isNoRows(err) {
			return nil, errNotFound("no chat ticket %d", id)
		}
		return nil, err
	}
	return &ct, nil
}

func (s *Server) acceptChatTicket(c *fiber.Ctx) error {
	ct, err := s.loadChatTicket(c)
	if err != nil {
		return err
	}
	me := principal(c).Person.ID
	var base string
	if err := s.db.NewRaw("SELECT base_status FROM tickets WHERE id = ?", ct.TicketID).Scan(c.UserContext(), &base); err != nil && !isNoRows(err) {
		return err
	}
	switch {
	case ct.ArchivedAt != nil:
		return errConflict("chat ticket %d is archived", ct.TicketID)
	case ct.ClosedAt != nil || workflows.IsTerminal(base):
		return errConflict("chat ticket %d is closed", ct.TicketID)
	case ct.AcceptedBy != nil && *ct.AcceptedBy != me:
		return errConflict("chat ticket %d was accepted by %s", ct.TicketID, *ct.AcceptedBy)
	}
	ctx := c.UserContext()
	if ct.AcceptedBy == nil {
		var claimed []schema.ChatTicket
		err := s.db.NewRaw(`UPDATE chat_tickets SET accepted_by = ?, accepted_at = ? WHERE ticket_id = ?
			AND accepted_by IS NULL AND closed_at IS NULL AND archived_at IS NULL RETURNING *`,
			me, time.Now().UTC().Truncate(time.Microsecond), ct.TicketID).Scan(ctx, &claimed)
		if err != nil && !isNoRows(err) {
			return err
		}
		if len(claimed) == 0 {
			return errConflict("chat ticket %d was accepted by another agent a moment ago", ct.TicketID)
		}
		ct = &claimed[0]
	}
	if err := s.ownChatTicket(ctx, principal(c), ct); err != nil {
		return err
	}
	items, err := s.chatTicketItems(ctx, []schema.ChatTicket{*ct})
	if err != nil {
		return err
	}
	return c.JSON(items[0])
}

type quickAcceptInput struct {
	Count *int `json:"count" validate:"required,min=1,max=100"`
}

// quickAcceptChatTickets accepts the count oldest unassigned tickets the agent sees.
func (s *Server) quickAcceptChatTickets(c *fiber.Ctx) error {
	var in quickAcceptInput
	if err := decode(c, &in); err != nil {
		return err
	}
	p := principal(c)
	me := &p.Person
	scope, args := "true", []any{}
	if me.Role != schema.RoleAdmin {
		scope, args = schema.SeesChatTicket, []any{departments(me)}
	}
	ctx := c.UserContext()
	var claimed []schema.ChatTicket
	// The pick is a materialized CTE: as a subquery of UPDATE … IN (…), PostgreSQL may run the
	// LIMIT again while re-checking rows another quick accept changed, and take more than N.
	err := s.db.NewRaw(`WITH picked AS MATERIALIZED (
			SELECT ct.ticket_id FROM chat_tickets AS ct
			WHERE ct.accepted_by IS NULL AND NOT `+ctClosed+` AND ct.archived_at IS NULL AND `+scope+`
			ORDER BY ct.created_at, ct.ticket_id LIMIT ? FOR UPDATE SKIP LOCKED)
		UPDATE chat_tickets AS c SET accepted_by = ?, accepted_at = ? FROM picked
		WHERE c.ticket_id = picked.ticket_id AND c.accepted_by IS NULL RETURNING c.*`,
		append(args, *in.Count, me.ID, time.Now().UTC().Truncate(time.Microsecond))...).Scan(ctx, &claimed)
	if err != nil && !isNoRows(err) {
		return err
	}
	var took []schema.ChatTicket
	for i := range claimed {
		if err := s.ownChatTicket(ctx, p, &claimed[i]); err != nil {
			if toAPIError(err).Status == fiber.StatusConflict {
				continue // released: the ticket went elsewhere meanwhile
			}
			return err
		}
		took = append(took, claimed[i])
	}
	// oldest first, as taken
	items, err := s.chatTicketItems(ctx, sortByCreated(took))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"data": items})
}

func sortByCreated(cts []schema.ChatTicket) []schema.ChatTicket {
	out := slices.Clone(cts)
	slices.SortFunc(out, func(a, b schema.ChatTicket) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return cmp.Compare(a.TicketID, b.TicketID)
	})
	return out
}

// ownChatTicket makes the claiming agent the ticket's owner through its workflow (once per
// agent and ticket: the update id). A ticket that refuses (owned by someone else, closed) or
// is not made yet gives the claim back and answers 409.
func (s *Server) ownChatTicket(ctx context.Context, p *Principal, ct *schema.ChatTicket) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	h, err := s.sendUpdate(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.TicketWorkflowID(ct.TicketID),
		UpdateName: workflows.UpdateAccept, UpdateID: "chat-ticket/" + strconv.FormatInt(ct.TicketID, 10) + "/accept/" + p.Person.ID,
		Args:         []any{&workflows.AcceptInput{Actor: workflows.Actor{ID: p.Person.ID, Role: p.Person.Role}}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	if err == nil {
		if err := schema.PublishChatTicket(ctx, s.db, schema.ChatTicketAccepted, *ct); err != nil {
			s.log.Warn("chat ticket event dropped", "ticket", ct.TicketID, "err", err)
		}
		return nil
	}
	if _, rerr := s.db.NewRaw("UPDATE chat_tickets SET accepted_by = NULL, accepted_at = NULL WHERE ticket_id = ? AND accepted_by = ?",
		ct.TicketID, p.Person.ID).Exec(context.WithoutCancel(ctx)); rerr != nil {
		return errors.Join(err, rerr)
	}
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	switch {
	case errors.As(err, &nf):
		return errConflict("the ticket of chat ticket %d is still being made; try again in a moment", ct.TicketID)
	case errors.As(err, &appErr):
		return errConflict("ticket %d refused the accept: %s", ct.TicketID, appErr.Message())
	}
	return err
}

// closeChatTicket closes an assigned chat ticket once its agent answered the customer on it.
func (s *Server) closeChatTicket(c *fiber.Ctx) error {
	ct, err := s.loadChatTicket(c)
	if err != nil {
		return err
	}
	p := principal(c)
	switch {
	case ct.ClosedAt != nil:
		return errConflict("chat ticket %d is closed already", ct.TicketID)
	case ct.AcceptedBy == nil:
		return errConflict("chat ticket %d is unassigned; accept it and answer the customer first", ct.TicketID)
	case *ct.AcceptedBy != p.Person.ID && p.Person.Role != schema.RoleAdmin:
		return errForbidden("chat ticket %d is assigned to %s; only they (or an admin) close it", ct.TicketID, *ct.AcceptedBy)
	}
	ctx := c.UserContext()
	answered, err := s.db.NewSelect().Model((*schema.Action)(nil)).
		Where("ticket_id = ? AND type = 'public' AND author_id = ? AND created_at >= ?", ct.TicketID, *ct.AcceptedBy, *ct.AcceptedAt).
		Exists(ctx)
	if err != nil {
		return err
	}
	if !answered {
		return errConflict("answer the customer on ticket %d before closing it", ct.TicketID)
	}
	for _, base := range []string{schema.BaseResolved, schema.BaseClosed} {
		if err := s.moveTicket(ctx, p, ct.TicketID, base); err != nil {
			return err
		}
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	var closed []schema.ChatTicket
	err = s.db.NewRaw(`UPDATE chat_tickets SET closed_at = ?, closed_by = ?, close_reason = 'agent'
		WHERE ticket_id = ? AND closed_at IS NULL RETURNING *`, now, p.Person.ID, ct.TicketID).Scan(ctx, &closed)
	if err != nil && !isNoRows(err) {
		return err
	}
	if len(closed) > 0 {
		ct = &closed[0]
		if err := schema.PublishChatTicket(ctx, s.db, schema.ChatTicketClosed, *ct); err != nil {
			s.log.Warn("chat ticket event dropped", "ticket", ct.TicketID, "err", err)
		}
	}
	items, err := s.chatTicketItems(ctx, []schema.ChatTicket{*ct})
	if err != nil {
		return err
	}
	return c.JSON(items[0])
}

// moveTicket moves a ticket to a system status through its workflow (once per ticket and
// status: the update id); a ticket already there or past it is fine.
func (s *Server) moveTicket(ctx context.Context, p *Principal, ticketID int64, base string) error {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	h, err := s.sendUpdate(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.TicketWorkflowID(ticketID),
		UpdateName: workflows.UpdateChangeStatus, UpdateID: "chat-ticket/" + strconv.FormatInt(ticketID, 10) + "/close/" + base,
		Args: []any{&workflows.ChangeStatusInput{Actor: workflows.Actor{ID: p.Person.ID, Role: p.Person.Role},
			Status: base, BaseStatus: base, Justification: "Closed from the chat-ticket queue."}},
		WaitForStage: client.WorkflowUpdateStageCompleted})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil // the run ended: the ticket is closed already
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return errConflict("ticket %d refused the close: %s", ticketID, appErr.Message())
	}
	return err
}

// refuseChatTicketOwner answers 409 for an owner change of an open chat ticket outside its
// queue: chat tickets are not transferred, and they are taken through the queue's accept so
// that two agents never get the same one.
func (s *Server) refuseChatTicketOwner(ctx context.Context, ticketID int64) error {
	var ct schema.ChatTicket
	err := s.db.NewSelect().Model(&ct).Where("ticket_id = ? AND closed_at IS NULL", ticketID).Scan(ctx)
	if isNoRows(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if ct.AcceptedBy != nil {
		return errConflict("ticket %d is a chat ticket assigned to %s; chat tickets cannot be transferred", ticketID, *ct.AcceptedBy)
	}
	return errConflict("ticket %d is a chat ticket; take it with POST /api/v1/chat-tickets/%d/accept", ticketID, ticketID)
}

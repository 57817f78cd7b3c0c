package api

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"

	"github.com/switchboardhq/switchboard/internal/events"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// The agents' and supervisors' chat routes. Staff only (customers 403, whatever their token);
// reads take tickets:read, changes tickets:write, as chat is ticket work. Every staff member
// reads every chat (supervisors); changes are for the agents in the chat, the members of its
// group and admins, and accepting is for members of the group (or the agent it is offered to)
// and for invited agents: an invitation waits (chat_invitations, chat.invited on the agent's
// stream) until the invited agent accepts it, which joins them through the Invite update.
// Lists and reads come from PostgreSQL (what the workflows persisted); every change is an
// update of the chat's ChatSession workflow, which answers the chat as it is after it.
func (s *Server) chatRoutes(r fiber.Router) {
	r.Get("/chats", requirePerm(PermTicketsRead), staffOnly, s.listChats)
	r.Post("/chats", requirePerm(PermTicketsWrite), staffOnly, s.createInternalChat)
	r.Get("/chats/:id", requirePerm(PermTicketsRead), staffOnly, s.getChat)
	r.Post("/chats/:id/accept", requirePerm(PermTicketsWrite), staffOnly, s.acceptChat)
	r.Post("/chats/:id/messages", requirePerm(PermTicketsWrite), staffOnly, s.postChatMessage)
	r.Post("/chats/:id/attachments", requirePerm(PermTicketsWrite), staffOnly, s.uploadChatAttachments)
	r.Get("/chats/:id/messages", requirePerm(PermTicketsRead), staffOnly, s.listChatMessages)
	r.Post("/chats/:id/transfer", requirePerm(PermTicketsWrite), staffOnly, s.transferChat)
	r.Post("/chats/:id/invite", requirePerm(PermTicketsWrite), staffOnly, s.inviteToChat)
	r.Post("/chats/:id/leave", requirePerm(PermTicketsWrite), staffOnly, s.leaveChat)
	r.Post("/chats/:id/close", requirePerm(PermTicketsWrite), staffOnly, s.closeChat)
	r.Post("/tickets/:id/chat", requirePerm(PermTicketsWrite), staffOnly, s.startTicketChat)
}

var chatStates = []string{workflows.ChatQueued, workflows.ChatOffered, workflows.ChatActive, workflows.ChatOffline, workflows.ChatClosed}

// chatJSON fills the lists a stored chat leaves out, so that the answer has no nulls where
// the shape has arrays.
func chatJSON(ch workflows.Chat) workflows.Chat {
	if ch.AgentIDs == nil {
		ch.AgentIDs = []string{}
	}
	if ch.PassedOver == nil {
		ch.PassedOver = []string{}
	}
	return ch
}

// chatDetail is a chat with its transcript and the facts of its life, for GET /chats/{id}.
type chatDetail struct {
	workflows.Chat
	// InvitedAgentIDs are the agents invited who have not accepted yet.
	InvitedAgentIDs []string                `json:"invitedAgentIds"`
	Messages        []workflows.ChatMessage `json:"messages"`
	Events          []workflows.ChatEvent   `json:"events"`
	Workflow        workflowRef             `json:"workflow"`
	// WhatsAppWindowEndsAt: a WhatsApp chat's (absent for other channels).
	WhatsAppWindowEndsAt **time.Time `json:"whatsappWindowEndsAt,omitempty"`
}

// listChats lists chats, newest first: state (comma-separated), groupId, agentId (in the chat),
// customerId, from/to (created, RFC 3339), limit, cursor.
func (s *Server) listChats(c *fiber.Ctx) error {
	limit, cur, err := pageParams(c)
	if err != nil {
		return err
	}
	q := s.db.NewSelect().Model((*schema.ChatRow)(nil)).OrderExpr("created_at DESC, id DESC").Limit(int64(limit + 1))
	if q, err = olderThanCursor(q, cur); err != nil {
		return err
	}
	if states := csv(c.Query("state")); len(states) > 0 {
		for _, st := range states {
			if !contains(chatStates, st) {
				return errField("state", "unknown state %q; allowed: %s", st, strings.Join(chatStates, ", "))
			}
		}
		q = q.Where("state IN (?)", bun.In(states))
	}
	if v := c.Query("groupId"); v != "" {
		q = q.Where("group_id = ?", v)
	}
	if v := c.Query("customerId"); v != "" {
		q = q.Where("customer_id = ?", v)
	}
	if v := c.Query("agentId"); v != "" {
		q = q.Where("(? = ANY(agent_ids) OR agent_id = ?)", v, v)
	}
	for _, f := range []struct{ param, op string }{{"from", ">="}, {"to", "<"}} {
		if v := c.Query(f.param); v != "" {
			t, err := parseTime(f.param, v)
			if err != nil {
				return err
			}
			q = q.Where("created_at "+f.op+" ?", t)
		}
	}
	var rows []schema.ChatRow
	if err := q.Scan(c.UserContext(), &rows); err != nil {
		return err
	}
	items := make([]workflows.Chat, len(rows))
	for i := range rows {
		items[i] = chatJSON(chatOfRow(&rows[i]))
	}
	return c.JSON(makePage(items, limit, func(ch workflows.Chat) cursor {
		return cursor{Value: ch.CreatedAt.Format(time.RFC3339Nano), ID: ch.ID}
	}))
}

// maxTranscript bounds the transcript GET /chats/{id} answers; longer chats page through
// GET /chats/{id}/messages.
const maxTranscript = 1000

func (s *Server) getChat(c *fiber.Ctx) error {
	ctx := c.UserContext()
	row, err := s.loadChatRow(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	msgs, err := s.chatMessagesAfter(ctx, row.ID, 0, maxTranscript)
	if err != nil {
		return err
	}
	var evRows []schema.ChatEventRow
	if err := s.db.NewSelect().Model(&evRows).Where("chat_id = ?", row.ID).Order("version", "n").Scan(ctx); err != nil {
		return err
	}
	evs := make([]workflows.ChatEvent, len(evRows))
	for i, e := range evRows {
		evs[i] = workflows.ChatEvent{Type: e.Type, AgentID: deref(e.AgentID), GroupID: deref(e.GroupID), By: deref(e.ByID),
			Reason: deref(e.Reason), At: e.At}
	}
	var invited []string
	err = s.db.NewSelect().Model((*schema.ChatInvitation)(nil)).Column("agent_id").
		Where("chat_id = ? AND NOT (agent_id = ANY(?::text[]))", row.ID, pgArray(row.AgentIDs)).Order("invited_at", "agent_id").Scan(ctx, &invited)
	if err != nil {
		return err
	}
	if row.State == workflows.ChatClosed {
		invited = nil // nobody joins a closed chat
	}
	out := chatDetail{Chat: chatJSON(chatOfRow(row)), InvitedAgentIDs: orEmptyOf(invited), Messages: orEmptyOf(msgs),
		Events: evs, Workflow: s.workflowLink(workflows.ChatWorkflowID(row.ID), "")}
	if row.Channel == schema.ChannelWhatsApp {
		ends, err := schema.ChannelWindowEndsAt(ctx, s.db, row.Channel, row.ChannelContact)
		if err != nil {
			return err
		}
		out.WhatsAppWindowEndsAt = &ends
	}
	return c.JSON(out)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// --- starting chats

type internalChatInput struct {
	Kind     *string  `json:"kind" validate:"required,oneof=internal"`
	AgentIDs []string `json:"agentIds" validate:"required,min=1,max=20,dive,required,max=64"`
	Message  *string  `json:"message" validate:"omitnil,notblank,max=40000"`
}

// createInternalChat starts an internal chat between the caller and agentIds: the caller is in
// it from the start, the others are invited (told by chat.invited on their streams) and join
// when they accept.
func (s *Server) createInternalChat(c *fiber.Ctx) error {
	var in internalChatInput
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	me := principal(c).Person.ID
	seen := map[string]bool{}
	for i, id := range in.AgentIDs {
		field := "agentIds[" + strconv.Itoa(i) + "]"
		switch {
		case id == me:
			return errField(field, "the chat is started by you; list the other agents")
		case seen[id]:
			return errField(field, "agent %s is listed twice", id)
		}
		seen[id] = true
		if err := s.checkChatAgent(ctx, field, id); err != nil {
			return err
		}
	}
	ch, err := s.startChat(ctx, workflows.ChatInput{Kind: workflows.ChatKindInternal, StartedBy: me})
	if err != nil {
		return err
	}
	for _, id := range in.AgentIDs {
		if err := s.inviteAgent(ctx, ch, me, id); err != nil {
			return err
		}
	}
	if in.Message != nil {
		cm := "start"
		if _, err := s.sendChatMessage(c, ch.ID, me, workflows.ChatRoleAgent, chatMessageInput{Body: in.Message, ClientMessageID: &cm}); err != nil {
			return err
		}
		v, err := s.queryChat(ctx, ch.ID)
		if err != nil {
			return err
		}
		ch = v.Chat
	}
	return c.Status(fiber.StatusCreated).JSON(chatJSON(ch))
}

type ticketChatInput struct {
	GroupID *string `json:"groupId" validate:"required,max=64"`
}

// startTicketChat starts a customer chat from a ticket: with the ticket's (first) client, active
// with the caller, in groupId; when it closes its transcript joins the ticket.
func (s *Server) startTicketChat(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	var in ticketChatInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if len(t.ClientIDs) == 0 {
		return errConflict("ticket %d has no client to chat with", t.ID)
	}
	if t.BaseStatus == schema.BaseClosed || t.BaseStatus == schema.BaseCanceled {
		return errConflict("ticket %d is %s; reopen it to chat from it", t.ID, t.Status)
	}
	ctx := c.UserContext()
	g, err := s.chatGroupField(ctx, "groupId", *in.GroupID)
	if err != nil {
		return err
	}
	id := t.ID
	ch, err := s.startChat(ctx, workflows.ChatInput{Kind: workflows.ChatKindCustomer, GroupID: g.ID, CustomerID: t.ClientIDs[0],
		TicketID: &id, StartedBy: principal(c).Person.ID, Group: chatGroupSettings(g)})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(chatJSON(ch))
}

// chatGroupField reads the group a request names in field: a 422 naming it when there is none.
func (s *Server) chatGroupField(ctx context.Context, field, id string) (*schema.ChatGroup, error) {
	g, err := s.loadChatGroup(ctx, id)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Status == fiber.StatusNotFound {
			return nil, errField(field, "no chat group %q", id)
		}
		return nil, err
	}
	return g, nil
}

// checkChatAgent: id is an active agent (a 422 naming field otherwise).
func (s *Server) checkChatAgent(ctx context.Context, field, id string) error {
	var p schema.Person
	err := s.db.NewSelect().Model(&p).Column("id", "profile", "is_active").Where("id = ?", id).Scan(ctx)
	switch {
	case isNoRows(err):
		return errField(field, "no person with id %s", id)
	case err != nil:
		return err
	case p.Profile == schema.RoleCustomer:
		return errField(field, "%s is a customer, not an agent", id)
	case !p.IsActive:
		return errField(field, "agent %s is deactivated", id)
	}
	return nil
}

// --- changes

// chatForChange reads the chat a change names: 404 when there is none, 409 when it is closed.
func (s *Server) chatForChange(c *fiber.Ctx) (*schema.ChatRow, error) {
	row, err := s.loadChatRow(c.UserContext(), c.Params("id"))
	if err != nil {
		return nil, err
	}
	if row.State == workflows.ChatClosed {
		return nil, errConflict("chat %s is closed", row.ID)
	}
	return row, nil
}

// inChatGroup: the agent is a member of the group.
func (s *Server) inChatGroup(ctx context.Context, groupID, agentID string) (bool, error) {
	if groupID == "" {
		return false, nil
	}
	return s.db.NewSelect().Model((*schema.ChatGroupMember)(nil)).Where("group_id = ? AND agent_id = ?", groupID, agentID).Exists(ctx)
}

// mayChange: the caller is in the chat, a member of its group, or an admin.
func (s *Server) mayChange(c *fiber.Ctx, row *schema.ChatRow) error {
	p := principal(c).Person
	if p.Role == schema.RoleAdmin || contains(row.AgentIDs, p.ID) {
		return nil
	}
	ok, err := s.inChatGroup(c.UserContext(), row.GroupID, p.ID)
	if err != nil || ok {
		return err
	}
	return errForbidden("only the agents in the chat, the members of its group and admins change it")
}

func (s *Server) acceptChat(c *fiber.Ctx) error {
	row, err := s.chatForChange(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	me := principal(c).Person.ID
	v, err := s.queryChat(ctx, row.ID)
	if err != nil {
		return chatUpdateError(row.ID, err)
	}
	ch := v.Chat
	// An agent in the chat already: accepting again changes nothing.
	if ch.State == workflows.ChatActive && contains(ch.AgentIDs, me) {
		return c.JSON(chatJSON(ch))
	}
	// An invited agent joins the active chat.
	if ch.State == workflows.ChatActive {
		inv := &schema.ChatInvitation{}
		err := s.db.NewSelect().Model(inv).Where("chat_id = ? AND agent_id = ?", row.ID, me).Scan(ctx)
		if err == nil {
			arg := &workflows.InviteChatInput{By: inv.InvitedBy, AgentID: me}
			if err := s.runChatUpdate(c, row.ID, workflows.UpdateChatInvite, "chat-invite/"+row.ID+"/"+me, arg, &ch); err != nil {
				return err
			}
			return c.JSON(chatJSON(ch))
		}
		if !isNoRows(err) {
			return err
		}
	}
	if ch.OfferedTo == nil || *ch.OfferedTo != me {
		member, err := s.inChatGroup(ctx, ch.GroupID, me)
		if err != nil {
			return err
		}
		if !member {
			return errForbidden("only members of the chat's group accept its chats")
		}
	}
	if err := s.runChatUpdate(c, row.ID, workflows.UpdateChatAccept, "", &workflows.AcceptChatInput{AgentID: me}, &ch); err != nil {
		return err
	}
	return c.JSON(chatJSON(ch))
}

func (s *Server) postChatMessage(c *fiber.Ctx) error {
	var in chatMessageInput
	if err := decode(c, &in); err != nil {
		return err
	}
	row, err := s.loadChatRow(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	m, err := s.sendChatMessage(c, row.ID, principal(c).Person.ID, workflows.ChatRoleAgent, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

type chatMessagesPage struct {
	Data    []workflows.ChatMessage `json:"data"`
	HasMore bool                    `json:"hasMore"`
}

// listChatMessages answers the messages numbered after `after` (default 0), in order, at most
// limit (default 100, up to 1000): a client resuming from the last number it has gets the rest.
func (s *Server) listChatMessages(c *fiber.Ctx) error {
	after, err := intQuery(c, "after", 0, 0, 1<<53)
	if err != nil {
		return err
	}
	limit, err := intQuery(c, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	row, err := s.loadChatRow(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	msgs, err := s.chatMessagesAfter(ctx, row.ID, after, int(limit)+1)
	if err != nil {
		return err
	}
	p := chatMessagesPage{Data: orEmptyOf(msgs)}
	if len(msgs) > int(limit) {
		p.Data, p.HasMore = msgs[:limit], true
	}
	return c.JSON(p)
}

func intQuery(c *fiber.Ctx, name string, def, lo, hi int64) (int64, error) {
	raw := c.Query(name)
	if raw == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, errField(name, "must be an integer from %d to %d", lo, hi)
	}
	return n, nil
}

type chatTransferInput struct {
	AgentID *string `json:"agentId" validate:"omitnil,required,max=64"`
	GroupID *string `json:"groupId" validate:"omitnil,required,max=64"`
	Reason  *string `json:"reason" validate:"omitnil,max=1000"`
}

// transferChat hands the chat to an agent (offered to them) or to a group (queued there at its
// original arrival time).
func (s *Server) transferChat(c *fiber.Ctx) error {
	var in chatTransferInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if (in.AgentID == nil) == (in.GroupID == nil) {
		return errField("agentId", "transfer to an agent or to a group: send one of agentId, groupId")
	}
	row, err := s.chatForChange(c)
	if err != nil {
		return err
	}
	if err := s.mayChange(c, row); err != nil {
		return err
	}
	ctx := c.UserContext()
	arg := &workflows.TransferChatInput{By: principal(c).Person.ID, Reason: deref(in.Reason)}
	if in.AgentID != nil {
		if err := s.checkChatAgent(ctx, "agentId", *in.AgentID); err != nil {
			return err
		}
		arg.AgentID = *in.AgentID
	} else {
		g, err := s.chatGroupField(ctx, "groupId", *in.GroupID)
		if err != nil {
			return err
		}
		settings := chatGroupSettings(g)
		arg.GroupID, arg.Group = g.ID, &settings
	}
	var ch workflows.Chat
	if err := s.runChatUpdate(c, row.ID, workflows.UpdateChatTransfer, "", arg, &ch); err != nil {
		return err
	}
	return c.JSON(chatJSON(ch))
}

type chatInviteInput struct {
	AgentID *string `json:"agentId" validate:"required,max=64"`
}

func (s *Server) inviteToChat(c *fiber.Ctx) error {
	var in chatInviteInput
	if err := decode(c, &in); err != nil {
		return err
	}
	row, err := s.chatForChange(c)
	if err != nil {
		return err
	}
	if err := s.mayChange(c, row); err != nil {
		return err
	}
	ctx := c.UserContext()
	if err := s.checkChatAgent(ctx, "agentId", *in.AgentID); err != nil {
		return err
	}
	if row.State != workflows.ChatActive {
		return errConflict("chat is %s; agents are invited to active chats", row.State)
	}
	v, err := s.queryChat(ctx, row.ID)
	if err != nil {
		return chatUpdateError(row.ID, err)
	}
	if v.Chat.State != workflows.ChatActive {
		return errConflict("chat is %s; agents are invited to active chats", v.Chat.State)
	}
	if !contains(v.Chat.AgentIDs, *in.AgentID) {
		if err := s.inviteAgent(ctx, v.Chat, principal(c).Person.ID, *in.AgentID); err != nil {
			return err
		}
	}
	return c.JSON(chatJSON(v.Chat))
}

// inviteAgent records an invitation to the chat (once: a repeated one changes nothing) and
// tells the agent on their stream; they join when they accept.
func (s *Server) inviteAgent(ctx context.Context, ch workflows.Chat, by, agentID string) error {
	inv := &schema.ChatInvitation{ChatID: ch.ID, AgentID: agentID, InvitedBy: by, InvitedAt: time.Now().UTC().Truncate(time.Microsecond)}
	res, err := s.db.NewInsert().Model(inv).On("CONFLICT DO NOTHING").Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	data, _ := json.Marshal(map[string]any{"chatId": ch.ID, "state": ch.State, "seq": ch.MessageCount, "version": ch.Version, "agentId": by})
	if err := events.Publish(ctx, s.db, events.Event{AgentID: agentID, Type: "chat.invited", Data: data}); err != nil {
		s.log.Warn("chat invitation not told", "chat", ch.ID, "agent", agentID, "err", err)
	}
	return nil
}

// pgArray is a text[] parameter (an empty one included).
func pgArray(s []string) any {
	if s == nil {
		s = []string{}
	}
	return pgdialect.Array(s)
}

func (s *Server) leaveChat(c *fiber.Ctx) error {
	row, err := s.chatForChange(c)
	if err != nil {
		return err
	}
	var ch workflows.Chat
	if err := s.runChatUpdate(c, row.ID, workflows.UpdateChatLeave, "", &workflows.LeaveChatInput{AgentID: principal(c).Person.ID}, &ch); err != nil {
		return err
	}
	return c.JSON(chatJSON(ch))
}

func (s *Server) closeChat(c *fiber.Ctx) error {
	row, err := s.chatForChange(c)
	if err != nil {
		return err
	}
	if err := s.mayChange(c, row); err != nil {
		return err
	}
	var ch workflows.Chat
	arg := &workflows.CloseChatInput{By: principal(c).Person.ID, Reason: workflows.CloseByAgent}
	if err := s.runChatUpdate(c, row.ID, workflows.UpdateChatClose, "", arg, &ch); err != nil {
		return err
	}
	return c.JSON(chatJSON(ch))
}

// uploadChatAttachments is POST /chats/{id}/attachments: the messenger's upload pipeline and
// allow-list (receiveUploads), the uploads belonging to the chat, for the uploader's messages.
func (s *Server) uploadChatAttachments(c *fiber.Ctx) error {
	body := bodyReader(c) // bodyLimit drains what is left
	row, err := s.loadChatRow(c.UserContext(), c.Params("id"))
	if err != nil {
		return err
	}
	if row.State == workflows.ChatClosed {
		return errConflict("chat %s is closed", row.ID)
	}
	chatID := row.ID
	rows, err := s.receiveUploads(c, body, principal(c).Person.ID, func(a *schema.Attachment) { a.ChatID = &chatID })
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(attachmentsAnswer{Attachments: rows})
}

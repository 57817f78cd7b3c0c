package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/activity"

	"github.com/switchboardhq/switchboard/internal/channel"
	"github.com/switchboardhq/switchboard/internal/events"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// The ChatSession workflow's activities. PersistChat stores the chat (schema.SaveChat: the row
// keyed by chat id and upserted only by a newer Version, messages by chat id + Seq, events by
// the write and their place in it) and tells the agents concerned on their streams. ChatClosed
// makes the ticket of a closed customer chat. The offline flow is a stub that accepts
// everything, filled in later. Each is safe to run twice.

// PersistChat writes one change of a chat (workflows.ActivityPersistChat), then tells the
// agents concerned on their streams (GET /api/v1/stream): chat.offered to the agent it is
// offered to, chat.accepted (an agent took the chat or joined it on an invitation) and
// chat.closed to the agents in the chat, chat.message to the agents in the chat other than the
// author. (chat.invited, for an invitation not accepted yet, comes from the API.) Events are best
// effort (a retried write may tell twice; a failure to tell is logged, the write stands).
func (a *Activities) PersistChat(ctx context.Context, w workflows.ChatWrite) error {
	c := w.Chat
	row := schema.ChatRow{ID: c.ID, Kind: c.Kind, State: c.State, GroupID: c.GroupID, WidgetID: c.WidgetID, AgentID: c.AgentID,
		AgentIDs: c.AgentIDs, CustomerID: c.CustomerID, TicketID: c.TicketID, CloseReason: c.CloseReason, ArrivedAt: c.ArrivedAt,
		AcceptedAt: c.AcceptedAt, CreatedAt: c.CreatedAt, ClosedAt: c.ClosedAt, MessageCount: c.MessageCount, Version: c.Version,
		Channel: c.Channel, ChannelContact: c.ChannelContact}
	if row.Channel == "" {
		row.Channel = schema.ChannelWeb
	}
	if row.AgentIDs == nil {
		row.AgentIDs = []string{}
	}
	msgs := make([]schema.ChatMessageRow, 0, len(w.Messages))
	for _, m := range w.Messages {
		msgs = append(msgs, schema.ChatMessageRow{ChatID: c.ID, Seq: m.Seq, AuthorID: m.AuthorID, Role: m.Role, Body: m.Body,
			HTML: m.HTML, Attachments: m.Attachments, ClientMessageID: nonEmpty(m.ClientMessageID), CreatedAt: m.CreatedAt})
	}
	evs := make([]schema.ChatEventRow, 0, len(w.Events))
	for i, e := range w.Events {
		evs = append(evs, schema.ChatEventRow{ChatID: c.ID, Version: c.Version, N: i, Type: e.Type, AgentID: nonEmpty(e.AgentID),
			GroupID: nonEmpty(e.GroupID), ByID: nonEmpty(e.By), Reason: nonEmpty(e.Reason), At: e.At})
	}
	if err := schema.SaveChat(ctx, a.DB, row, msgs, evs); err != nil {
		return err
	}
	a.sendToChannel(ctx, w)
	for _, e := range chatAgentEvents(w) {
		if err := events.Publish(ctx, a.DB, e); err != nil && activity.IsActivity(ctx) {
			activity.GetLogger(ctx).Warn("chat event dropped", "chat", c.ID, "agent", e.AgentID, "type", e.Type, "err", err)
		}
	}
	return nil
}

// sendToChannel sends the agent side's new messages of a WhatsApp chat (agents' and the
// system's: the offline prompt, the autoresponder, the inactivity warning) to its contact,
// each once (schema.SendOnce). A failed send is recorded and logged; the chat goes on.
func (a *Activities) sendToChannel(ctx context.Context, w workflows.ChatWrite) {
	c := w.Chat
	if a.WhatsApp == nil || c.Channel != schema.ChannelWhatsApp || c.ChannelContact == nil {
		return
	}
	for _, m := range w.Messages {
		if m.Role == workflows.ChatRoleCustomer {
			continue
		}
		key := fmt.Sprintf("chat/%s/%d", c.ID, m.Seq)
		err := schema.SendOnce(ctx, a.DB, key, *c.ChannelContact, m.Body, "", func() (string, error) {
			return a.WhatsApp.Send(ctx, channel.Outbound{To: *c.ChannelContact, Body: m.Body})
		})
		if err != nil && activity.IsActivity(ctx) {
			activity.GetLogger(ctx).Warn("WhatsApp message not sent", "chat", c.ID, "seq", m.Seq, "err", err)
		}
	}
}

// ChatAgentEvent is the data of a chat event on an agent's stream: small, the client reads the
// chat (GET /api/v1/chats/{id}) or its messages after Seq when it needs more.
type ChatAgentEvent struct {
	ChatID  string `json:"chatId"`
	State   string `json:"state"`
	Seq     int64  `json:"seq"`     // the chat's last message number (the message's, for chat.message)
	Version int64  `json:"version"` // the chat's version after the change
	AgentID string `json:"agentId,omitempty"`
}

// Chat event types on an agent's stream.
const (
	ChatEventOffered  = "chat.offered"
	ChatEventAccepted = "chat.accepted"
	ChatEventMessage  = "chat.message"
	ChatEventClosed   = "chat.closed"
)

// chatAgentEvents are the per-agent events a chat write makes.
func chatAgentEvents(w workflows.ChatWrite) []events.Event {
	c := w.Chat
	var out []events.Event
	add := func(agent, typ string, seq int64, about string) {
		if agent == "" {
			return
		}
		data, _ := json.Marshal(ChatAgentEvent{ChatID: c.ID, State: c.State, Seq: seq, Version: c.Version, AgentID: about})
		out = append(out, events.Event{AgentID: agent, Type: typ, Data: data})
	}
	for _, e := range w.Events {
		switch e.Type {
		case workflows.ChatEventOffered:
			add(e.AgentID, ChatEventOffered, c.MessageCount, e.AgentID)
		case workflows.ChatEventAccepted, workflows.ChatEventInvited:
			for _, a := range c.AgentIDs {
				add(a, ChatEventAccepted, c.MessageCount, e.AgentID)
			}
		case workflows.ChatEventClosed:
			for _, a := range c.AgentIDs {
				add(a, ChatEventClosed, c.MessageCount, "")
			}
		}
	}
	for _, m := range w.Messages {
		for _, a := range c.AgentIDs {
			if a != m.AuthorID {
				add(a, ChatEventMessage, m.Seq, "")
			}
		}
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// HandOffChatOffline hands a chat that waited longer than its group's queueWait to the offline
// flow (workflows.ActivityHandOffChatOffline). Stub: no-op until the offline-flow issue.
func (a *Activities) HandOffChatOffline(ctx context.Context, h workflows.ChatHandOff) error {
	return nil
}

// OriginChat is the origin of a ticket made from a chat, and of its transcript's actions.
const OriginChat = 5

// ChatClosed receives a closed chat with its transcript (workflows.ActivityChatClosed). A
// customer chat with at least one message from a person becomes a ticket with origin 5 through
// the Ticket workflow (so triggers see a new ticket), the transcript as its public actions in
// order (authors the original ones), with the chat's group, widget, waiting and talk times; a
// chat started from a ticket joins it instead (the transcript appended as actions). Internal
// chats and empty ones make nothing. Safe to run twice: the ticket's number is reserved on the
// chat's row (chats.ticket_id), the ticket keyed by the chat (tickets.chat_id), each appended
// action by an update id of the chat and the message's number.
func (a *Activities) ChatClosed(ctx context.Context, in workflows.ChatClosedInput) error {
	c := in.Chat
	if c.Kind != workflows.ChatKindCustomer || !slices.ContainsFunc(in.Messages, func(m workflows.ChatMessage) bool {
		return m.Role != workflows.ChatRoleSystem
	}) {
		return nil
	}
	if c.TicketID != nil {
		return a.joinChatTicket(ctx, in)
	}
	return a.openChatTicket(ctx, in)
}

// chatActor is who wrote a message, as a ticket action's actor.
func chatActor(m workflows.ChatMessage) workflows.Actor {
	switch m.Role {
	case workflows.ChatRoleCustomer:
		return workflows.Actor{ID: m.AuthorID, Role: schema.RoleCustomer}
	case workflows.ChatRoleAgent:
		return workflows.Actor{ID: m.AuthorID, Role: schema.RoleAgent}
	}
	return workflows.SystemActor
}

// joinChatTicket appends the transcript to the ticket the chat was started from, then names the
// chat in the ticket's chat fields (a ticket joined by several chats shows the latest). A ticket
// that takes no more changes (closed meanwhile) keeps what it has; the chat keeps its transcript.
func (a *Activities) joinChatTicket(ctx context.Context, in workflows.ChatClosedInput) error {
	c := in.Chat
	err := a.appendTranscript(ctx, in)
	if err == nil {
		waiting, talk := chatTimes(in)
		fields := workflows.SetFieldsInput{Actor: workflows.SystemActor,
			Chat: &workflows.TicketChat{ID: c.ID, Group: nonEmpty(c.GroupID), Widget: c.WidgetID, WaitingTime: waiting, TalkTime: talk}}
		err = a.updateTicket(ctx, *c.TicketID, workflows.UpdateSetFields, "chat/"+c.ID+"/fields", fields)
	}
	if isFinal(err) {
		if activity.IsActivity(ctx) {
			activity.GetLogger(ctx).Warn("chat transcript not joined to its ticket", "chat", c.ID, "ticket", *c.TicketID, "err", err)
		}
		return nil
	}
	return err
}

func (a *Activities) appendTranscript(ctx context.Context, in workflows.ChatClosedInput) error {
	c := in.Chat
	for _, m := range in.Messages {
		act := workflows.TicketActionInput{TicketID: *c.TicketID, UpdateID: fmt.Sprintf("chat/%s/transcript/%d", c.ID, m.Seq),
			Action: workflows.AddActionInput{Actor: chatActor(m), Type: "public", Body: m.Body, Origin: OriginChat,
				Kind: schema.KindText, HTML: m.HTML, Attachments: m.Attachments}}
		if err := a.AddTicketAction(ctx, act); err != nil {
			return err
		}
	}
	return nil
}

func isFinal(err error) bool {
	var app interface{ NonRetryable() bool }
	return errors.As(err, &app) && app.NonRetryable()
}

// openChatTicket makes the ticket of a closed chat.
func (a *Activities) openChatTicket(ctx context.Context, in workflows.ChatClosedInput) error {
	c := in.Chat
	var id int64
	err := a.DB.NewRaw("UPDATE chats SET ticket_id = COALESCE(ticket_id, nextval('ticket_id_seq')) WHERE id = ? RETURNING ticket_id",
		c.ID).Scan(ctx, &id)
	if err != nil {
		return fmt.Errorf("reserving the ticket of chat %s: %w", c.ID, err)
	}
	exists, err := a.DB.NewSelect().Model((*schema.Ticket)(nil)).Where("id = ? OR chat_id = ?", id, c.ID).Exists(ctx)
	if err != nil || exists {
		return err // made already by an earlier attempt
	}
	gen, err := schema.ConfigGeneration(ctx, a.DB)
	if err != nil {
		return err
	}
	st, wr := workflows.NewTicket(chatTicket(id, in))
	t := &st.Ticket
	t.ChatID, t.ChatGroup, t.ChatWidget = &c.ID, nonEmpty(c.GroupID), c.WidgetID
	t.ChatWaitingTime, t.ChatTalkTime = chatTimes(in)
	addChatActions(&st, &wr, in.Messages)
	_, err = a.startChatTicket(ctx, st, wr, gen)
	return err
}

// addChatActions makes the messages the new ticket's public actions, in order, with their
// authors and times.
func addChatActions(st *workflows.TicketState, wr *schema.TicketWrite, msgs []workflows.ChatMessage) {
	t := &st.Ticket
	for _, m := range msgs {
		t.ActionCount++
		at := m.CreatedAt.UTC().Truncate(time.Microsecond)
		wr.Actions = append(wr.Actions, schema.Action{TicketID: t.ID, ID: t.ActionCount, Type: "public", Body: m.Body,
			AuthorID: chatActor(m).ID, Origin: OriginChat, CreatedAt: at, Kind: schema.KindText, HTML: m.HTML,
			Attachments: m.Attachments})
		st.LastPublicActionAt = &at
	}
}

// startChatTicket starts the Ticket workflow of a ticket a chat made, with its first write, and
// stores the row. started is false when an earlier attempt started it (its workflow writes the
// row).
func (a *Activities) startChatTicket(ctx context.Context, st workflows.TicketState, wr schema.TicketWrite, gen int64) (bool, error) {
	wr.Ticket = st.Ticket
	autoClose := a.AutoCloseAfter
	if autoClose <= 0 {
		autoClose = workflows.DefaultAutoCloseAfter
	}
	run, err := workflows.StartTicket(ctx, a.Temporal, a.taskQueue(ctx), workflows.TicketInput{State: st, Pending: &wr,
		AutoCloseAfter: autoClose, Creator: workflows.SystemActor, ConfigGeneration: gen})
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	wr.Ticket.RunID = run.GetRunID()
	_, err = schema.SaveTicket(ctx, a.DB, wr)
	return err == nil, err
}

// chatTicket is the new ticket of a closed chat: the customer's, owned by the last agent in
// charge (in attendance) or by nobody (new), created when the chat closed.
func chatTicket(id int64, in workflows.ChatClosedInput) workflows.CreateTicket {
	c := in.Chat
	created := c.CreatedAt
	if c.ClosedAt != nil {
		created = *c.ClosedAt
	}
	ct := workflows.CreateTicket{ID: id, Type: "public", Subject: chatSubject(in.Messages), Status: schema.BaseNew,
		BaseStatus: schema.BaseNew, Origin: OriginChat, CreatedBy: workflows.SystemActor.ID,
		CreatedAt: created.UTC().Truncate(time.Microsecond), Tags: []string{"chat"}}
	if c.CustomerID != nil {
		ct.ClientIDs, ct.CreatedBy = []string{*c.CustomerID}, *c.CustomerID
	}
	if owner := lastInCharge(in); owner != "" {
		ct.OwnerID, ct.Status, ct.BaseStatus = &owner, schema.BaseInAttendance, schema.BaseInAttendance
	}
	return ct
}

// lastInCharge is the agent who last accepted the chat (the one in charge at the close, or the
// last one before the chat went back to the queue).
func lastInCharge(in workflows.ChatClosedInput) string {
	if in.Chat.AgentID != nil {
		return *in.Chat.AgentID
	}
	for i := len(in.Events) - 1; i >= 0; i-- {
		if in.Events[i].Type == workflows.ChatEventAccepted {
			return in.Events[i].AgentID
		}
	}
	return ""
}

// chatSubject is the first words of the visitor's first message.
func chatSubject(msgs []workflows.ChatMessage) string {
	for _, m := range msgs {
		if m.Role == workflows.ChatRoleCustomer && strings.TrimSpace(m.Body) != "" {
			s := []rune(strings.Join(strings.Fields(m.Body), " "))
			if len(s) > 80 {
				s = append(s[:77], []rune("...")...)
			}
			return "Chat: " + string(s)
		}
	}
	return "Chat"
}

// chatTimes are the seconds the chat waited in the queue (from its creation to the first
// accept) and was active (from the first accept to the close); nil when it never was active.
func chatTimes(in workflows.ChatClosedInput) (waiting, talk *int64) {
	c := in.Chat
	for _, e := range in.Events {
		if e.Type != workflows.ChatEventAccepted {
			continue
		}
		w := int64(e.At.Sub(c.CreatedAt) / time.Second)
		waiting = &w
		if c.ClosedAt != nil {
			t := int64(c.ClosedAt.Sub(e.At) / time.Second)
			talk = &t
		}
		return waiting, talk
	}
	zero := int64(0)
	if c.ClosedAt != nil {
		w := int64(c.ClosedAt.Sub(c.CreatedAt) / time.Second)
		return &w, &zero
	}
	return nil, nil
}

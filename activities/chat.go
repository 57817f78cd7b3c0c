package activities

import (
	"context"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// The ChatSession workflow's activities. PersistChat stores the chat (schema.SaveChat: the row
// keyed by chat id and upserted only by a newer Version, messages by chat id + Seq, events by
// the write and their place in it). The distributor, the offline flow and the ticket made from
// a closed chat's transcript are stubs that accept everything, filled in later. Each is safe
// to run twice.

// PersistChat writes one change of a chat (workflows.ActivityPersistChat).
func (a *Activities) PersistChat(ctx context.Context, w workflows.ChatWrite) error {
	c := w.Chat
	row := schema.ChatRow{ID: c.ID, Kind: c.Kind, State: c.State, GroupID: c.GroupID, WidgetID: c.WidgetID, AgentID: c.AgentID,
		AgentIDs: c.AgentIDs, CustomerID: c.CustomerID, TicketID: c.TicketID, CloseReason: c.CloseReason, ArrivedAt: c.ArrivedAt,
		AcceptedAt: c.AcceptedAt, CreatedAt: c.CreatedAt, ClosedAt: c.ClosedAt, MessageCount: c.MessageCount, Version: c.Version}
	if row.AgentIDs == nil {
		row.AgentIDs = []string{}
	}
	msgs := make([]schema.ChatMessageRow, 0, len(w.Messages))
	for _, m := range w.Messages {
		msgs = append(msgs, schema.ChatMessageRow{ChatID: c.ID, Seq: m.Seq, AuthorID: m.AuthorID, Role: m.Role, Body: m.Body,
			HTML: m.HTML, Attachments: m.Attachments, ClientMessageID: nonEmpty(m.ClientMessageID), CreatedAt: m.CreatedAt})
	}
	events := make([]schema.ChatEventRow, 0, len(w.Events))
	for i, e := range w.Events {
		events = append(events, schema.ChatEventRow{ChatID: c.ID, Version: c.Version, N: i, Type: e.Type, AgentID: nonEmpty(e.AgentID),
			GroupID: nonEmpty(e.GroupID), ByID: nonEmpty(e.By), Reason: nonEmpty(e.Reason), At: e.At})
	}
	return schema.SaveChat(ctx, a.DB, row, msgs, events)
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

// ChatClosed receives a closed chat with its transcript (workflows.ActivityChatClosed): the
// ticket with origin 5 (or the action on the ticket it started from) is made here later.
// Stub: no-op.
func (a *Activities) ChatClosed(ctx context.Context, c workflows.ChatClosedInput) error { return nil }

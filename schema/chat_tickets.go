package schema

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/events"
)

// Chat channels: where a chat's customer writes from.
const (
	ChannelWeb      = "web"      // the site's widget (/public/chat/v1)
	ChannelWhatsApp = "whatsapp" // WhatsApp through Twilio
)

// WhatsAppWindow is WhatsApp's customer-service window: free text may be sent to a contact for
// this long after their last inbound message; after it, only a message template.
const WhatsAppWindow = 24 * time.Hour

// ChatTicket is a ticket of the offline flow as its queues need it (chat_tickets; see the
// migration 20261202000011 for each column's meaning).
type ChatTicket struct {
	bun.BaseModel `bun:"table:chat_tickets,alias:ct"`

	TicketID       int64      `bun:"ticket_id,pk"`
	ChatID         string     `bun:"chat_id"`
	CustomerID     *string    `bun:"customer_id"`
	GroupID        string     `bun:"group_id"`
	DepartmentID   *string    `bun:"department_id"`
	Channel        string     `bun:"channel"`
	ChannelContact *string    `bun:"channel_contact"`
	CreatedAt      time.Time  `bun:"created_at"`
	IntakeClosedAt *time.Time `bun:"intake_closed_at"`
	AcceptedBy     *string    `bun:"accepted_by"`
	AcceptedAt     *time.Time `bun:"accepted_at"`
	ClosedAt       *time.Time `bun:"closed_at"`
	ClosedBy       *string    `bun:"closed_by"`
	CloseReason    *string    `bun:"close_reason"`
	ClosedChatID   *string    `bun:"closed_chat_id"`
	ArchivedAt     *time.Time `bun:"archived_at"`
}

// ChatTicketChat is a chat whose messages went to a chat ticket.
type ChatTicketChat struct {
	bun.BaseModel `bun:"table:chat_ticket_chats"`

	ChatID   string    `bun:"chat_id,pk"`
	TicketID int64     `bun:"ticket_id"`
	AddedAt  time.Time `bun:"added_at"`
}

// ChannelContact is a customer's address on a messaging channel.
type ChannelContact struct {
	bun.BaseModel `bun:"table:channel_contacts"`

	Channel       string     `bun:"channel,pk"`
	Contact       string     `bun:"contact,pk"`
	CustomerID    string     `bun:"customer_id"`
	LastInboundAt *time.Time `bun:"last_inbound_at"`
}

// ChannelWindowEndsAt is when the contact's WhatsApp window ends (their last inbound message +
// WhatsAppWindow); nil for other channels, an unknown contact or one who never wrote.
func ChannelWindowEndsAt(ctx context.Context, db bun.IDB, channel string, contact *string) (*time.Time, error) {
	if channel != ChannelWhatsApp || contact == nil {
		return nil, nil
	}
	var cc ChannelContact
	err := db.NewSelect().Model(&cc).Where("channel = ? AND contact = ?", channel, *contact).Scan(ctx)
	if err != nil {
		if isNoRowsErr(err) {
			return nil, nil
		}
		return nil, err
	}
	if cc.LastInboundAt == nil {
		return nil, nil
	}
	end := cc.LastInboundAt.Add(WhatsAppWindow).UTC()
	return &end, nil
}

// SeesChatTicket is the SQL condition (on chat_tickets as ct, one argument: the agent's
// departments) under which a staff member who is not an admin sees a chat ticket in the
// unassigned and closed queues: a ticket of no department is everyone's, one of a department
// is seen by that department's agents.
const SeesChatTicket = "(ct.department_id IS NULL OR ct.department_id = ANY(?::text[]))"

// ChatTicketWatchers are the active staff who see a chat ticket of the department (nil: of
// none): they get its live queue events.
func ChatTicketWatchers(ctx context.Context, db bun.IDB, department *string) ([]string, error) {
	var ids []string
	q := db.NewSelect().Model((*Person)(nil)).Column("id").Where("is_active AND role IN (?)", bun.In([]string{RoleAgent, RoleAdmin}))
	if department != nil {
		q = q.Where("role = ? OR ? = ANY(department_ids)", RoleAdmin, *department)
	}
	err := q.Scan(ctx, &ids)
	return ids, err
}

// Live queue events on the agents' streams (GET /api/v1/stream): a chat ticket joined the
// unassigned queue, was accepted (it leaves the unassigned queue), or closed.
const (
	ChatTicketCreated  = "chat_ticket.created"
	ChatTicketAccepted = "chat_ticket.accepted"
	ChatTicketClosed   = "chat_ticket.closed"
)

// ChatTicketEvent is such an event's data: small, the client reads the queue when it needs more.
type ChatTicketEvent struct {
	TicketID   int64   `json:"ticketId"`
	AcceptedBy *string `json:"acceptedBy,omitempty"`
	ClosedBy   *string `json:"closedBy,omitempty"`
}

// PublishChatTicket tells every watcher of the chat ticket (ChatTicketWatchers) of a change.
// Best effort, as every stream event: the queue itself is the truth.
func PublishChatTicket(ctx context.Context, db *bun.DB, typ string, ct ChatTicket) error {
	ids, err := ChatTicketWatchers(ctx, db, ct.DepartmentID)
	if err != nil {
		return err
	}
	data, _ := json.Marshal(ChatTicketEvent{TicketID: ct.TicketID, AcceptedBy: ct.AcceptedBy, ClosedBy: ct.ClosedBy})
	for _, id := range ids {
		if err := events.Publish(ctx, db, events.Event{AgentID: id, Type: typ, Data: data}); err != nil {
			return err
		}
	}
	return nil
}

// SendOnce sends one message to a WhatsApp contact through send, at most once per key: the
// outbox row is claimed first, and the provider's id (or the error) recorded after.
func SendOnce(ctx context.Context, db bun.IDB, key, contact, body, templateID string, send func() (string, error)) error {
	res, err := db.NewRaw(`INSERT INTO whatsapp_outbox (key, contact, body, template_id) VALUES (?, ?, ?, NULLIF(?, ''))
		ON CONFLICT (key) DO NOTHING`, key, contact, body, templateID).Exec(ctx)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil // sent (or tried) already
	}
	sid, sendErr := send()
	if sendErr != nil {
		_, err = db.NewRaw("UPDATE whatsapp_outbox SET error = ? WHERE key = ?", sendErr.Error(), key).Exec(ctx)
		return errors.Join(sendErr, err)
	}
	_, err = db.NewRaw("UPDATE whatsapp_outbox SET provider_sid = ?, sent_at = now() WHERE key = ?", sid, key).Exec(ctx)
	return err
}

// MessageTemplate is a WhatsApp message template (message_templates).
type MessageTemplate struct {
	bun.BaseModel `bun:"table:message_templates" json:"-"`

	ID         string    `bun:"id,pk" json:"id"`
	Name       string    `bun:"name" json:"name"`
	Language   string    `bun:"language" json:"language"`
	Body       string    `bun:"body" json:"body"`
	ContentSID string    `bun:"content_sid" json:"contentSid"`
	Version    int       `bun:"version" json:"version"`
	CreatedAt  time.Time `bun:"created_at" json:"createdAt"`
	UpdatedAt  time.Time `bun:"updated_at" json:"updatedAt"`
}

package schema

import (
	"context"
	"time"

	"github.com/uptrace/bun"
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
	bun.BaseModel `bun:"table:chat_tickets"`

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

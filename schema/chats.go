package schema

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/events"
)

// ChatRow is a chat session as its workflow last persisted it.
type ChatRow struct {
	bun.BaseModel `bun:"table:chats"`

	ID           string     `bun:"id,pk"`
	Kind         string     `bun:"kind"`
	State        string     `bun:"state"`
	GroupID      string     `bun:"group_id"`
	WidgetID     *string    `bun:"widget_id"`
	AgentID      *string    `bun:"agent_id"`
	AgentIDs     []string   `bun:"agent_ids,array"`
	CustomerID   *string    `bun:"customer_id"`
	TicketID     *int64     `bun:"ticket_id"`
	CloseReason  *string    `bun:"close_reason"`
	ArrivedAt    time.Time  `bun:"arrived_at"`
	AcceptedAt   *time.Time `bun:"accepted_at"`
	CreatedAt    time.Time  `bun:"created_at"`
	ClosedAt     *time.Time `bun:"closed_at"`
	MessageCount int64      `bun:"message_count"`
	Version      int64      `bun:"version"`
	// Channel is where the customer writes from (ChannelWeb, ChannelWhatsApp); ChannelContact
	// their address there (a WhatsApp number).
	Channel        string  `bun:"channel"`
	ChannelContact *string `bun:"channel_contact"`
}

// ChatMessageRow is one message of a chat's transcript.
type ChatMessageRow struct {
	bun.BaseModel `bun:"table:chat_messages"`

	ChatID          string          `bun:"chat_id,pk"`
	Seq             int64           `bun:"seq,pk"`
	AuthorID        string          `bun:"author_id"`
	Role            string          `bun:"role"`
	Body            string          `bun:"body"`
	HTML            string          `bun:"html"`
	Attachments     []AttachmentRef `bun:"attachments,type:jsonb,nullzero,default:'[]'"`
	ClientMessageID *string         `bun:"client_message_id"`
	CreatedAt       time.Time       `bun:"created_at"`
}

// ChatEventRow is one fact of a chat's life.
type ChatEventRow struct {
	bun.BaseModel `bun:"table:chat_events"`

	ChatID  string    `bun:"chat_id,pk"`
	Version int64     `bun:"version,pk"`
	N       int       `bun:"n,pk"`
	Type    string    `bun:"type"`
	AgentID *string   `bun:"agent_id"`
	GroupID *string   `bun:"group_id"`
	ByID    *string   `bun:"by_id"`
	Reason  *string   `bun:"reason"`
	At      time.Time `bun:"at"`
}

var chatColumns = []string{"kind", "state", "group_id", "widget_id", "agent_id", "agent_ids", "customer_id", "ticket_id",
	"close_reason", "arrived_at", "accepted_at", "created_at", "closed_at", "message_count", "version"}

// SaveChat writes one change of a chat in one transaction: the row only when its version is
// newer than the stored one, and the messages and events the change added, each once. Safe to
// run twice, and a late write of an older version changes nothing.
func SaveChat(ctx context.Context, db bun.IDB, c ChatRow, msgs []ChatMessageRow, evs []ChatEventRow) error {
	return db.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewInsert().Model(&c).On("CONFLICT (id) DO UPDATE")
		for _, col := range chatColumns {
			if col == "ticket_id" { // the ticket a closed chat became is recorded by ChatClosed
				q = q.Set("ticket_id = COALESCE(EXCLUDED.ticket_id, chat_row.ticket_id)")
				continue
			}
			q = q.Set(col + " = EXCLUDED." + col)
		}
		// Nothing is scanned back into the models: they are the workflow's memory (SaveTicket).
		if _, err := q.Where("chat_row.version < EXCLUDED.version").Returning("NULL").Exec(ctx); err != nil {
			return err
		}
		if len(msgs) > 0 {
			if _, err := tx.NewInsert().Model(&msgs).On("CONFLICT DO NOTHING").Returning("NULL").Exec(ctx); err != nil {
				return err
			}
			for _, m := range msgs { // the files a stored message carries are no longer unsent uploads
				ids := make([]string, len(m.Attachments))
				for i, a := range m.Attachments {
					ids[i] = a.ID
				}
				if err := ReferenceChatAttachments(ctx, tx, c.ID, m.Seq, ids); err != nil {
					return err
				}
			}
		}
		if len(evs) > 0 {
			if _, err := tx.NewInsert().Model(&evs).On("CONFLICT DO NOTHING").Returning("NULL").Exec(ctx); err != nil {
				return err
			}
		}
		// Streams of the chat (on every API instance) read what is new; sent at commit.
		_, err := tx.ExecContext(ctx, "SELECT pg_notify(?, ?::text)", events.ChatChannel, c.ID)
		return err
	})
}

// ChatInvitation is an agent invited to a chat who has not accepted yet (or has: accepting
// joins them through the workflow, and the row stays).
type ChatInvitation struct {
	bun.BaseModel `bun:"table:chat_invitations"`

	ChatID    string    `bun:"chat_id,pk"`
	AgentID   string    `bun:"agent_id,pk"`
	InvitedBy string    `bun:"invited_by"`
	InvitedAt time.Time `bun:"invited_at"`
}

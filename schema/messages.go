package schema

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/events"
	"github.com/switchboardhq/switchboard/internal/markup"
)

// afterTicketWrite does, in the write's transaction, what follows from it: video sessions end
// with their ticket, and the ticket's streams are woken when its conversation grew.
func afterTicketWrite(ctx context.Context, tx bun.Tx, w TicketWrite) error {
	if w.Ticket.BaseStatus == BaseClosed || w.Ticket.BaseStatus == BaseCanceled {
		if _, err := tx.NewUpdate().Model((*VideoSession)(nil)).Set("status = ?", VideoClosed).Set("closed_at = now()").
			Where("ticket_id = ? AND status = ?", w.Ticket.ID, VideoOpen).Exec(ctx); err != nil {
			return err
		}
	}
	if err := referenceAttachments(ctx, tx, w); err != nil {
		return err
	}
	if len(w.Videos) > 0 {
		// With the message that announces it: no session its customer was not told of, and no
		// link sent that the ticket does not list.
		rows := make([]VideoSession, len(w.Videos))
		for i, v := range w.Videos {
			rows[i] = v.row(w.Ticket.ID)
		}
		if _, err := tx.NewInsert().Model(&rows).On("CONFLICT (id) DO NOTHING").Returning("NULL").Exec(ctx); err != nil {
			return fmt.Errorf("save ticket %d video sessions: %w", w.Ticket.ID, err)
		}
	}
	if len(w.Actions)+len(w.Statuses)+len(w.Owners) == 0 {
		return nil
	}
	// The ticket's streams, on every API instance, read what is new from the tables.
	return NotifyTicket(ctx, tx, w.Ticket.ID)
}

// Message is one entry of a ticket's conversation: a message (an action) or an update (a
// status or owner change, public facts only). Seq is its place in the conversation as its
// reader sees it, from 1; a customer's numbering counts only what customers see, so it reveals
// nothing of internal notes.
type Message struct {
	Seq         int64           `json:"seq"`
	Kind        string          `json:"kind"`
	ActionID    *int            `json:"actionId,omitempty"`
	Type        string          `json:"type"` // public or internal
	Body        string          `json:"body,omitempty"`
	HTML        string          `json:"html,omitempty"`
	AuthorID    string          `json:"authorId,omitempty"`
	Origin      int             `json:"origin,omitempty"`
	Attachments []AttachmentRef `json:"attachments,omitempty"`
	Update      *MessageUpdate  `json:"update,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
}

// MessageUpdate is what an update entry says.
type MessageUpdate struct {
	Field      string  `json:"field"` // status or owner
	Status     string  `json:"status,omitempty"`
	BaseStatus string  `json:"baseStatus,omitempty"`
	OwnerID    *string `json:"ownerId,omitempty"`
	OwnerName  string  `json:"ownerName,omitempty"`
}

// messageRow is one row of the conversation query.
type messageRow struct {
	Pos         int64           `bun:"pos"`
	Src         string          `bun:"src"` // action, status or owner
	ActionID    *int            `bun:"action_id"`
	Type        string          `bun:"type"`
	Kind        string          `bun:"kind"`
	Body        string          `bun:"body"`
	HTML        string          `bun:"html"`
	AuthorID    string          `bun:"author_id"`
	Origin      int             `bun:"origin"`
	Attachments json.RawMessage `bun:"attachments"`
	Status      string          `bun:"status"`
	BaseStatus  string          `bun:"base_status"`
	OwnerID     *string         `bun:"owner_id"`
	OwnerName   *string         `bun:"owner_name"`
	CreatedAt   time.Time       `bun:"created_at"`
}

// Messages reads a ticket's conversation after place `after`, at most limit entries, in order.
// With publicOnly (a customer's view) internal notes are left out and the numbering skips them.
// The status and owner the ticket opened with are not updates and not listed.
//
// The order is the write that added an entry, then messages before the status and owner
// changes they caused, then their own numbers: fixed once written, so a place means the same
// entry on every read and a stream resumed from it misses and repeats nothing.
func Messages(ctx context.Context, db bun.IDB, ticketID int64, publicOnly bool, after int64, limit int) ([]Message, error) {
	return messages(ctx, db, ticketID, publicOnly, after, limit, 0)
}

// MessageOfAction is the message an action is, as Messages lists it (sql.ErrNoRows if there
// is none the reader may see).
func MessageOfAction(ctx context.Context, db bun.IDB, ticketID int64, publicOnly bool, actionID int) (*Message, error) {
	ms, err := messages(ctx, db, ticketID, publicOnly, 0, 1, actionID)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return nil, sql.ErrNoRows
	}
	return &ms[0], nil
}

// messages is Messages; a non-zero actionID keeps only that action's entry.
func messages(ctx context.Context, db bun.IDB, ticketID int64, publicOnly bool, after int64, limit, actionID int) ([]Message, error) {
	var rows []messageRow
	err := db.NewRaw(`
		SELECT pos, src, action_id, type, kind, body, html, author_id, origin, attachments, status, base_status,
			owner_id, owner_name, created_at FROM (
			SELECT row_number() OVER (ORDER BY write_seq, rank, n) AS pos, entries.* FROM (
				SELECT 'action' AS src, 0 AS rank, a.id AS n, a.write_seq, a.id AS action_id, a.type, a.kind, a.body, a.html,
					a.author_id, a.origin, a.attachments, '' AS status, '' AS base_status, NULL::text AS owner_id,
					NULL::text AS owner_name, a.created_at
				FROM ticket_actions a WHERE a.ticket_id = ?0 AND (NOT ?1 OR a.type = 'public')
				UNION ALL
				SELECT 'status', 1, s.seq, s.write_seq, NULL, 'public', 'update', '', '', s.changed_by, 0, '[]'::jsonb,
					s.status, s.base_status, NULL, NULL, s.started_at
				FROM ticket_status_history s WHERE s.ticket_id = ?0 AND NOT (s.write_seq = 1 OR (s.write_seq = 0 AND s.seq = 1))
				UNION ALL
				SELECT 'owner', 2, o.seq, o.write_seq, NULL, 'public', 'update', '', '', o.changed_by, 0, '[]'::jsonb,
					'', '', o.owner_id, p.name, o.started_at
				FROM ticket_owner_history o LEFT JOIN persons p ON p.id = o.owner_id
				WHERE o.ticket_id = ?0 AND NOT (o.write_seq = 1 OR (o.write_seq = 0 AND o.seq = 1))
			) entries
		) numbered WHERE pos > ?2 AND (?4 = 0 OR (src = 'action' AND action_id = ?4)) ORDER BY pos LIMIT ?3`,
		ticketID, publicOnly, after, limit, actionID).Scan(ctx, &rows)
	if err != nil {
		return nil, err
	}
	out := make([]Message, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.message(publicOnly))
	}
	return out, nil
}

func (r messageRow) message(publicOnly bool) Message {
	m := Message{Seq: r.Pos, Kind: r.Kind, Type: r.Type, CreatedAt: r.CreatedAt}
	switch r.Src {
	case "action":
		m.ActionID, m.Body, m.HTML, m.AuthorID, m.Origin = r.ActionID, r.Body, r.HTML, r.AuthorID, r.Origin
		if m.HTML == "" { // written before messages were rendered at send
			m.HTML = markup.Render(m.Body)
		}
		if publicOnly {
			m.ActionID = nil // its number counts internal notes
		}
		_ = json.Unmarshal(r.Attachments, &m.Attachments)
	case "status":
		m.Update = &MessageUpdate{Field: "status", Status: r.Status, BaseStatus: r.BaseStatus}
	case "owner":
		m.Update = &MessageUpdate{Field: "owner", OwnerID: r.OwnerID}
		if r.OwnerName != nil {
			m.Update.OwnerName = *r.OwnerName
		}
	}
	if !publicOnly && r.Src != "action" {
		m.AuthorID = r.AuthorID // who changed it is the agents' to know
	}
	return m
}

// Video session states.
const (
	VideoOpen   = "Open"
	VideoClosed = "Closed"
)

// VideoSession is a video call linked to a ticket.
type VideoSession struct {
	bun.BaseModel `bun:"table:video_sessions" json:"-"`

	ID        string     `bun:"id,pk" json:"id"`
	TicketID  int64      `bun:"ticket_id" json:"ticketId"`
	Room      string     `bun:"room" json:"-"`
	URL       string     `bun:"url" json:"url"`
	Status    string     `bun:"status" json:"status"`
	CreatedBy string     `bun:"created_by" json:"createdBy"`
	ActionID  *int       `bun:"action_id" json:"actionId"`
	CreatedAt time.Time  `bun:"created_at,nullzero,default:current_timestamp" json:"createdAt"`
	ClosedAt  *time.Time `bun:"closed_at" json:"closedAt"`
}

// VideoOpened is a video session as a ticket write carries it through the workflow, its room
// included (VideoSession keeps the room out of API answers, and so out of JSON).
type VideoOpened struct {
	ID, Room, URL, CreatedBy string
	ActionID                 int
	CreatedAt                time.Time
}

// row is the session's table row, for ticket ticketID.
func (v VideoOpened) row(ticketID int64) VideoSession {
	id := v.ActionID
	return VideoSession{ID: v.ID, TicketID: ticketID, Room: v.Room, URL: v.URL, Status: VideoOpen,
		CreatedBy: v.CreatedBy, ActionID: &id, CreatedAt: v.CreatedAt}
}

// referenceAttachments marks the files the write's messages carry as theirs, so they are kept
// (their expiry finds them referenced) and shown with the messages' visibility.
func referenceAttachments(ctx context.Context, tx bun.Tx, w TicketWrite) error {
	for _, a := range w.Actions {
		if len(a.Attachments) == 0 {
			continue
		}
		ids := make([]string, len(a.Attachments))
		for i, f := range a.Attachments {
			ids[i] = f.ID
		}
		if err := ReferenceAttachments(ctx, tx, w.Ticket.ID, a.ID, ids); err != nil {
			return err
		}
	}
	return nil
}

// NotifyTicket wakes the ticket's streams on every API instance (an upload is ready).
func NotifyTicket(ctx context.Context, db bun.IDB, ticketID int64) error {
	_, err := db.ExecContext(ctx, "SELECT pg_notify(?, ?::text)", events.TicketChannel, ticketID)
	return err
}

// UploadsSince are a ticket's uploads after (createdAt, id), oldest first; only uploadedBy's
// when it is not empty (a customer sees their own uploads before they are sent).
func UploadsSince(ctx context.Context, db bun.IDB, ticketID int64, uploadedBy string, after time.Time, afterID string) ([]Attachment, error) {
	var out []Attachment
	q := db.NewSelect().Model(&out).Where("ticket_id = ?", ticketID).Where("(created_at, id) > (?, ?)", after, afterID)
	if uploadedBy != "" {
		q = q.Where("uploaded_by = ?", uploadedBy)
	}
	err := q.Order("created_at", "id").Limit(100).Scan(ctx)
	return out, err
}

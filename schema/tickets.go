package schema

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
)

// TicketWrite is one change of a ticket as its workflow persists it: the whole ticket row, the
// actions the change added and the history entries it opened or closed.
type TicketWrite struct {
	Ticket    Ticket
	Actions   []Action
	Statuses  []StatusChange
	Owners    []OwnerChange
	SLAEvents []SLAEvent `json:",omitempty"`
	// Videos are the video sessions the write's messages open, stored with them.
	Videos []VideoOpened `json:",omitempty"`
}

var ticketColumns = []string{
	"protocol", "type", "subject", "category", "urgency", "status", "base_status", "origin",
	"owner_id", "team_id", "client_ids", "tags", "custom_fields", "created_by", "created_at",
	"updated_at", "resolved_at", "closed_at", "action_count", "seq", "run_id", "parent_id",
	"sla_policy_id", "sla_response_due", "sla_solution_due", "sla_solution_due_is_paused",
	"sla_real_response_date", "sla_manual_by",
	"chat_id", "chat_group", "chat_widget", "chat_waiting_time", "chat_talk_time",
}

// SaveTicket writes a ticket change in one transaction. It is idempotent and ordered: the write
// lands only when its Seq is newer than the stored row's, so a retried or late write is a no-op.
// It reports whether the write landed.
//
// It never writes into w's memory: a local activity's argument is the workflow's own (the SDK
// passes it without copying), and an attempt abandoned at its timeout may still be running
// while the workflow goes on. So the slices it stamps are copies and no insert scans RETURNING
// values back into the models.
func SaveTicket(ctx context.Context, db bun.IDB, w TicketWrite) (bool, error) {
	w.Actions, w.Statuses, w.Owners, w.SLAEvents = slices.Clone(w.Actions), slices.Clone(w.Statuses),
		slices.Clone(w.Owners), slices.Clone(w.SLAEvents)
	w.Videos = slices.Clone(w.Videos)
	landed := false
	err := db.RunInTx(ctx, &sql.TxOptions{}, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewInsert().Model(&w.Ticket).On("CONFLICT (id) DO UPDATE")
		for _, c := range ticketColumns {
			q = q.Set(c + " = EXCLUDED." + c)
		}
		res, err := q.Where("ticket.seq < EXCLUDED.seq").Returning("NULL").Exec(ctx)
		if err != nil {
			return fmt.Errorf("save ticket %d: %w", w.Ticket.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		landed = true
		// Everything this write adds is ordered by it in the conversation (an ended entry
		// that it only closes keeps its own: the upserts below update ended_at alone).
		for i := range w.Actions {
			w.Actions[i].TicketID, w.Actions[i].WriteSeq = w.Ticket.ID, w.Ticket.Seq
		}
		for i := range w.Statuses {
			w.Statuses[i].TicketID, w.Statuses[i].WriteSeq = w.Ticket.ID, w.Ticket.Seq
		}
		for i := range w.Owners {
			w.Owners[i].TicketID, w.Owners[i].WriteSeq = w.Ticket.ID, w.Ticket.Seq
		}
		if len(w.Actions) > 0 {
			if _, err := tx.NewInsert().Model(&w.Actions).On("CONFLICT DO NOTHING").Returning("NULL").Exec(ctx); err != nil {
				return fmt.Errorf("save ticket %d actions: %w", w.Ticket.ID, err)
			}
		}
		if len(w.Statuses) > 0 {
			if _, err := tx.NewInsert().Model(&w.Statuses).On("CONFLICT (ticket_id, seq) DO UPDATE").
				Set("ended_at = EXCLUDED.ended_at").Returning("NULL").Exec(ctx); err != nil {
				return fmt.Errorf("save ticket %d status history: %w", w.Ticket.ID, err)
			}
		}
		if len(w.SLAEvents) > 0 {
			for i := range w.SLAEvents {
				w.SLAEvents[i].TicketID = w.Ticket.ID
			}
			if _, err := tx.NewInsert().Model(&w.SLAEvents).On("CONFLICT (dedupe_key) DO NOTHING").Returning("NULL").Exec(ctx); err != nil {
				return fmt.Errorf("save ticket %d SLA events: %w", w.Ticket.ID, err)
			}
		}
		if len(w.Owners) > 0 {
			if _, err := tx.NewInsert().Model(&w.Owners).On("CONFLICT (ticket_id, seq) DO UPDATE").
				Set("ended_at = EXCLUDED.ended_at").Returning("NULL").Exec(ctx); err != nil {
				return fmt.Errorf("save ticket %d owner history: %w", w.Ticket.ID, err)
			}
		}
		return afterTicketWrite(ctx, tx, w)
	})
	return landed, err
}

// TicketDetail is a ticket with its timeline and histories.
type TicketDetail struct {
	Ticket
	Actions       []Action
	StatusHistory []StatusChange
	OwnerHistory  []OwnerChange
}

// LoadTicket reads a ticket with its actions and histories. It returns sql.ErrNoRows when the
// ticket does not exist. With publicOnly, internal notes are left out.
func LoadTicket(ctx context.Context, db bun.IDB, id int64, publicOnly bool) (*TicketDetail, error) {
	d := &TicketDetail{}
	if err := db.NewSelect().Model(&d.Ticket).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, err
	}
	aq := db.NewSelect().Model(&d.Actions).Where("ticket_id = ?", id).Order("id")
	if publicOnly {
		aq = aq.Where("type = 'public'")
	}
	if err := aq.Scan(ctx); err != nil {
		return nil, err
	}
	if err := db.NewSelect().Model(&d.StatusHistory).Where("ticket_id = ?", id).Order("seq").Scan(ctx); err != nil {
		return nil, err
	}
	if err := db.NewSelect().Model(&d.OwnerHistory).Where("ticket_id = ?", id).Order("seq").Scan(ctx); err != nil {
		return nil, err
	}
	return d, nil
}

// NextTicketID reserves a ticket number.
func NextTicketID(ctx context.Context, db bun.IDB) (int64, error) {
	id, _, err := ReserveTicket(ctx, db)
	return id, err
}

// ReserveTicket reserves a ticket number and reads, in the same statement, the configuration
// generation (config_generation) the new ticket's first evaluation must see: every edit
// committed before the ticket was asked for, whether or not a worker has heard of it yet.
func ReserveTicket(ctx context.Context, db bun.IDB) (id, configGen int64, err error) {
	err = db.NewRaw("SELECT nextval('ticket_id_seq'), (SELECT gen FROM config_generation WHERE id = 1)").Scan(ctx, &id, &configGen)
	return id, configGen, err
}

// ConfigGeneration is the committed configuration generation.
func ConfigGeneration(ctx context.Context, db bun.IDB) (int64, error) {
	var gen int64
	err := db.NewRaw("SELECT gen FROM config_generation WHERE id = 1").Scan(ctx, &gen)
	return gen, err
}

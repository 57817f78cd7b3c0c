package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/internal/callqueue"
	"github.com/switchboardhq/switchboard/internal/events"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

var callColumns = []string{"queue_id", "group_id", "client_number", "caller_id", "state", "agent_id", "extension",
	"received_at", "transferred_at", "ended_at", "waiting_seconds", "talk_seconds", "link", "ticket_id", "end_reason",
	"events", "seq", "updated_at"}

// PersistCall writes the call as its workflow sees it; a write older than the stored row is a
// no-op, so retries and late writes are safe.
func (a *Activities) PersistCall(ctx context.Context, c schema.Call) error {
	q := a.DB.NewInsert().Model(&c).On("CONFLICT (id) DO UPDATE")
	for _, col := range callColumns {
		q = q.Set(col + " = EXCLUDED." + col)
	}
	_, err := q.Where("call.seq < EXCLUDED.seq").Returning("NULL").Exec(ctx) // c is the workflow's memory (schema.SaveTicket)
	return err
}

// Caller is the person a phone number belongs to.
type Caller struct {
	ID   string
	Name string
}

var nonDigits = regexp.MustCompile(`\D`)

// MatchCaller finds the active person (or organisation) with this phone number, comparing
// digits only; nil when nobody has it.
func (a *Activities) MatchCaller(ctx context.Context, number string) (*Caller, error) {
	digits := nonDigits.ReplaceAllString(number, "")
	if len(digits) < 3 {
		return nil, nil
	}
	var found []Caller
	err := a.DB.NewRaw(`SELECT id, name FROM persons
		WHERE is_active AND EXISTS (SELECT 1 FROM unnest(phones) ph WHERE regexp_replace(ph, '\D', '', 'g') = ?)
		ORDER BY (kind = 'person') DESC, id LIMIT 1`, digits).Scan(ctx, &found)
	if err != nil || len(found) == 0 {
		return nil, err
	}
	return &found[0], nil
}

// SetAgentCall puts an agent on a call, or takes them off the call they are on.
func (a *Activities) SetAgentCall(ctx context.Context, in workflows.AgentCallInput) error {
	if in.CallID != "" {
		_, err := a.DB.NewRaw(`INSERT INTO agent_telephony (person_id, current_call_id, updated_at) VALUES (?, ?, now())
			ON CONFLICT (person_id) DO UPDATE SET current_call_id = EXCLUDED.current_call_id, updated_at = now()`,
			in.AgentID, in.CallID).Exec(ctx)
		return err
	}
	_, err := a.DB.NewRaw(`UPDATE agent_telephony SET current_call_id = NULL, updated_at = now()
		WHERE person_id = ? AND current_call_id = ?`, in.AgentID, in.Of).Exec(ctx)
	return err
}

// EndOffer closes a call's distribution entry when the call ends without an end callback.
func (a *Activities) EndOffer(ctx context.Context, callID string) error {
	_, err := callqueue.End(ctx, a.DB, callID, workflows.CallNoEnd)
	var conflict *callqueue.ConflictError
	if errors.As(err, &conflict) || errors.Is(err, callqueue.ErrUnknownCall) {
		return nil // ended meanwhile by a callback, or never offered
	}
	return err
}

// NotifyAgent tells the agent's connected clients about the call. The event is stored and only
// its id is notified (events.Publish), so a long recording link never exceeds NOTIFY's limit.
func (a *Activities) NotifyAgent(ctx context.Context, e workflows.AgentEvent) error {
	e.Call.Events = nil // the call screen needs the call, not its timeline
	data, err := json.Marshal(e.Call)
	if err != nil {
		return err
	}
	return events.Publish(ctx, a.DB, events.Event{AgentID: e.AgentID, Type: e.Type, Data: data})
}

// ReserveCallTicket gives the call its ticket number, once: a retry returns the same number.
func (a *Activities) ReserveCallTicket(ctx context.Context, callID string) (int64, error) {
	var id int64
	err := a.DB.NewRaw(`UPDATE call_offers SET ticket_id = COALESCE(ticket_id, nextval('ticket_id_seq'))
		WHERE call_id = ? RETURNING ticket_id`, callID).Scan(ctx, &id)
	return id, err
}

// AddTicketAction adds an action to a ticket through the ticket's workflow. The update ID makes
// a retry apply it once. A ticket that no longer takes changes is a final failure.
func (a *Activities) AddTicketAction(ctx context.Context, in workflows.TicketActionInput) error {
	return a.updateTicket(ctx, in.TicketID, workflows.UpdateAddAction, in.UpdateID, in.Action)
}

// updateTicket runs one update of a ticket's workflow, once per updateID, and waits for it. A
// refused change or a ticket that no longer takes changes is a final failure.
func (a *Activities) updateTicket(ctx context.Context, ticketID int64, name, updateID string, arg any) error {
	h, err := a.Temporal.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{
		WorkflowID: workflows.TicketWorkflowID(ticketID), UpdateName: name,
		Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted, UpdateID: updateID,
	})
	if err == nil {
		err = h.Get(ctx, nil)
	}
	var appErr *temporal.ApplicationError
	var nf *serviceerror.NotFound
	if errors.As(err, &appErr) || errors.As(err, &nf) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("ticket %d takes no more changes: %v", ticketID, err), "TicketClosed", err)
	}
	return err
}

package workflows

import (
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

// Each update has a validator, which rejects a change the current state does not allow before
// anything is written to history, and a handler, which re-checks under the mutex (another change
// may have landed in between) and applies it. Handlers return the ticket as it is afterwards.
// A change that would change nothing is accepted and writes nothing.

func (w *ticketWorkflow) checkOpen() error {
	if IsTerminal(w.st.Ticket.BaseStatus) {
		return Conflict("ticket is %s; reopen it first", w.st.Ticket.BaseStatus)
	}
	return nil
}

func checkStaff(a Actor) error {
	if a.Role == schema.RoleCustomer {
		return Conflict("customers cannot make this change")
	}
	return nil
}

// --- Assign

func (w *ticketWorkflow) validateAssign(ctx workflow.Context, in AssignInput) error {
	if in.OwnerID == nil && in.TeamID == nil {
		return Invalid("ownerId", "give ownerId, teamId or both")
	}
	if err := checkStaff(in.Actor); err != nil {
		return err
	}
	return w.checkOpen()
}

func (w *ticketWorkflow) assign(ctx workflow.Context, in AssignInput) (schema.Ticket, error) {
	err := w.apply(ctx, by(in.Actor), func() error { return w.validateAssign(ctx, in) }, func(now time.Time, wr *schema.TicketWrite) {
		owner, team := w.st.Ticket.OwnerID, w.st.Ticket.TeamID
		if in.OwnerID != nil {
			owner = emptyToNil(*in.OwnerID)
		}
		if in.TeamID != nil {
			team = emptyToNil(*in.TeamID)
		}
		if deref(owner) != deref(w.st.Ticket.OwnerID) || deref(team) != deref(w.st.Ticket.TeamID) {
			w.moveOwner(now, wr, in.Actor, owner, team)
		}
	})
	return w.st.Ticket, err
}

func emptyToNil(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// --- Accept

func (w *ticketWorkflow) validateAccept(ctx workflow.Context, in AcceptInput) error {
	if in.Actor.Role != schema.RoleAgent && in.Actor.Role != schema.RoleAdmin {
		return Conflict("only agents can accept tickets")
	}
	if err := w.checkOpen(); err != nil {
		return err
	}
	if o := w.st.Ticket.OwnerID; o != nil && *o != in.Actor.ID {
		return Conflict("ticket is already owned by %s", *o)
	}
	return nil
}

// accept makes the agent the owner; a New ticket moves to InAttendance.
func (w *ticketWorkflow) accept(ctx workflow.Context, in AcceptInput) (schema.Ticket, error) {
	err := w.apply(ctx, by(in.Actor), func() error { return w.validateAccept(ctx, in) }, func(now time.Time, wr *schema.TicketWrite) {
		if w.st.Ticket.OwnerID == nil {
			me := in.Actor.ID
			w.moveOwner(now, wr, in.Actor, &me, w.st.Ticket.TeamID)
		}
		if w.st.Ticket.BaseStatus == schema.BaseNew {
			w.moveStatus(now, wr, in.Actor, schema.BaseInAttendance, schema.BaseInAttendance, "")
		}
	})
	return w.st.Ticket, err
}

// --- ChangeStatus

func (w *ticketWorkflow) validateChangeStatus(ctx workflow.Context, in ChangeStatusInput) error {
	if err := checkStaff(in.Actor); err != nil {
		return err
	}
	if !slices.Contains(schema.BaseStatuses, in.BaseStatus) {
		return Invalid("status", "status %q has unknown base status %q", in.Status, in.BaseStatus)
	}
	if err := CheckStatusMove(w.st.Ticket.BaseStatus, in.BaseStatus); err != nil {
		return err
	}
	if in.Status != w.st.Ticket.Status && in.RequiresJustification && strings.TrimSpace(in.Justification) == "" {
		return Invalid("justification", "status %q requires a justification", in.Status)
	}
	return nil
}

func (w *ticketWorkflow) changeStatus(ctx workflow.Context, in ChangeStatusInput) (schema.Ticket, error) {
	err := w.apply(ctx, by(in.Actor), func() error { return w.validateChangeStatus(ctx, in) }, func(now time.Time, wr *schema.TicketWrite) {
		if in.Status != w.st.Ticket.Status {
			w.moveStatus(now, wr, in.Actor, in.Status, in.BaseStatus, in.Justification)
		}
	})
	return w.st.Ticket, err
}

// --- AddAction

func (w *ticketWorkflow) validateAddAction(ctx workflow.Context, in AddActionInput) error {
	if in.Type != "public" && in.Type != "internal" {
		return Invalid("type", "type must be public or internal, got %q", in.Type)
	}
	if strings.TrimSpace(in.Body) == "" && len(in.Attachments) == 0 {
		return Invalid("body", "body must not be empty (a message without text carries at least one attachment)")
	}
	if in.Actor.Role == schema.RoleCustomer && in.Type != "public" {
		return Invalid("type", "customers can only add public replies")
	}
	if err := w.checkOpen(); err != nil {
		return err
	}
	return w.checkMaySpeak(in)
}

// checkMaySpeak is the messenger's rule: an agent speaks to the customer only once the ticket
// is theirs (accepted or assigned to them). Internal notes, customers and triggers are not
// bound by it.
func (w *ticketWorkflow) checkMaySpeak(in AddActionInput) error {
	if !in.RequireOwner || in.Type != "public" || in.Actor.Role == schema.RoleCustomer {
		return nil
	}
	if owner := w.st.Ticket.OwnerID; owner == nil || *owner != in.Actor.ID {
		return Conflict("accept the ticket or have it assigned to you before messaging the customer (internal notes are open to every agent)")
	}
	return nil
}

// addAction appends to the timeline. A customer's public reply on a resolved ticket reopens it.
func (w *ticketWorkflow) addAction(ctx workflow.Context, in AddActionInput) (schema.Ticket, error) {
	err := w.apply(ctx, by(in.Actor), func() error { return w.validateAddAction(ctx, in) }, func(now time.Time, wr *schema.TicketWrite) {
		t := &w.st.Ticket
		t.ActionCount++
		kind := in.Kind
		if kind == "" {
			kind = schema.KindText
		}
		wr.Actions = append(wr.Actions, schema.Action{TicketID: t.ID, ID: t.ActionCount, Type: in.Type,
			Body: in.Body, AuthorID: in.Actor.ID, Origin: in.Origin, CreatedAt: now,
			Kind: kind, HTML: in.HTML, Attachments: in.Attachments, ClientID: in.ClientID})
		if v := in.Video; v != nil {
			video := *v
			video.ActionID, video.CreatedAt = t.ActionCount, now
			wr.Videos = append(wr.Videos, video)
		}
		if in.Actor.Role == schema.RoleCustomer && t.BaseStatus == schema.BaseResolved {
			w.moveStatus(now, wr, in.Actor, schema.BaseInAttendance, schema.BaseInAttendance, "")
		}
	})
	return w.st.Ticket, err
}

// --- SetFields

func (w *ticketWorkflow) validateSetFields(ctx workflow.Context, in SetFieldsInput) error {
	if err := checkStaff(in.Actor); err != nil {
		return err
	}
	if in.Subject != nil && strings.TrimSpace(*in.Subject) == "" {
		return Invalid("subject", "subject must not be empty")
	}
	if in.Type != nil && *in.Type != "public" && *in.Type != "internal" {
		return Invalid("type", "type must be public or internal, got %q", *in.Type)
	}
	return w.checkOpen()
}

func (w *ticketWorkflow) setFields(ctx workflow.Context, in SetFieldsInput) (schema.Ticket, error) {
	err := w.apply(ctx, by(in.Actor), func() error { return w.validateSetFields(ctx, in) }, func(now time.Time, wr *schema.TicketWrite) {
		t := &w.st.Ticket
		setIf(&t.Subject, in.Subject)
		setIf(&t.Category, in.Category)
		setIf(&t.Urgency, in.Urgency)
		setIf(&t.Type, in.Type)
		if in.Tags != nil {
			t.Tags = orEmpty(*in.Tags)
		}
		if len(in.CustomFields) > 0 {
			t.CustomFields = mergeFields(t.CustomFields, in.CustomFields)
		}
		if c := in.Chat; c != nil {
			t.ChatID, t.ChatGroup, t.ChatWidget, t.ChatWaitingTime, t.ChatTalkTime = &c.ID, c.Group, c.Widget, c.WaitingTime, c.TalkTime
		}
	})
	return w.st.Ticket, err
}

// mergeFields sets the given custom fields; a nil value removes the field.
func mergeFields(have, set map[string]any) map[string]any {
	merged := make(map[string]any, len(have)+len(set))
	for _, k := range workflow.DeterministicKeys(have) {
		merged[k] = have[k]
	}
	for _, k := range workflow.DeterministicKeys(set) {
		if v := set[k]; v == nil {
			delete(merged, k)
		} else {
			merged[k] = v
		}
	}
	return merged
}

func setIf(dst *string, v *string) {
	if v != nil {
		*dst = *v
	}
}

// --- Reopen

func (w *ticketWorkflow) validateReopen(ctx workflow.Context, in ReopenInput) error {
	base := w.st.Ticket.BaseStatus
	if base == schema.BaseResolved || (IsTerminal(base) && w.in.AwaitReopen) {
		return nil
	}
	if IsTerminal(base) {
		return Conflict("ticket is %s; reopening it starts a new run (POST /tickets/{id}/reopen)", base)
	}
	return Conflict("only resolved, closed or canceled tickets can be reopened; this one is %s", base)
}

func (w *ticketWorkflow) reopen(ctx workflow.Context, in ReopenInput) (schema.Ticket, error) {
	err := w.apply(ctx, by(in.Actor), func() error { return w.validateReopen(ctx, in) }, func(now time.Time, wr *schema.TicketWrite) {
		w.moveStatus(now, wr, in.Actor, schema.BaseInAttendance, schema.BaseInAttendance, "")
	})
	return w.st.Ticket, err
}

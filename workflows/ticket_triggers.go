package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// changeEvents are the trigger events one change raises: ticket.updated always, and
// ticket.status_changed, ticket.assigned and ticket.action_added when they apply.
func changeEvents(before, after schema.Ticket, wr schema.TicketWrite, why cause) []TriggerEvent {
	changes := map[string]rules.Change{}
	diff := func(name string, from, to any) {
		if !reflect.DeepEqual(from, to) {
			changes[name] = rules.Change{From: from, To: to}
		}
	}
	diff("subject", before.Subject, after.Subject)
	diff("category", before.Category, after.Category)
	diff("urgency", before.Urgency, after.Urgency)
	diff("type", before.Type, after.Type)
	diff("status", before.Status, after.Status)
	diff("baseStatus", before.BaseStatus, after.BaseStatus)
	diff("ownerId", deref(before.OwnerID), deref(after.OwnerID))
	diff("teamId", deref(before.TeamID), deref(after.TeamID))
	diff("tags", before.Tags, after.Tags)
	diff("customFields", before.CustomFields, after.CustomFields)
	if len(changes) == 0 && len(wr.Actions) == 0 {
		return nil
	}
	ev := func(name string) TriggerEvent {
		return TriggerEvent{Name: name, Changes: changes, Actor: why.actor, Chain: why.chain}
	}
	var out []TriggerEvent
	if len(wr.Actions) > 0 {
		out = append(out, ev(rules.EventActionAdded))
	}
	if _, ok := changes["status"]; ok {
		out = append(out, ev(rules.EventStatusChanged))
	}
	_, owner := changes["ownerId"]
	_, team := changes["teamId"]
	if owner || team {
		out = append(out, ev(rules.EventAssigned))
	}
	return append(out, ev(rules.EventUpdated))
}

// processEvents lets the triggers see each queued event, in order, and applies what they decide
// as this workflow's own changes (which may raise further events, with a longer chain). An
// evaluation waits out a stalled database (projectionCtx); one that still fails, or an action
// that cannot be applied, is logged and skipped: nothing here fails the ticket's workflow.
func (w *ticketWorkflow) processEvents(ctx workflow.Context) error {
	for len(w.events) > 0 {
		ev := w.events[0]
		w.events = w.events[1:]
		var res EvaluateResult
		in := EvaluateInput{Ticket: w.st.Ticket, Event: ev, Now: workflow.Now(ctx).UTC()}
		err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityEvaluateTriggers, in).Get(ctx, &res)
		if err != nil {
			if err := survive(ctx, "trigger evaluation of "+ev.Name, err); err != nil {
				return err
			}
			continue
		}
		w.st.Timers = res.Timers
		if err := survive(ctx, "SLA rule choice", w.applySLAChoice(ctx, res.SLA)); err != nil {
			return err
		}
		if err := w.startRuleApprovals(ctx, ev, res.Approvals); err != nil {
			return err
		}
		for _, f := range res.Firings {
			for i, a := range f.Actions {
				if err := survive(ctx, "trigger "+f.TriggerID+" action "+a.Type, w.applyAction(ctx, ev, f, i, a)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// applyAction applies one resolved action. An action the ticket's state no longer allows (it
// changed since the evaluation, or is closed) is skipped and logged; only a failure of the
// workflow itself is returned.
func (w *ticketWorkflow) applyAction(ctx workflow.Context, ev TriggerEvent, f Firing, i int, a ResolvedAction) error {
	trigger := Actor{ID: f.TriggerID, Role: "trigger"}
	why := cause{actor: trigger, chain: append(slices.Clone(ev.Chain), f.TriggerID)}
	t := &w.st.Ticket
	var err error
	change := func(check func() error, mutate func(time.Time, *schema.TicketWrite)) {
		err = w.apply(ctx, why, func() error {
			if err := w.checkOpen(); err != nil {
				return err
			}
			return check()
		}, mutate)
	}
	none := func() error { return nil }
	switch a.Type {
	case rules.ActionSetStatus:
		change(func() error { return CheckStatusMove(t.BaseStatus, a.BaseStatus) }, func(now time.Time, wr *schema.TicketWrite) {
			if t.Status != a.Status {
				w.moveStatus(now, wr, trigger, a.Status, a.BaseStatus, a.Justification)
			}
		})
	case rules.ActionSetUrgency:
		change(none, func(time.Time, *schema.TicketWrite) { t.Urgency = a.Urgency })
	case rules.ActionSetCategory:
		change(none, func(time.Time, *schema.TicketWrite) { t.Category = a.Category })
	case rules.ActionSetType:
		change(none, func(time.Time, *schema.TicketWrite) { t.Type = a.TicketType })
	case rules.ActionSetSubject:
		change(none, func(time.Time, *schema.TicketWrite) { t.Subject = a.RenderedSubject })
	case rules.ActionAssignAgent:
		change(none, func(now time.Time, wr *schema.TicketWrite) {
			if deref(t.OwnerID) != a.AgentID {
				agent := a.AgentID
				w.moveOwner(now, wr, trigger, &agent, t.TeamID)
			}
		})
	case rules.ActionAssignTeam:
		change(none, func(now time.Time, wr *schema.TicketWrite) {
			team, owner := a.TeamID, t.OwnerID
			if a.PickedAgentID != "" {
				picked := a.PickedAgentID
				owner = &picked
			}
			if deref(t.TeamID) != team || deref(t.OwnerID) != deref(owner) {
				w.moveOwner(now, wr, trigger, owner, &team)
			}
		})
	case rules.ActionAddTags, rules.ActionRemoveTags, rules.ActionSetTags:
		change(none, func(time.Time, *schema.TicketWrite) { t.Tags = applyTags(t.Tags, a.Type, a.Tags) })
	case rules.ActionSetCustomField:
		change(none, func(time.Time, *schema.TicketWrite) {
			t.CustomFields = mergeFields(t.CustomFields, map[string]any{a.Field: a.Value})
		})
	case rules.ActionAddAction:
		change(none, func(now time.Time, wr *schema.TicketWrite) {
			t.ActionCount++
			wr.Actions = append(wr.Actions, schema.Action{TicketID: t.ID, ID: t.ActionCount, Type: a.ActionType,
				Body: a.RenderedBody, HTML: a.RenderedHTML, AuthorID: f.TriggerID, Origin: schema.OriginTrigger, CreatedAt: now})
		})
	case rules.ActionCallWebhook:
		err = w.callWebhook(ctx, ev, f, i, a)
	case rules.ActionCreateChildTicket:
		err = w.createChildTicket(ctx, f, a)
	case rules.ActionChangeParentStatus:
		in := TicketStatusInput{TicketID: *t.ParentID, UpdateID: fmt.Sprintf("ticket/%d/v%d/%s/%d", t.ID, t.Seq, f.TriggerID, i),
			Change: ChangeStatusInput{Actor: trigger, Status: a.Status, BaseStatus: a.BaseStatus,
				RequiresJustification: a.RequiresJustification, Justification: a.Justification}}
		err = workflow.ExecuteActivity(activityCtx(ctx), ActivityUpdateTicketStatus, in).Get(ctx, nil)
	case rules.ActionNotifyAgents:
		// written by the evaluation itself
	}
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		workflow.GetLogger(ctx).Warn("trigger action skipped", "trigger", f.TriggerID, "action", a.Type, "reason", appErr.Error())
		return nil
	}
	return err
}

func applyTags(tags []string, how string, given []string) []string {
	switch how {
	case rules.ActionSetTags:
		return uniqueTags(given)
	case rules.ActionRemoveTags:
		return slices.DeleteFunc(slices.Clone(tags), func(t string) bool { return slices.Contains(given, t) })
	}
	return uniqueTags(append(slices.Clone(tags), given...))
}

func uniqueTags(tags []string) []string {
	out := []string{}
	for _, t := range tags {
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// callWebhook starts the delivery as an abandoned child: the ticket waits only for it to start,
// never for the receiver.
func (w *ticketWorkflow) callWebhook(ctx workflow.Context, ev TriggerEvent, f Firing, i int, a ResolvedAction) error {
	t := w.st.Ticket
	id := fmt.Sprintf("t%d-v%d-%s-%s-%d", t.ID, t.Seq, ev.Name, f.TriggerID, i)
	payload, err := json.Marshal(map[string]any{"event": ev.Name, "deliveryId": id, "triggerId": f.TriggerID,
		"ticket": t, "changes": ev.Changes})
	if err != nil {
		return err
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: WebhookWorkflowID(id), ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
	})
	in := WebhookDeliveryInput{DeliveryID: id, WebhookID: a.WebhookID, Event: ev.Name, TicketID: t.ID, TriggerID: f.TriggerID, Payload: payload}
	return workflow.ExecuteChildWorkflow(cctx, WebhookWorkflowType, in).GetChildWorkflowExecution().Get(ctx, nil)
}

// createChildTicket opens a ticket whose parent is this one, as an abandoned child workflow,
// writing its creation too so that it is readable at once.
func (w *ticketWorkflow) createChildTicket(ctx workflow.Context, f Firing, a ResolvedAction) error {
	parent := w.st.Ticket
	st, wr := NewTicket(CreateTicket{ID: a.ChildTicketID, Type: "public", Subject: a.RenderedSubject,
		Status: schema.BaseNew, BaseStatus: schema.BaseNew, Origin: schema.OriginTrigger, ClientIDs: parent.ClientIDs,
		Description: a.RenderedBody, CreatedBy: f.TriggerID, CreatedAt: workflow.Now(ctx).UTC(), ParentID: &parent.ID})
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: TicketWorkflowID(st.Ticket.ID), ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: temporal.NewSearchAttributes(searchAttributeUpdates(st.Ticket)...),
	})
	var run workflow.Execution
	child := workflow.ExecuteChildWorkflow(cctx, TicketWorkflowType, TicketInput{State: st, Pending: &wr,
		AutoCloseAfter: w.in.AutoCloseAfter, Creator: Actor{ID: f.TriggerID, Role: "trigger"}})
	if err := child.GetChildWorkflowExecution().Get(ctx, &run); err != nil {
		return err
	}
	wr.Ticket.RunID = run.RunID
	return persistTicket(ctx, wr)
}

// nextTimer is the time condition due soonest that has not fired for its current moment.
func (w *ticketWorkflow) nextTimer() (TimerSpec, time.Time, bool) {
	var next TimerSpec
	var due time.Time
	found := false
	for _, spec := range w.st.Timers {
		at, ok := w.anchor(spec.From)
		if !ok {
			continue
		}
		d := at.Add(spec.After)
		if slices.Contains(w.st.Fired, timerKey(spec, d)) {
			continue
		}
		if !found || d.Before(due) {
			next, due, found = spec, d, true
		}
	}
	return next, due, found
}

// anchor is the moment a timer counts from.
func (w *ticketWorkflow) anchor(from string) (time.Time, bool) {
	t := w.st.Ticket
	switch from {
	case rules.FromCreatedAt:
		return t.CreatedAt, true
	case rules.FromUpdatedAt:
		return t.UpdatedAt, true
	case rules.FromStatusChangedAt:
		return w.st.Status.StartedAt, !w.st.Status.StartedAt.IsZero()
	case rules.FromLastPublicActionAt:
		if w.st.LastPublicActionAt != nil {
			return *w.st.LastPublicActionAt, true
		}
		return t.CreatedAt, true
	}
	return time.Time{}, false
}

func timerKey(spec TimerSpec, due time.Time) string {
	return fmt.Sprintf("%s@%d@%d", spec.TriggerID, spec.Version, due.UnixNano())
}

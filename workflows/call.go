package workflows

import (
	"fmt"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

// PhoneCall is the workflow of one PBX call, call/<pbx id>: queued, offered, ongoing, then
// completed, missed or canceled. Each PBX callback arrives as a signal; a call that never gets
// an end is ended by a durable timer as "no end event". The end creates the call's ticket (one
// per call) as a child Ticket workflow. The run stays a while after the end (LinkGrace) to take
// late callbacks and recording links, then finishes. A call has a handful of events, so it never
// needs continue-as-new.
func PhoneCall(ctx workflow.Context, in CallInput) (schema.Call, error) {
	w := &callWorkflow{in: in, call: schema.Call{ID: in.ID, QueueID: in.QueueID, GroupID: in.GroupID,
		ClientNumber: in.ClientNumber, State: CallQueued, ReceivedAt: in.ReceivedAt, Events: []schema.CallEvent{}}}
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (schema.Call, error) { return w.call, nil }); err != nil {
		return w.call, err
	}
	return w.call, w.run(ctx)
}

type callWorkflow struct {
	in       CallInput
	call     schema.Call
	caller   *callerRef
	links    int // recording links added to the ticket
	timedOut bool
}

type callerRef struct{ ID, Name string }

// activityCtx is for work that talks to other services (the ticket's workflow); quick
// database work runs as local activities (projectionCtx).
func activityCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
}

func (w *callWorkflow) run(ctx workflow.Context) error {
	// Nothing a callback does fails the call: projection writes wait out a stalled database, and
	// what still fails is logged (survive), so the call always ends and makes its ticket.
	err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityMatchCaller, w.in.ClientNumber).Get(ctx, &w.caller)
	if err := survive(ctx, "matching the caller", err); err != nil {
		return err
	}
	if w.caller != nil {
		w.call.CallerID = &w.caller.ID
	}
	w.record(ctx, schema.CallEvent{Type: "received", At: w.in.ReceivedAt})
	if err := survive(ctx, "writing the call", w.persist(ctx)); err != nil {
		return err
	}

	sig := callSignals{
		offered:     workflow.GetSignalChannel(ctx, SignalCallOffered),
		transferred: workflow.GetSignalChannel(ctx, SignalCallTransferred),
		ended:       workflow.GetSignalChannel(ctx, SignalCallEnded),
		linkSet:     workflow.GetSignalChannel(ctx, SignalCallLinkSet),
	}
	noEnd := workflow.NewTimer(ctx, w.in.NoEndAfter)
	for !w.isEnded() {
		var err error
		sel := w.selector(ctx, sig, &err)
		sel.AddFuture(noEnd, func(workflow.Future) { err = w.onNoEnd(ctx) })
		sel.Select(ctx)
		if err := survive(ctx, "call callback", err); err != nil {
			return err
		}
	}
	// After the end, the run stays for LinkGrace to take late callbacks and recording links.
	grace := workflow.NewTimer(ctx, w.in.LinkGrace)
	for done := false; !done; {
		var err error
		sel := w.selector(ctx, sig, &err)
		sel.AddFuture(grace, func(workflow.Future) { done = true })
		sel.Select(ctx)
		if err := survive(ctx, "call callback", err); err != nil {
			return err
		}
	}
	return nil
}

type callSignals struct{ offered, transferred, ended, linkSet workflow.ReceiveChannel }

// selector waits for the next callback; the handler's error lands in err.
func (w *callWorkflow) selector(ctx workflow.Context, sig callSignals, err *error) workflow.Selector {
	sel := workflow.NewSelector(ctx)
	receive(ctx, sel, sig.offered, err, func(s CallOfferedSignal) error { return w.onOffered(ctx, s) })
	receive(ctx, sel, sig.transferred, err, func(s CallTransferredSignal) error { return w.onTransferred(ctx, s) })
	receive(ctx, sel, sig.ended, err, func(s CallEndedSignal) error { return w.onEnded(ctx, s) })
	receive(ctx, sel, sig.linkSet, err, func(s CallLinkSetSignal) error { return w.onLink(ctx, s) })
	return sel
}

func receive[T any](ctx workflow.Context, sel workflow.Selector, ch workflow.ReceiveChannel, err *error, handle func(T) error) {
	sel.AddReceive(ch, func(c workflow.ReceiveChannel, _ bool) {
		var s T
		c.Receive(ctx, &s)
		*err = handle(s)
	})
}

func (w *callWorkflow) isEnded() bool { return w.call.EndedAt != nil }

func (w *callWorkflow) record(ctx workflow.Context, e schema.CallEvent) {
	if e.At.IsZero() {
		e.At = workflow.Now(ctx).UTC()
	}
	w.call.Events = append(w.call.Events, e)
}

func (w *callWorkflow) persist(ctx workflow.Context) error {
	w.call.Seq++
	w.call.UpdatedAt = workflow.Now(ctx).UTC()
	if w.call.CreatedAt.IsZero() {
		w.call.CreatedAt = w.call.UpdatedAt
	}
	return workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityPersistCall, w.call).Get(ctx, nil)
}

func (w *callWorkflow) onOffered(ctx workflow.Context, s CallOfferedSignal) error {
	if w.isEnded() {
		return nil // the API refuses offers for ended calls; a stray one changes nothing
	}
	e := schema.CallEvent{Type: "offered", At: s.At, Extension: s.Extension, AgentID: s.AgentID, Code: s.Code}
	if s.Code != nil {
		e.Type = "queued"
	}
	w.record(ctx, e)
	if w.call.State == CallQueued || w.call.State == CallOffered {
		w.call.State = CallOffered
		if s.Code != nil {
			w.call.State = CallQueued
		}
	}
	return w.persist(ctx)
}

func (w *callWorkflow) onTransferred(ctx workflow.Context, s CallTransferredSignal) error {
	late := w.isEnded()
	e := schema.CallEvent{Type: "transferred", At: s.At, Extension: s.Extension, AgentID: s.AgentID}
	if late {
		e.Note = "arrived after the call's end"
	}
	w.record(ctx, e)
	if w.call.TransferredAt == nil {
		w.call.TransferredAt = &s.At
		w.call.WaitingSeconds = seconds(s.At.Sub(w.call.ReceivedAt))
		if late {
			w.call.TalkSeconds = seconds(w.call.EndedAt.Sub(s.At))
		}
	}
	w.call.AgentID, w.call.Extension = &s.AgentID, &s.Extension
	if late {
		return w.persist(ctx)
	}
	w.call.State = CallOngoing
	if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivitySetAgentCall, AgentCallInput{AgentID: s.AgentID, CallID: w.call.ID}).Get(ctx, nil); err != nil {
		return err
	}
	if err := w.persist(ctx); err != nil {
		return err
	}
	w.notify(ctx, s.AgentID, "call.transferred")
	return nil
}

func (w *callWorkflow) onEnded(ctx workflow.Context, s CallEndedSignal) error {
	if w.isEnded() {
		return nil // a repeated end (the API answers it) changes nothing
	}
	w.call.State, w.call.EndedAt = s.Kind, &s.At
	if s.Link != "" {
		w.call.Link = &s.Link
	}
	if w.call.TransferredAt != nil {
		w.call.TalkSeconds = seconds(s.At.Sub(*w.call.TransferredAt))
	} else {
		w.call.WaitingSeconds = seconds(s.At.Sub(w.call.ReceivedAt))
	}
	w.record(ctx, schema.CallEvent{Type: s.Kind, At: s.At, Link: s.Link})
	if err := w.releaseAgent(ctx); err != nil {
		return err
	}
	if err := w.createTicket(ctx); err != nil {
		return err
	}
	return w.persist(ctx)
}

func (w *callWorkflow) onNoEnd(ctx workflow.Context) error {
	now := workflow.Now(ctx).UTC()
	reason := "no end event"
	w.call.State, w.call.EndedAt, w.call.EndReason = CallNoEnd, &now, &reason
	w.record(ctx, schema.CallEvent{Type: CallNoEnd, Note: fmt.Sprintf("no end callback within %s", w.in.NoEndAfter)})
	if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityEndOffer, w.call.ID).Get(ctx, nil); err != nil {
		return err
	}
	if err := w.releaseAgent(ctx); err != nil {
		return err
	}
	return w.persist(ctx)
}

// releaseAgent takes the agent off the call and closes their call screen.
func (w *callWorkflow) releaseAgent(ctx workflow.Context) error {
	if w.call.AgentID == nil || w.call.TransferredAt == nil {
		return nil
	}
	agent := *w.call.AgentID
	if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivitySetAgentCall, AgentCallInput{AgentID: agent, Of: w.call.ID}).Get(ctx, nil); err != nil {
		return err
	}
	w.notify(ctx, agent, "call.ended")
	return nil
}

// notify tells the agent's clients about the call, best effort: a notification that cannot go
// out is logged, and the call goes on (the calls API has the state).
func (w *callWorkflow) notify(ctx workflow.Context, agent, typ string) {
	e := AgentEvent{AgentID: agent, Type: typ, Call: w.call}
	err := workflow.ExecuteLocalActivity(bestEffortCtx(ctx), ActivityNotifyAgent, e).Get(ctx, nil)
	if err != nil && !temporal.IsCanceledError(err) {
		workflow.GetLogger(ctx).Warn("agent notification dropped", "agent", agent, "type", typ, "err", err)
	}
}

func (w *callWorkflow) onLink(ctx workflow.Context, s CallLinkSetSignal) error {
	w.call.Link = &s.Link
	w.record(ctx, schema.CallEvent{Type: "link", Link: s.Link})
	if w.call.TicketID != nil {
		w.links++
		in := TicketActionInput{TicketID: *w.call.TicketID, UpdateID: fmt.Sprintf("%s/link/%d", CallWorkflowID(w.call.ID), w.links),
			Action: AddActionInput{Actor: SystemActor, Type: w.detailsType(ctx), Body: "Call recording: " + s.Link, Origin: ticketOrigins[w.call.State]}}
		err := workflow.ExecuteActivity(activityCtx(ctx), ActivityAddTicketAction, in).Get(ctx, nil)
		if err != nil {
			w.record(ctx, schema.CallEvent{Type: "link", Link: s.Link, Note: "not added to the ticket: " + err.Error()})
		}
	}
	return w.persist(ctx)
}

// createTicket opens the call's ticket as a child workflow, which outlives the call.
func (w *callWorkflow) createTicket(ctx workflow.Context) error {
	origin, ok := ticketOrigins[w.call.State]
	if !ok || w.call.TicketID != nil {
		return nil
	}
	var id int64
	if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityReserveTicket, w.call.ID).Get(ctx, &id); err != nil {
		return err
	}
	ct := CreateTicket{ID: id, Type: "public", Subject: w.ticketSubject(), Status: schema.BaseNew, BaseStatus: schema.BaseNew,
		Origin: origin, Description: w.ticketBody(), CreatedBy: SystemActor.ID, CreatedAt: workflow.Now(ctx).UTC(),
		CustomFields: map[string]any{"callId": w.call.ID}, Tags: []string{"phone"}, DescriptionType: w.detailsType(ctx)}
	if w.caller != nil {
		ct.ClientIDs = []string{w.caller.ID}
	}
	if w.call.State == CallCompleted && w.call.AgentID != nil && w.call.TransferredAt != nil {
		agent := *w.call.AgentID
		ct.OwnerID, ct.Status, ct.BaseStatus = &agent, schema.BaseInAttendance, schema.BaseInAttendance
	}
	st, wr := NewTicket(ct)
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: TicketWorkflowID(id), ParentClosePolicy: enumspb.PARENT_CLOSE_POLICY_ABANDON,
		TypedSearchAttributes: temporal.NewSearchAttributes(searchAttributeUpdates(st.Ticket)...),
	})
	child := workflow.ExecuteChildWorkflow(cctx, TicketWorkflowType, TicketInput{State: st, Pending: &wr,
		AutoCloseAfter: w.in.AutoCloseAfter, Creator: SystemActor})
	var run workflow.Execution
	if err := child.GetChildWorkflowExecution().Get(ctx, &run); err != nil {
		return err
	}
	// The child writes its row in its first task; writing the same creation here too (whichever
	// lands second is a no-op) means the call never shows a ticket id whose row is not there yet.
	wr.Ticket.RunID = run.RunID
	if err := persistTicket(ctx, wr); err != nil {
		return err
	}
	w.call.TicketID = &id
	return nil
}

// detailsType is the type of the ticket actions that describe the call: the extension that
// answered, the queue and the recording link are the agents' to see, so they are internal
// notes (calls recorded before this made them public).
func (w *callWorkflow) detailsType(ctx workflow.Context) string {
	if workflow.GetVersion(ctx, "call-details-internal", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return "public"
	}
	return "internal"
}

var callKinds = map[string]string{CallCompleted: "Received call", CallMissed: "Missed call", CallCanceled: "Abandoned call"}

func (w *callWorkflow) ticketSubject() string {
	return fmt.Sprintf("%s from %s", callKinds[w.call.State], w.call.ClientNumber)
}

// ticketBody describes the call in the ticket's first action.
func (w *callWorkflow) ticketBody() string {
	c := w.call
	var b strings.Builder
	fmt.Fprintf(&b, "**%s** from %s", callKinds[c.State], c.ClientNumber)
	if w.caller != nil {
		fmt.Fprintf(&b, " (%s)", w.caller.Name)
	} else {
		b.WriteString(" (unknown caller)")
	}
	fmt.Fprintf(&b, "\n\n- Call id: %s\n- Queue: %d\n- Received: %s", c.ID, c.QueueID, stamp(c.ReceivedAt))
	if c.TransferredAt != nil {
		fmt.Fprintf(&b, "\n- Answered at extension %s: %s", deref(c.Extension), stamp(*c.TransferredAt))
	}
	fmt.Fprintf(&b, "\n- Ended: %s", stamp(*c.EndedAt))
	if c.WaitingSeconds != nil {
		fmt.Fprintf(&b, "\n- Waiting time: %s", time.Duration(*c.WaitingSeconds)*time.Second)
	}
	if c.TalkSeconds != nil {
		fmt.Fprintf(&b, "\n- Talk time: %s", time.Duration(*c.TalkSeconds)*time.Second)
	}
	if c.Link != nil {
		label := "Recording"
		if c.State == CallMissed {
			label = "Message left"
		}
		fmt.Fprintf(&b, "\n- %s: %s", label, *c.Link)
	}
	return b.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

func seconds(d time.Duration) *int {
	s := max(int(d.Seconds()), 0)
	return &s
}

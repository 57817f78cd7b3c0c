package workflows

import (
	"reflect"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// Ticket is the workflow that owns an open ticket: every change passes through one of its
// updates, is persisted by an idempotent local activity, and is returned to the caller. A
// resolved ticket closes by itself after AutoCloseAfter; Closed and Canceled end the run.
func Ticket(ctx workflow.Context, in TicketInput) (schema.Ticket, error) {
	w := &ticketWorkflow{in: in, st: in.State}
	if in.Pending != nil {
		// A new ticket's starter set its search attributes (TicketStartOptions).
		w.lastSA = searchAttributeValues(in.State.Ticket)
	}
	if err := w.setup(ctx); err != nil {
		return schema.Ticket{}, err
	}
	return w.run(ctx)
}

type ticketWorkflow struct {
	in      TicketInput
	st      TicketState
	mu      workflow.Mutex
	version int // rises with every applied change; the main loop waits on it
	changes int // changes applied in this run
	lastSA  []any
	// deadline is the main loop's one timer (SLA, time condition or auto-close).
	deadline *deadline
	// triggersOn: this run evaluates triggers (runs started before triggers existed do not).
	triggersOn bool
	// events are what changes raised, waiting for the triggers, in order.
	events []TriggerEvent
}

// cause is why a change happens: who asked, and which triggers led to it. Bookkeeping changes
// (SLA facts) are recorded without counting as an update of the ticket.
type cause struct {
	actor       Actor
	chain       []string
	bookkeeping bool
}

func by(a Actor) cause { return cause{actor: a} }

func (w *ticketWorkflow) setup(ctx workflow.Context) error {
	w.mu = workflow.NewMutex(ctx)
	w.listenConfigChanged(ctx)
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (TicketState, error) { return w.st, nil }); err != nil {
		return err
	}
	handlers := []struct {
		name      string
		handler   any
		validator any
	}{
		{UpdateAssign, w.assign, acceptBy(w.validateAssign)},
		{UpdateAccept, w.accept, acceptBy(w.validateAccept)},
		{UpdateChangeStatus, w.changeStatus, acceptBy(w.validateChangeStatus)},
		{UpdateAddAction, w.addAction, acceptBy(w.validateAddAction)},
		{UpdateSetFields, w.setFields, acceptBy(w.validateSetFields)},
		{UpdateReopen, w.reopen, acceptBy(w.validateReopen)},
		{UpdateSetSLADue, w.setSLADue, acceptBy(w.validateSetSLADue)},
		{UpdateRequestApproval, w.requestApproval, acceptBy(w.validateRequestApproval)},
		{UpdateRecordApproval, w.recordApproval, w.validateRecordApproval},
	}
	for _, h := range handlers {
		err := workflow.SetUpdateHandlerWithOptions(ctx, h.name, h.handler,
			workflow.UpdateHandlerOptions{Validator: h.validator})
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *ticketWorkflow) run(ctx workflow.Context) (schema.Ticket, error) {
	// Runs recorded before triggers existed replay without them.
	w.triggersOn = workflow.GetVersion(ctx, "triggers", workflow.DefaultVersion, 1) >= 1
	w.deadline = newDeadline(ctx)
	w.events = append(w.events, w.in.Events...)
	if err := survive(ctx, "writing the run's start", w.startRun(ctx)); err != nil {
		return schema.Ticket{}, err
	}
	if w.in.AwaitReopen {
		reopened, err := workflow.AwaitWithTimeout(ctx, ReopenWait, func() bool { return !IsTerminal(w.st.Ticket.BaseStatus) })
		if err != nil || !reopened {
			return w.st.Ticket, err
		}
	}
	for {
		// Triggers see every event, also the one that closed the ticket (their changes to a
		// closed ticket are refused; their webhooks and notifications still go out).
		if err := w.processEvents(ctx); err != nil {
			return w.st.Ticket, err
		}
		if IsTerminal(w.st.Ticket.BaseStatus) {
			break
		}
		seen := w.version
		changed := func() bool { return w.version != seen || len(w.events) > 0 || w.shouldContinueAsNew(ctx) }
		if err := w.wait(ctx, changed); err != nil {
			return w.st.Ticket, err
		}
		if w.shouldContinueAsNew(ctx) {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return w.st.Ticket, err
			}
			next := w.in
			next.State, next.Pending, next.AwaitReopen, next.Events = w.st, nil, false, w.events
			return w.st.Ticket, workflow.NewContinueAsNewError(ctx, TicketWorkflowType, next)
		}
	}
	w.cancelApprovals(ctx)
	// Let updates that were already accepted finish, and their events be seen, before the run ends.
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return w.st.Ticket, err
	}
	return w.st.Ticket, w.processEvents(ctx)
}

// wait blocks until something changes or the next deadline — the auto-close of a resolved
// ticket, or a time condition's timer — falls due, and then acts on that deadline.
func (w *ticketWorkflow) wait(ctx workflow.Context, changed func() bool) error {
	var close *time.Time
	if w.st.Ticket.BaseStatus == schema.BaseResolved && w.st.Ticket.ResolvedAt != nil {
		due := w.st.Ticket.ResolvedAt.Add(w.in.AutoCloseAfter)
		close = &due
	}
	timer, timerDue, hasTimer := w.nextTimer()
	sla, hasSLA := w.nextSLATimer()
	due := close
	if hasTimer && (due == nil || timerDue.Before(*due)) {
		due = &timerDue
	}
	if hasSLA && (due == nil || sla.at.Before(*due)) {
		due = &sla.at
	}
	if due == nil {
		w.deadline.stop()
		return workflow.Await(ctx, changed)
	}
	woke, err := w.deadline.await(ctx, *due, changed)
	if err != nil || woke {
		return err
	}
	if hasSLA && !sla.at.After(*due) {
		// A deadline whose record could not be written stays due: the next round fires it again.
		return survive(ctx, "SLA "+sla.kind, w.fireSLA(ctx, sla))
	}
	if hasTimer && !timerDue.After(*due) {
		w.st.Fired = append(w.st.Fired, timerKey(timer, timerDue))
		if n := len(w.st.Fired); n > 200 { // old moments never come back; keep the state small
			w.st.Fired = w.st.Fired[n-200:]
		}
		w.events = append(w.events, TriggerEvent{Name: rules.EventTime, Actor: SystemActor,
			Changes: map[string]rules.Change{}, OnlyTrigger: timer.TriggerID})
		return nil
	}
	return survive(ctx, "auto-close", w.autoClose(ctx))
}

func (w *ticketWorkflow) shouldContinueAsNew(ctx workflow.Context) bool {
	if IsTerminal(w.st.Ticket.BaseStatus) {
		return false
	}
	return workflow.GetInfo(ctx).GetContinueAsNewSuggested() ||
		(w.in.MaxChangesPerRun > 0 && w.changes >= w.in.MaxChangesPerRun)
}

// startRun persists what begins this run: the ticket's creation, or (after continue-as-new or
// for a reopen) just the new run ID on the row.
func (w *ticketWorkflow) startRun(ctx workflow.Context) error {
	if w.in.Pending != nil {
		if err := w.persist(ctx, *w.in.Pending); err != nil {
			return err
		}
		w.raise(TriggerEvent{Name: rules.EventCreated, Actor: w.in.Creator, Changes: map[string]rules.Change{},
			ConfigAtLeast: w.in.ConfigGeneration})
		return nil
	}
	// A new run always writes once, so the row learns the run ID (the activity adds it).
	// The run-ID write changes nothing a trigger could care about: it raises no event.
	on := w.triggersOn
	w.triggersOn = false
	defer func() { w.triggersOn = on }()
	return w.apply(ctx, by(SystemActor), func() error { return nil }, func(now time.Time, wr *schema.TicketWrite) {
		w.st.Ticket.RunID = workflow.GetInfo(ctx).WorkflowExecution.RunID
	})
}

// apply runs one change under the workflow's mutex: it checks the change against the current
// state (the validator saw the state before any change still in flight), mutates the state,
// persists it and publishes it to search attributes.
func (w *ticketWorkflow) apply(ctx workflow.Context, why cause, check func() error, mutate func(time.Time, *schema.TicketWrite)) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	if err := check(); err != nil {
		return err
	}
	now := workflow.Now(ctx).UTC()
	wr := schema.TicketWrite{}
	before, saved := w.st.Ticket, w.st
	mutate(now, &wr)
	w.trackSLA(ctx, now, before, &wr, why)
	if len(wr.Actions)+len(wr.Statuses)+len(wr.Owners)+len(wr.SLAEvents) == 0 && reflect.DeepEqual(before, w.st.Ticket) {
		return nil // nothing changed: nothing to write
	}
	w.st.Ticket.Seq++
	if !why.bookkeeping {
		w.st.Ticket.UpdatedAt = now
	}
	for _, a := range wr.Actions {
		if a.Type == "public" {
			w.st.LastPublicActionAt = &now
		}
	}
	wr.Ticket = w.st.Ticket
	if err := w.persist(ctx, wr); err != nil {
		w.rollback(ctx, saved)
		return err
	}
	w.version++
	w.changes++
	w.raise(changeEvents(before, w.st.Ticket, wr, why)...)
	return nil
}

// rollback forgets a change that could not be written (PostgreSQL refused it for longer than
// the projection retries): memory never runs ahead of the row, and the next change does not
// write this one's leftovers. Runs that failed a write before this existed kept the change.
func (w *ticketWorkflow) rollback(ctx workflow.Context, saved TicketState) {
	if workflow.GetVersion(ctx, "rollback-unwritten", workflow.DefaultVersion, 1) >= 1 {
		w.st = saved
	}
}

// raise queues events for the triggers, when this run evaluates them.
func (w *ticketWorkflow) raise(events ...TriggerEvent) {
	if w.triggersOn {
		w.events = append(w.events, events...)
	}
}

// persist writes the change and publishes the searchable fields.
func (w *ticketWorkflow) persist(ctx workflow.Context, wr schema.TicketWrite) error {
	if err := persistTicket(ctx, wr); err != nil {
		return err
	}
	return w.upsertSearchAttributes(ctx)
}

func persistTicket(ctx workflow.Context, wr schema.TicketWrite) error {
	return workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityPersistTicket, wr).Get(ctx, nil)
}

// upsertSearchAttributes publishes the ticket's searchable fields when they changed.
func (w *ticketWorkflow) upsertSearchAttributes(ctx workflow.Context) error {
	current := searchAttributeValues(w.st.Ticket)
	if slices.Equal(current, w.lastSA) {
		return nil
	}
	w.lastSA = current
	return workflow.UpsertTypedSearchAttributes(ctx, searchAttributeUpdates(w.st.Ticket)...)
}

func searchAttributeValues(t schema.Ticket) []any {
	v := []any{t.ID, t.Status, t.BaseStatus, t.Urgency, deref(t.OwnerID), deref(t.TeamID)}
	if hasSLA(t) {
		v = append(v, nearestDue(t))
	}
	return v
}

// hasSLA: the ticket has, or had, deadlines. Tickets without publish no SlaDue at all, as
// before SLAs existed.
func hasSLA(t schema.Ticket) bool {
	return t.SLAPolicyID != nil || t.SLAResponseDue != nil || t.SLASolutionDue != nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (w *ticketWorkflow) autoClose(ctx workflow.Context) error {
	return w.apply(ctx, by(SystemActor), func() error {
		if w.st.Ticket.BaseStatus != schema.BaseResolved {
			return Conflict("ticket is no longer resolved")
		}
		return nil
	}, func(now time.Time, wr *schema.TicketWrite) {
		w.moveStatus(now, wr, SystemActor, schema.BaseClosed, schema.BaseClosed, "")
	})
}

// moveStatus closes the open status entry and opens the next one, keeping the resolved and
// closed times in step with the base status.
func (w *ticketWorkflow) moveStatus(now time.Time, wr *schema.TicketWrite, by Actor, status, base, justification string) {
	t := &w.st.Ticket
	prev := w.st.Status
	prev.EndedAt = &now
	next := schema.StatusChange{TicketID: t.ID, Seq: prev.Seq + 1, Status: status, BaseStatus: base,
		Justification: justification, ChangedBy: by.ID, StartedAt: now}
	wr.Statuses = append(wr.Statuses, prev, next)
	w.st.Status = next
	switch base {
	case schema.BaseResolved:
		if t.BaseStatus != schema.BaseResolved {
			t.ResolvedAt = &now
		}
	case schema.BaseClosed:
		t.ClosedAt = &now
	case schema.BaseCanceled:
	default:
		t.ResolvedAt, t.ClosedAt = nil, nil
	}
	t.Status, t.BaseStatus = status, base
}

// moveOwner closes the open owner entry and opens the next one.
func (w *ticketWorkflow) moveOwner(now time.Time, wr *schema.TicketWrite, by Actor, owner, team *string) {
	t := &w.st.Ticket
	if w.st.Owner.Seq > 0 {
		prev := w.st.Owner
		prev.EndedAt = &now
		wr.Owners = append(wr.Owners, prev)
	}
	next := schema.OwnerChange{TicketID: t.ID, Seq: w.st.Owner.Seq + 1, OwnerID: owner, TeamID: team,
		ChangedBy: by.ID, StartedAt: now}
	wr.Owners = append(wr.Owners, next)
	w.st.Owner = next
	t.OwnerID, t.TeamID = owner, team
}

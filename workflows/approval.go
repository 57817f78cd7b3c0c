package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

// ErrTypeForbidden is a decision by someone who is not an approver of the request now (403).
const ErrTypeForbidden = "Forbidden"

// Approval is the workflow of one approval request: it asks the approvers stage by stage,
// reminds the pending ones on durable timers, takes their decisions (the Decide update),
// expires, and reports the outcome to its ticket. The request's row is its read model.
func Approval(ctx workflow.Context, in ApprovalInput) (schema.ApprovalRequest, error) {
	w := &approvalWorkflow{in: in}
	fresh := in.State == nil
	if fresh {
		w.st.Request = schema.ApprovalRequest{ID: in.ID, TicketID: in.TicketID, RuleID: in.Spec.RuleID,
			RuleName: in.Spec.RuleName, State: schema.ApprovalPending, Type: in.Spec.Type, Quorum: in.Spec.Quorum,
			Steps: []schema.ApprovalStep{}, RequestedBy: in.RequestedBy.ID, RequesterID: in.RequesterID}
	} else {
		w.st = *in.State
	}
	if err := w.setup(ctx); err != nil {
		return w.st.Request, err
	}
	return w.run(ctx, fresh)
}

type approvalWorkflow struct {
	in       ApprovalInput
	st       ApprovalState
	mu       workflow.Mutex
	version  int
	changed  []string // people whose part in the request to check again
	deadline *deadline
	lastSA   []string
}

func (w *approvalWorkflow) setup(ctx workflow.Context) error {
	w.mu = workflow.NewMutex(ctx)
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (schema.ApprovalRequest, error) { return w.st.Request, nil }); err != nil {
		return err
	}
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide, w.decide,
		workflow.UpdateHandlerOptions{Validator: acceptBy(w.validateDecide)})
	if err != nil {
		return err
	}
	ch := workflow.GetSignalChannel(ctx, SignalApproversChanged)
	workflow.Go(ctx, func(ctx workflow.Context) {
		for {
			var sig ApproversChanged
			ch.Receive(ctx, &sig)
			w.changed = append(w.changed, sig.PersonID)
		}
	})
	return nil
}

func (w *approvalWorkflow) run(ctx workflow.Context, fresh bool) (schema.ApprovalRequest, error) {
	w.deadline = newDeadline(ctx)
	w.lastSA = []string{"pending"}
	// A notice queued by a decision while the outbox was being sent once waited for the next
	// timer (TestApprovalWriteStall); runs that started before the fix replay the old wait.
	outboxWakes := workflow.GetVersion(ctx, "approval-outbox-wake", workflow.DefaultVersion, 1) >= 1
	if fresh {
		if err := w.locked(ctx, w.begin); err != nil {
			return w.cancelOrFail(ctx, err)
		}
	}
	for w.st.Request.State == schema.ApprovalPending {
		if err := w.sendOutbox(ctx); err != nil {
			return w.cancelOrFail(ctx, err)
		}
		seen := w.version
		wake := func() bool {
			return w.version != seen || len(w.changed) > 0 || w.st.Request.State != schema.ApprovalPending ||
				(outboxWakes && len(w.st.Outbox) > 0)
		}
		woke := true
		var err error
		if due, ok := w.nextDue(); ok {
			woke, err = w.deadline.await(ctx, due, wake)
		} else {
			w.deadline.stop()
			err = workflow.Await(ctx, wake)
		}
		if err == nil {
			switch {
			case len(w.changed) > 0:
				err = w.locked(ctx, w.recheck)
			case !woke:
				err = w.locked(ctx, w.fireDue)
			}
		}
		if err != nil {
			return w.cancelOrFail(ctx, err)
		}
		if w.st.Request.State == schema.ApprovalPending && workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
				return w.cancelOrFail(ctx, err)
			}
			next := w.in
			st := w.st
			next.State = &st
			return w.st.Request, workflow.NewContinueAsNewError(ctx, ApprovalWorkflowType, next)
		}
	}
	w.deadline.stop()
	return w.finish(ctx)
}

// locked runs f under the workflow's mutex, so a decision and a timer never interleave.
func (w *approvalWorkflow) locked(ctx workflow.Context, f func(workflow.Context) error) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	return f(ctx)
}

// begin computes the expiry and asks the first stage.
func (w *approvalWorkflow) begin(ctx workflow.Context) error {
	now := workflow.Now(ctx).UTC()
	w.st.Request.CreatedAt = now
	if err := w.setExpiry(ctx, now); err != nil {
		return err
	}
	if err := w.startStage(ctx, 0); err != nil {
		return err
	}
	if err := w.settle(ctx); err != nil {
		return err
	}
	return w.persist(ctx)
}

// setExpiry sets when the request expires, counted from now.
func (w *approvalWorkflow) setExpiry(ctx workflow.Context, now time.Time) error {
	if w.in.Spec.ExpireAfter <= 0 {
		return nil
	}
	at := now.Add(w.in.Spec.ExpireAfter)
	if w.in.Spec.CalendarID != "" {
		in := ApprovalExpiryInput{From: now, After: w.in.Spec.ExpireAfter, CalendarID: w.in.Spec.CalendarID}
		if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityApprovalExpiry, in).Get(ctx, &at); err != nil {
			return err
		}
	}
	w.st.Request.ExpiresAt = &at
	return nil
}

// startStage resolves the stage's approver entries now (a role's holders, a boss) and asks
// each person once.
func (w *approvalWorkflow) startStage(ctx workflow.Context, stage int) error {
	w.st.Stage, w.st.Escalation = stage, false
	entries := w.in.Spec.Approvers
	first := 0
	if w.in.Spec.Type == ApprovalSequential {
		entries, first = entries[stage:stage+1], stage
	}
	var res ResolveResult
	in := ResolveInput{TicketID: w.in.TicketID, RequesterID: w.in.RequesterID, Entries: entries}
	if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityResolveApprovers, in).Get(ctx, &res); err != nil {
		return err
	}
	now := workflow.Now(ctx).UTC()
	for i, e := range entries {
		r := ResolvedEntry{}
		if i < len(res.Entries) {
			r = res.Entries[i]
		}
		if len(r.PersonIDs) == 0 {
			w.st.Request.Steps = append(w.st.Request.Steps, schema.ApprovalStep{Stage: stage, Entry: first + i, Kind: e.Kind,
				State: schema.StepRemoved, Reason: "nobody to ask: " + r.Reason, RemindedAt: []time.Time{}})
			continue
		}
		for _, p := range r.PersonIDs {
			w.ask(now, stage, first+i, e.Kind, p, "")
		}
	}
	return nil
}

// ask adds a pending step for person (unless the stage asks them already) and queues the
// notice with their one-time link.
func (w *approvalWorkflow) ask(now time.Time, stage, entry int, kind, person, reason string) {
	for _, s := range w.st.Request.Steps {
		if s.Stage == stage && s.ApproverID == person && s.State == schema.StepPending {
			return
		}
	}
	w.st.Request.Steps = append(w.st.Request.Steps, schema.ApprovalStep{ApproverID: person, Stage: stage, Entry: entry,
		Kind: kind, State: schema.StepPending, AskedAt: &now, RemindedAt: []time.Time{}, Reason: reason})
	if person == schema.WildcardApprover {
		return // anyone may decide it: the request shows in every agent's inbox instead
	}
	until := now.Add(DefaultLinkValidity)
	if e := w.st.Request.ExpiresAt; e != nil {
		until = *e
	}
	w.st.Outbox = append(w.st.Outbox, ApprovalNotice{RequestID: w.in.ID, TicketID: w.in.TicketID, ApproverID: person,
		Kind: NoticeAsked, N: len(w.st.Request.Steps), LinkUntil: until,
		Message: fmt.Sprintf("Your approval is requested for ticket %d (%s).", w.in.TicketID, w.in.Spec.RuleName)})
}

// noticeCtx runs a notice: one short write, so an attempt lost with a killed worker is retried
// after seconds, not after activityCtx's 30.
func noticeCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: time.Minute},
	})
}

// DefaultLinkValidity is how long a decision link works when the request does not expire.
const DefaultLinkValidity = 7 * 24 * time.Hour

// settle moves the request on as far as its steps allow: the next stage once a stage is
// approved, the end once the outcome is certain, the next stage or an escalation when a stage
// has nobody left. A request never waits on nobody.
func (w *approvalWorkflow) settle(ctx workflow.Context) error {
	spec := w.in.Spec
	for w.st.Request.State == schema.ApprovalPending {
		c := counts(w.st.Request.Steps, w.st.Stage, w.st.Escalation)
		out := stageOutcome(spec, c, w.st.Escalation)
		last := w.st.Escalation || w.st.Stage+1 >= stages(spec)
		switch {
		case out == schema.ApprovalApproved && !last:
			w.notNeeded(w.st.Stage, "the stage was approved")
			if err := w.startStage(ctx, w.st.Stage+1); err != nil {
				return err
			}
		case out != "":
			w.end(ctx, out, out+" at stage "+fmt.Sprint(w.st.Stage+1))
		case c.seats == 0 && !last:
			if err := w.startStage(ctx, w.st.Stage+1); err != nil {
				return err
			}
		case c.seats == 0:
			if err := w.escalate(ctx, "nobody left to approve"); err != nil {
				return err
			}
		default:
			return nil
		}
	}
	return nil
}

// escalate hands the stage to the next level of the escalation chain that has somebody: the
// superior of the last approver who left (past inactive people), the wildcard approvers when
// the rule names the wildcard, then the admins. With nobody at any level the request expires.
func (w *approvalWorkflow) escalate(ctx workflow.Context, why string) error {
	in := EscalationInput{After: w.lastLeft(), Level: w.st.Level + 1,
		Wildcard: slices.ContainsFunc(w.in.Spec.Approvers, func(e schema.ApproverEntry) bool { return e.Kind == ApproverWildcard })}
	for _, s := range w.st.Request.Steps {
		if s.AskedAt != nil {
			in.Exclude = append(in.Exclude, s.ApproverID)
		}
	}
	var res EscalationResult
	if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityResolveEscalation, in).Get(ctx, &res); err != nil {
		return err
	}
	if len(res.PersonIDs) == 0 {
		w.end(ctx, schema.ApprovalExpired, why+"; nobody to escalate to")
		return nil
	}
	w.st.Escalation, w.st.Level = true, res.Level
	now := workflow.Now(ctx).UTC()
	for _, p := range res.PersonIDs {
		w.ask(now, w.st.Stage, -1, ApproverEscalation, p, why+"; escalated to "+res.Kind)
	}
	return nil
}

// lastLeft is the approver whose superiors an escalation starts from: the last one removed or
// escalated, else the requester.
func (w *approvalWorkflow) lastLeft() string {
	steps := w.st.Request.Steps
	for i := len(steps) - 1; i >= 0; i-- {
		s := steps[i]
		if (s.State == schema.StepRemoved || s.State == schema.StepEscalated) && s.ApproverID != "" && s.ApproverID != schema.WildcardApprover {
			return s.ApproverID
		}
	}
	return w.in.RequesterID
}

// notNeeded ends the pending steps of stage, telling their approvers.
func (w *approvalWorkflow) notNeeded(stage int, why string) {
	for i := range w.st.Request.Steps {
		s := &w.st.Request.Steps[i]
		if s.State != schema.StepPending || (stage >= 0 && s.Stage != stage) {
			continue
		}
		s.State, s.Reason = schema.StepNotNeeded, why
		if s.ApproverID != schema.WildcardApprover {
			w.st.Outbox = append(w.st.Outbox, ApprovalNotice{RequestID: w.in.ID, TicketID: w.in.TicketID, ApproverID: s.ApproverID,
				Kind: NoticeNotNeeded, N: i + 1, Message: fmt.Sprintf("Your approval for ticket %d (%s) is no longer needed: %s.",
					w.in.TicketID, w.in.Spec.RuleName, why)})
		}
	}
}

// end decides the request.
func (w *approvalWorkflow) end(ctx workflow.Context, state, reason string) {
	now := workflow.Now(ctx).UTC()
	w.st.Request.State, w.st.Request.EndReason, w.st.Request.EndedAt = state, reason, &now
	w.notNeeded(-1, "the request is "+state)
}

// persist writes the request's row (its seq orders the writes) and publishes its search
// attributes.
func (w *approvalWorkflow) persist(ctx workflow.Context) error {
	r := &w.st.Request
	r.Seq++
	r.UpdatedAt = workflow.Now(ctx).UTC()
	r.Pending = pendingApprovers(r.Steps)
	if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityPersistApproval, *r).Get(ctx, nil); err != nil {
		return err
	}
	sa := append([]string{r.State}, r.Pending...)
	if slices.Equal(sa, w.lastSA) {
		return nil
	}
	w.lastSA = sa
	return workflow.UpsertTypedSearchAttributes(ctx, SAApprovalState.ValueSet(r.State), SAApprovers.ValueSet(r.Pending))
}

// nextDue is the next reminder of a pending step or the expiry, whichever comes first.
func (w *approvalWorkflow) nextDue() (time.Time, bool) {
	var due time.Time
	found := false
	consider := func(t time.Time) {
		if !found || t.Before(due) {
			due, found = t, true
		}
	}
	for _, s := range w.st.Request.Steps {
		if at, ok := w.reminderDue(s); ok {
			consider(at)
		}
	}
	if e := w.st.Request.ExpiresAt; e != nil {
		consider(*e)
	}
	return due, found
}

// reminderDue is when step's next reminder falls due: First after it was asked, then every
// Every, at most Max.
func (w *approvalWorkflow) reminderDue(s schema.ApprovalStep) (time.Time, bool) {
	spec := w.in.Spec
	n := len(s.RemindedAt)
	if s.State != schema.StepPending || s.AskedAt == nil || s.ApproverID == schema.WildcardApprover || n >= spec.ReminderMax {
		return time.Time{}, false
	}
	if n > 0 && spec.ReminderEvery <= 0 {
		return time.Time{}, false
	}
	return s.AskedAt.Add(spec.ReminderFirst + time.Duration(n)*spec.ReminderEvery), true
}

// fireDue sends the reminders due and expires the request when its time is up.
func (w *approvalWorkflow) fireDue(ctx workflow.Context) error {
	now := workflow.Now(ctx).UTC()
	var sends []workflow.Future
	var steps []int
	for i, s := range w.st.Request.Steps {
		due, ok := w.reminderDue(s)
		if !ok || due.After(now) {
			continue
		}
		n := ApprovalNotice{RequestID: w.in.ID, TicketID: w.in.TicketID, ApproverID: s.ApproverID, Kind: NoticeReminder,
			N: len(s.RemindedAt) + 1, Message: fmt.Sprintf("Reminder %d: your approval is requested for ticket %d (%s).",
				len(s.RemindedAt)+1, w.in.TicketID, w.in.Spec.RuleName)}
		sends = append(sends, workflow.ExecuteActivity(noticeCtx(ctx), ActivityNotifyApprover, n))
		steps = append(steps, i)
	}
	for k, f := range sends {
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
		s := &w.st.Request.Steps[steps[k]]
		s.RemindedAt = append(s.RemindedAt, workflow.Now(ctx).UTC())
	}
	if e := w.st.Request.ExpiresAt; e != nil && !e.After(now) {
		if err := w.expire(ctx, now); err != nil {
			return err
		}
	}
	if err := w.settle(ctx); err != nil {
		return err
	}
	w.version++
	return w.persist(ctx)
}

// expire ends the request with the rule's expiry outcome; escalate hands the pending stage on
// once (with a fresh expiry), and a second expiry rejects.
func (w *approvalWorkflow) expire(ctx workflow.Context, now time.Time) error {
	if w.in.Spec.OnExpire != ExpireEscalate || w.st.ExpiryEscalated {
		w.end(ctx, schema.ApprovalExpired, "expired after "+w.in.Spec.ExpireAfter.String())
		return nil
	}
	w.st.ExpiryEscalated = true
	for i := range w.st.Request.Steps {
		if s := &w.st.Request.Steps[i]; s.State == schema.StepPending {
			s.State, s.Reason = schema.StepEscalated, "did not decide in time"
		}
	}
	if err := w.setExpiry(ctx, now); err != nil {
		return err
	}
	return w.escalate(ctx, "expired after "+w.in.Spec.ExpireAfter.String())
}

// recheck takes in who changed (deactivated, another job role or team): a pending approver no
// longer named by their entry is removed, a boss replaced by the next active superior, and the
// request moves on (settle).
func (w *approvalWorkflow) recheck(ctx workflow.Context) error {
	changed := w.changed
	w.changed = nil
	var check []int
	for i, s := range w.st.Request.Steps {
		if s.State == schema.StepPending && slices.Contains(changed, s.ApproverID) {
			check = append(check, i)
		}
	}
	if len(check) == 0 {
		return nil
	}
	in := ResolveInput{TicketID: w.in.TicketID, RequesterID: w.in.RequesterID, Check: changed}
	for _, i := range check {
		in.Entries = append(in.Entries, w.entryOf(w.st.Request.Steps[i]))
	}
	var res ResolveResult
	if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityResolveApprovers, in).Get(ctx, &res); err != nil {
		return err
	}
	now := workflow.Now(ctx).UTC()
	for k, i := range check {
		s := w.st.Request.Steps[i]
		still := k < len(res.Entries) && slices.Contains(res.Entries[k].PersonIDs, s.ApproverID)
		if s.Kind == ApproverEscalation {
			still = !slices.Contains(res.Inactive, s.ApproverID)
		}
		if still {
			continue
		}
		why := "no longer named by the " + s.Kind + " approver"
		if slices.Contains(res.Inactive, s.ApproverID) {
			why = "deactivated"
		}
		w.st.Request.Steps[i].State, w.st.Request.Steps[i].Reason = schema.StepRemoved, why
		if s.Kind == ApproverBoss && k < len(res.Entries) {
			for _, p := range res.Entries[k].PersonIDs {
				if !askedBefore(w.st.Request.Steps, p) {
					w.ask(now, s.Stage, s.Entry, s.Kind, p, "asked instead of "+s.ApproverID+" ("+why+")")
				}
			}
		}
	}
	if err := w.settle(ctx); err != nil {
		return err
	}
	w.version++
	return w.persist(ctx)
}

// entryOf is the approver entry a step was asked for (an escalation's: the person itself).
func (w *approvalWorkflow) entryOf(s schema.ApprovalStep) schema.ApproverEntry {
	if s.Entry >= 0 && s.Entry < len(w.in.Spec.Approvers) {
		return w.in.Spec.Approvers[s.Entry]
	}
	return schema.ApproverEntry{Kind: ApproverPerson, PersonID: s.ApproverID}
}

// sendOutbox sends the queued notices (asked, no longer needed), each once: the activity is
// keyed by request, approver, kind and number.
func (w *approvalWorkflow) sendOutbox(ctx workflow.Context) error {
	if len(w.st.Outbox) == 0 {
		return nil
	}
	out := w.st.Outbox
	futures := make([]workflow.Future, len(out))
	for i, n := range out {
		futures[i] = workflow.ExecuteActivity(noticeCtx(ctx), ActivityNotifyApprover, n)
	}
	for _, f := range futures {
		if err := f.Get(ctx, nil); err != nil {
			return err
		}
	}
	w.st.Outbox = w.st.Outbox[len(out):]
	return nil
}

// finish tells the last approvers and the ticket the outcome.
func (w *approvalWorkflow) finish(ctx workflow.Context) (schema.ApprovalRequest, error) {
	if err := w.sendOutbox(ctx); err != nil {
		return w.cancelOrFail(ctx, err)
	}
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return w.cancelOrFail(ctx, err)
	}
	if w.st.Reported {
		return w.st.Request, nil
	}
	spec, r := w.in.Spec, w.st.Request
	approved := r.State == schema.ApprovalApproved || (r.State == schema.ApprovalExpired && spec.OnExpire == ExpireApprove && !w.st.ExpiryEscalated)
	outcome := spec.OnRejected
	if approved {
		outcome = spec.OnApproved
	}
	rec := RecordOnTicketInput{TicketID: w.in.TicketID, Record: RecordApprovalInput{ApprovalID: w.in.ID, State: r.State,
		Approved: approved, Outcome: outcome, PreviousStatus: w.in.PreviousStatus, PreviousBase: w.in.PreviousBase,
		WaitingStatus: spec.WaitingStatus, Reason: r.EndReason}}
	if err := workflow.ExecuteActivity(activityCtx(ctx), ActivityRecordApprovalOnTicket, rec).Get(ctx, nil); err != nil {
		var appErr *temporal.ApplicationError
		if !errors.As(err, &appErr) || appErr.Type() != "TicketClosed" {
			return w.cancelOrFail(ctx, err)
		}
		workflow.GetLogger(ctx).Warn("approval outcome not recorded on its ticket", "err", err)
	}
	w.st.Reported = true
	return w.st.Request, nil
}

// cancelOrFail ends a request whose ticket closed (the ticket cancels its open requests):
// every pending step and the request become canceled, written on a context the cancellation
// does not reach. Any other error fails the run.
func (w *approvalWorkflow) cancelOrFail(ctx workflow.Context, err error) (schema.ApprovalRequest, error) {
	if !temporal.IsCanceledError(err) {
		return w.st.Request, err
	}
	dctx, _ := workflow.NewDisconnectedContext(ctx)
	now := workflow.Now(dctx).UTC()
	for i := range w.st.Request.Steps {
		if s := &w.st.Request.Steps[i]; s.State == schema.StepPending {
			s.State, s.Reason = schema.StepCanceled, "the ticket was closed or canceled"
		}
	}
	r := &w.st.Request
	r.State, r.EndReason, r.EndedAt = schema.ApprovalCanceled, "the ticket was closed or canceled", &now
	return w.st.Request, w.persist(dctx)
}

// --- Decide

func (w *approvalWorkflow) validateDecide(ctx workflow.Context, in DecideInput) error {
	r := w.st.Request
	if r.State != schema.ApprovalPending {
		return Conflict("approval %s is %s: %s", r.ID, r.State, r.EndReason)
	}
	switch in.Decision {
	case DecisionApprove:
	case DecisionReject:
		if strings.TrimSpace(in.Comment) == "" {
			return Invalid("comment", "is required when rejecting")
		}
	default:
		return Invalid("decision", "must be approve or reject, got %q", in.Decision)
	}
	_, _, err := w.stepFor(ctx, in)
	return err
}

// stepFor finds the step the caller decides: their own pending step in the stage being
// decided, else one of a person who delegated to them (inside the window, never a delegate's
// delegate: the API names only direct delegations), else the wildcard seat for an agent with no
// seat of their own.
func (w *approvalWorkflow) stepFor(ctx workflow.Context, in DecideInput) (int, string, error) {
	now := workflow.Now(ctx)
	steps := w.st.Request.Steps
	current := func(s schema.ApprovalStep) bool {
		return s.Stage == w.st.Stage && (!w.st.Escalation || s.Kind == ApproverEscalation)
	}
	for i, s := range steps {
		if s.ApproverID == in.Actor.ID && current(s) {
			if s.State == schema.StepPending {
				return i, "", nil
			}
			if s.DecidedAt != nil {
				return 0, "", Conflict("%s already decided this request: %s", in.Actor.ID, s.Decision)
			}
		}
	}
	for _, s := range steps {
		if s.DecidedBy == in.Actor.ID && s.DecidedAt != nil && current(s) {
			return 0, "", Conflict("%s already decided this request (%s for %s)", in.Actor.ID, s.Decision, s.ApproverID)
		}
	}
	if !in.ViaLink {
		for _, d := range in.For {
			if now.Before(d.From) || !now.Before(d.Until) {
				continue
			}
			for i, s := range steps {
				if s.ApproverID == d.PersonID && s.State == schema.StepPending && current(s) {
					return i, d.PersonID, nil
				}
			}
		}
		if in.Actor.Role == schema.RoleAgent || in.Actor.Role == schema.RoleAdmin {
			for i, s := range steps {
				if s.ApproverID == schema.WildcardApprover && s.State == schema.StepPending && current(s) {
					return i, "", nil
				}
			}
		}
	}
	if w.in.Spec.Type == ApprovalSequential && slices.ContainsFunc(w.in.Spec.Approvers[w.st.Stage+1:], func(e schema.ApproverEntry) bool {
		return e.Kind == ApproverPerson && e.PersonID == in.Actor.ID
	}) {
		return 0, "", forbidden("it is not %s's turn yet: the request is at stage %d", in.Actor.ID, w.st.Stage+1)
	}
	for _, s := range steps { // decided at a stage the request has left: decided twice, not a stranger
		if s.ApproverID == in.Actor.ID && s.DecidedAt != nil {
			return 0, "", Conflict("%s already decided this request at stage %d: %s", in.Actor.ID, s.Stage+1, s.Decision)
		}
	}
	return 0, "", forbidden("%s is not an approver of request %s now (waiting for: %s)", in.Actor.ID, w.st.Request.ID,
		strings.Join(pendingApprovers(steps), ", "))
}

func forbidden(format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), ErrTypeForbidden, nil)
}

func (w *approvalWorkflow) decide(ctx workflow.Context, in DecideInput) (schema.ApprovalRequest, error) {
	if err := w.mu.Lock(ctx); err != nil {
		return w.st.Request, err
	}
	defer w.mu.Unlock()
	if err := w.validateDecide(ctx, in); err != nil { // the state may have moved since the validator
		return w.st.Request, err
	}
	i, onBehalf, _ := w.stepFor(ctx, in)
	now := workflow.Now(ctx).UTC()
	s := &w.st.Request.Steps[i]
	s.State = schema.StepApproved
	if in.Decision == DecisionReject {
		s.State = schema.StepRejected
	}
	s.DecidedAt, s.Decision, s.Comment, s.DecidedBy, s.OnBehalfOf, s.ViaLink = &now, in.Decision, in.Comment, in.Actor.ID, onBehalf, in.ViaLink
	if err := w.settle(ctx); err != nil {
		return w.st.Request, err
	}
	w.version++
	return w.st.Request, w.persist(ctx)
}

package workflows

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/internal/calendar"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// The ticket's SLA. Deadlines are counted from the ticket's opening in the rule's calendar
// (business hours, or calendar time), plus the business time spent paused, to the nanosecond;
// when the ticket moves to another rule the deadlines are recalculated without restarting the
// count. Warnings
// and breaches are durable timers in this workflow that fire once each, record an SLA event and
// raise sla.warning / sla.breached for the triggers, which is where escalation is authored.

// cal is the calendar the choice counts in.
func (c *SLAChoice) cal() *calendar.Calendar {
	if c == nil || c.Calendar == nil {
		return calendar.Always()
	}
	if cal, err := c.Calendar.Compile(); err == nil {
		return cal
	}
	return calendar.Always() // a calendar that no longer compiles counts calendar time
}

// computeDues sets the ticket's deadlines from its choice, unless they were set by hand.
func (w *ticketWorkflow) computeDues() {
	s, t := &w.st.SLA, &w.st.Ticket
	if s.Manual {
		return
	}
	if s.Choice == nil {
		t.SLAPolicyID, t.SLAResponseDue, t.SLASolutionDue = nil, nil, nil
		return
	}
	cal := s.Choice.cal()
	due := func(minutes int) *time.Time {
		if minutes <= 0 {
			return nil
		}
		// Runs that counted whole paused minutes keep them; AddBusiness of whole minutes is
		// AddBusinessMinutes, so their deadlines are what they were.
		target := time.Duration(minutes+s.PausedMinutes)*time.Minute + s.Paused
		d := cal.AddBusiness(t.CreatedAt, target).UTC()
		return &d
	}
	id := s.Choice.PolicyID
	t.SLAPolicyID, t.SLAResponseDue, t.SLASolutionDue = &id, due(s.Choice.ResponseMinutes), due(s.Choice.ResolutionMinutes)
}

// slaEvent records an SLA fact with the change being written.
func (w *ticketWorkflow) slaEvent(wr *schema.TicketWrite, typ, target string, due *time.Time, at time.Time, reason string, by Actor) {
	e := schema.SLAEvent{TicketID: w.st.Ticket.ID, Type: typ, DueAt: due, At: at, Reason: reason,
		DedupeKey: fmt.Sprintf("%d/%d/%s/%s/%d", w.st.Ticket.ID, w.st.Ticket.Seq+1, typ, target, len(wr.SLAEvents))}
	if target != "" {
		e.Target = &target
	}
	if by.ID != "" {
		id := by.ID
		e.ActorID = &id
	}
	wr.SLAEvents = append(wr.SLAEvents, e)
}

// applySLAChoice takes the rule the evaluation chose; a different rule (or an edited policy or
// calendar) recalculates the deadlines and is recorded.
func (w *ticketWorkflow) applySLAChoice(ctx workflow.Context, choice *SLAChoice) error {
	s := &w.st.SLA
	if !w.triggersOn || s.Manual || reflect.DeepEqual(s.Choice, choice) || IsTerminal(w.st.Ticket.BaseStatus) {
		return nil
	}
	first := s.Choice == nil
	return w.apply(ctx, cause{actor: SystemActor, bookkeeping: true}, func() error { return nil }, func(now time.Time, wr *schema.TicketWrite) {
		reason := "rule applied"
		switch {
		case choice == nil:
			reason = "no SLA policy applies any more"
		case !first && (s.Choice.PolicyID != choice.PolicyID || s.Choice.Rule != choice.Rule):
			reason = fmt.Sprintf("moved to policy %s rule %d", choice.PolicyID, choice.Rule+1)
		case !first:
			reason = "the policy or its calendar was edited"
		}
		s.Choice = choice
		w.computeDues()
		typ := schema.SLARecalculated
		if first {
			typ = schema.SLAApplied
		}
		t := w.st.Ticket
		w.slaEvent(wr, typ, schema.TargetResponse, t.SLAResponseDue, now, reason, SystemActor)
		w.slaEvent(wr, typ, schema.TargetResolution, t.SLASolutionDue, now, reason, SystemActor)
	})
}

func (c *SLAChoice) pauses(status, base string) bool {
	return c != nil && (slices.Contains(c.PauseStatuses, status) || slices.Contains(c.PauseStatuses, base))
}

// trackSLA follows a change: an agent's first public reply meets the response target,
// Resolved meets the resolution target, and pause statuses stop the clock.
func (w *ticketWorkflow) trackSLA(ctx workflow.Context, now time.Time, before schema.Ticket, wr *schema.TicketWrite, why cause) {
	s, t := &w.st.SLA, &w.st.Ticket
	if !w.triggersOn || (s.Choice == nil && !s.Manual) {
		return
	}
	if t.SLARealResponseDate == nil && (why.actor.Role == schema.RoleAgent || why.actor.Role == schema.RoleAdmin) &&
		slices.ContainsFunc(wr.Actions, func(a schema.Action) bool { return a.Type == "public" }) {
		t.SLARealResponseDate = &now
		w.slaEvent(wr, schema.SLAMet, schema.TargetResponse, t.SLAResponseDue, now, "first public reply", why.actor)
	}
	if before.BaseStatus != schema.BaseResolved && t.BaseStatus == schema.BaseResolved {
		w.slaEvent(wr, schema.SLAMet, schema.TargetResolution, t.SLASolutionDue, now, "resolved", why.actor)
	}
	wasPaused, paused := s.Choice.pauses(before.Status, before.BaseStatus), s.Choice.pauses(t.Status, t.BaseStatus)
	switch {
	case !wasPaused && paused:
		s.PausedAt, t.SLASolutionDueIsPaused = &now, true
		w.slaEvent(wr, schema.SLAPaused, "", nil, now, "status "+t.Status, why.actor)
	case wasPaused && !paused && s.PausedAt != nil:
		w.addPaused(ctx, *s.PausedAt, now)
		s.PausedAt, t.SLASolutionDueIsPaused = nil, false
		w.computeDues()
		w.slaEvent(wr, schema.SLAResumed, schema.TargetResolution, t.SLASolutionDue, now, "status "+t.Status, why.actor)
	}
}

// addPaused counts a pause that ended: to the nanosecond of business time, or, in runs that
// began counting before that (their histories counted whole minutes, truncated), in minutes.
// The version is asked at the first resume, so tickets that never pause record no marker.
func (w *ticketWorkflow) addPaused(ctx workflow.Context, from, to time.Time) {
	s := &w.st.SLA
	if workflow.GetVersion(ctx, "sla-exact-pause", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		s.PausedMinutes += s.Choice.cal().BusinessMinutesBetween(from, to)
		return
	}
	s.Paused += s.Choice.cal().BusinessBetween(from, to)
}

// slaTarget is a deadline the workflow keeps a timer for.
type slaTarget struct {
	kind   string // schema.SLAWarning or schema.SLABreached
	target string
	due    time.Time // the target's deadline
	at     time.Time // when this timer fires
}

func (x slaTarget) key() string { return fmt.Sprintf("%s/%s@%d", x.kind, x.target, x.due.UnixNano()) }

// nextSLATimer is the earliest warning or breach still to fire; none while paused.
func (w *ticketWorkflow) nextSLATimer() (slaTarget, bool) {
	s, t := &w.st.SLA, &w.st.Ticket
	if !w.triggersOn || s.PausedAt != nil || (s.Choice == nil && !s.Manual) {
		return slaTarget{}, false
	}
	lead := time.Duration(0)
	if s.Choice != nil {
		lead = time.Duration(s.Choice.WarningMinutes) * time.Minute
	}
	var candidates []slaTarget
	add := func(target string, due *time.Time) {
		if due == nil {
			return
		}
		if lead > 0 {
			candidates = append(candidates, slaTarget{schema.SLAWarning, target, *due, due.Add(-lead)})
		}
		candidates = append(candidates, slaTarget{schema.SLABreached, target, *due, *due})
	}
	if t.SLARealResponseDate == nil {
		add(schema.TargetResponse, t.SLAResponseDue)
	}
	if t.BaseStatus != schema.BaseResolved && !IsTerminal(t.BaseStatus) {
		add(schema.TargetResolution, t.SLASolutionDue)
	}
	var next slaTarget
	found := false
	for _, c := range candidates {
		if slices.Contains(s.Fired, c.key()) {
			continue
		}
		if !found || c.at.Before(next.at) {
			next, found = c, true
		}
	}
	return next, found
}

// fireSLA records a warning or breach, once, and lets the triggers escalate.
func (w *ticketWorkflow) fireSLA(ctx workflow.Context, x slaTarget) error {
	s := &w.st.SLA
	err := w.apply(ctx, cause{actor: SystemActor, bookkeeping: true}, func() error { return nil }, func(now time.Time, wr *schema.TicketWrite) {
		s.Fired = append(s.Fired, x.key())
		if n := len(s.Fired); n > 50 {
			s.Fired = s.Fired[n-50:]
		}
		due := x.due
		w.slaEvent(wr, x.kind, x.target, &due, now, "", SystemActor)
	})
	if err != nil {
		return err
	}
	name := rules.EventSLAWarning
	if x.kind == schema.SLABreached {
		name = rules.EventSLABreached
	}
	w.raise(TriggerEvent{Name: name, Actor: SystemActor, Changes: map[string]rules.Change{},
		Payload: map[string]any{"target": x.target, "dueAt": x.due.Format(time.RFC3339)}})
	return nil
}

// nearestDue is the next unmet deadline, for the SlaDue search attribute.
func nearestDue(t schema.Ticket) *time.Time {
	var due *time.Time
	consider := func(d *time.Time) {
		if d != nil && (due == nil || d.Before(*due)) {
			due = d
		}
	}
	if t.SLARealResponseDate == nil {
		consider(t.SLAResponseDue)
	}
	if t.BaseStatus != schema.BaseResolved && !IsTerminal(t.BaseStatus) {
		consider(t.SLASolutionDue)
	}
	return due
}

// --- SetSLADue

func (w *ticketWorkflow) validateSetSLADue(ctx workflow.Context, in SetSLADueInput) error {
	if err := checkStaff(in.Actor); err != nil {
		return err
	}
	if in.ResponseDue == nil && in.SolutionDue == nil {
		return Invalid("solutionDue", "give solutionDue, responseDue or both")
	}
	return w.checkOpen()
}

// setSLADue sets deadlines by hand; from then on they are not recalculated.
func (w *ticketWorkflow) setSLADue(ctx workflow.Context, in SetSLADueInput) (schema.Ticket, error) {
	err := w.apply(ctx, cause{actor: in.Actor, bookkeeping: true}, func() error { return w.validateSetSLADue(ctx, in) }, func(now time.Time, wr *schema.TicketWrite) {
		t := &w.st.Ticket
		w.st.SLA.Manual = true
		by := in.Actor.ID
		t.SLAManualBy = &by
		if in.ResponseDue != nil {
			d := in.ResponseDue.UTC()
			t.SLAResponseDue = &d
			w.slaEvent(wr, schema.SLAManual, schema.TargetResponse, &d, now, in.Reason, in.Actor)
		}
		if in.SolutionDue != nil {
			d := in.SolutionDue.UTC()
			t.SLASolutionDue = &d
			w.slaEvent(wr, schema.SLAManual, schema.TargetResolution, &d, now, in.Reason, in.Actor)
		}
	})
	return w.st.Ticket, err
}

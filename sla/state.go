package sla

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

// A ticket's SLA state as readers see it, from the deadlines its workflow stored: the summary
// state, whether it is overdue (also as SQL, for list filters) and its nearest deadline.

// States of a ticket's SLA, as the API shows them (`slaState`).
const (
	StateNone     = "none"
	StateOnTime   = "on_time"
	StateDueToday = "due_today"
	StateOverdue  = "overdue"
	StateOnHold   = "on_hold"
)

// finished tells whether a ticket's deadlines are behind it: resolved, closed or canceled.
func finished(base string) bool {
	return base == schema.BaseResolved || base == schema.BaseClosed || base == schema.BaseCanceled
}

// NextDue is the nearest deadline still to meet: the response one while there has been no
// response, and the solution one.
func NextDue(t *schema.Ticket) *time.Time {
	var due *time.Time
	if t.SLAResponseDue != nil && t.SLARealResponseDate == nil {
		due = t.SLAResponseDue
	}
	if t.SLASolutionDue != nil && (due == nil || t.SLASolutionDue.Before(*due)) {
		due = t.SLASolutionDue
	}
	return due
}

// Overdue is the ticket's computed `overdue`: open, not paused, and a deadline still to
// meet has passed.
func Overdue(t *schema.Ticket, now time.Time) bool {
	if finished(t.BaseStatus) || t.SLASolutionDueIsPaused {
		return false
	}
	due := NextDue(t)
	return due != nil && due.Before(now)
}

// State sums up a ticket's SLA. A ticket with no deadline has none. A resolved, closed or
// canceled ticket is overdue when its solution deadline was breached (breached: an SLA event
// says so), else on time, whether paused or not. An open one is on hold while paused; else
// overdue once a deadline still to meet has passed, due today when the nearest one falls before
// the end of the current UTC day, else on time.
func State(t *schema.Ticket, breached bool, now time.Time) string {
	switch {
	case t.SLAResponseDue == nil && t.SLASolutionDue == nil:
		return StateNone
	case finished(t.BaseStatus):
		if breached {
			return StateOverdue
		}
		return StateOnTime
	case t.SLASolutionDueIsPaused:
		return StateOnHold
	}
	due := NextDue(t)
	now = now.UTC()
	endOfDay := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	switch {
	case due == nil:
		return StateOnTime
	case due.Before(now):
		return StateOverdue
	case due.Before(endOfDay):
		return StateDueToday
	}
	return StateOnTime
}

// SolutionBreached tells whether the events record a breach of the solution deadline (an event
// with no target counts as one).
func SolutionBreached(events []schema.SLAEvent) bool {
	for _, e := range events {
		if e.Type == schema.SLABreached && (e.Target == nil || *e.Target != schema.TargetResponse) {
			return true
		}
	}
	return false
}

// OverdueSQL is Overdue as a boolean SQL expression over the tickets table (never null), to
// pass as a query argument.
func OverdueSQL(now time.Time) any {
	return bun.SafeQuery("base_status NOT IN (?) AND NOT sla_solution_due_is_paused"+
		" AND (COALESCE(sla_solution_due < ?, false) OR (sla_real_response_date IS NULL AND COALESCE(sla_response_due < ?, false)))",
		bun.In([]string{schema.BaseResolved, schema.BaseClosed, schema.BaseCanceled}), now, now)
}

package sla

import (
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/schema"
)

func tp(t time.Time) *time.Time { return &t }

func TestSLAState(t *testing.T) {
	// 10:00 UTC: the UTC day ends in 14 hours.
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	past, soon, tonight, tomorrow := now.Add(-time.Minute), now.Add(time.Hour), now.Add(13*time.Hour+59*time.Minute), now.Add(14*time.Hour)
	open := func(mut func(*schema.Ticket)) *schema.Ticket {
		tk := &schema.Ticket{ID: 1, Status: "New", BaseStatus: schema.BaseNew}
		mut(tk)
		return tk
	}
	cases := []struct {
		name     string
		ticket   *schema.Ticket
		breached bool
		state    string
		overdue  bool
	}{
		{"no deadline", open(func(*schema.Ticket) {}), false, StateNone, false},
		{"no deadline, even with a response", open(func(tk *schema.Ticket) { tk.SLARealResponseDate = &past }), false, StateNone, false},
		{"solution due tomorrow", open(func(tk *schema.Ticket) { tk.SLASolutionDue = &tomorrow }), false, StateOnTime, false},
		{"solution due tonight", open(func(tk *schema.Ticket) { tk.SLASolutionDue = &tonight }), false, StateDueToday, false},
		{"solution due in an hour", open(func(tk *schema.Ticket) { tk.SLASolutionDue = &soon }), false, StateDueToday, false},
		{"solution passed", open(func(tk *schema.Ticket) { tk.SLASolutionDue = &past }), false, StateOverdue, true},
		{"solution due exactly now is not yet overdue", open(func(tk *schema.Ticket) { tk.SLASolutionDue = tp(now) }), false, StateDueToday, false},
		{"response passed, not answered", open(func(tk *schema.Ticket) {
			tk.SLAResponseDue, tk.SLASolutionDue = &past, &tomorrow
		}), false, StateOverdue, true},
		{"response passed but answered", open(func(tk *schema.Ticket) {
			tk.SLAResponseDue, tk.SLASolutionDue, tk.SLARealResponseDate = &past, &tomorrow, &past
		}), false, StateOnTime, false},
		{"response due tonight, solution tomorrow", open(func(tk *schema.Ticket) {
			tk.SLAResponseDue, tk.SLASolutionDue = &soon, &tomorrow
		}), false, StateDueToday, false},
		{"response due tonight but answered", open(func(tk *schema.Ticket) {
			tk.SLAResponseDue, tk.SLASolutionDue, tk.SLARealResponseDate = &soon, &tomorrow, &past
		}), false, StateOnTime, false},
		{"only a response deadline, answered", open(func(tk *schema.Ticket) {
			tk.SLAResponseDue, tk.SLARealResponseDate = &past, &past
		}), false, StateOnTime, false},
		{"paused, deadline passed", open(func(tk *schema.Ticket) {
			tk.SLASolutionDue, tk.SLASolutionDueIsPaused, tk.BaseStatus = &past, true, schema.BaseStopped
		}), false, StateOnHold, false},
		{"paused, in attendance", open(func(tk *schema.Ticket) {
			tk.SLASolutionDue, tk.SLASolutionDueIsPaused, tk.BaseStatus = &tomorrow, true, schema.BaseInAttendance
		}), false, StateOnHold, false},
		{"resolved on time", open(func(tk *schema.Ticket) {
			tk.SLASolutionDue, tk.BaseStatus = &past, schema.BaseResolved
		}), false, StateOnTime, false},
		{"resolved late", open(func(tk *schema.Ticket) {
			tk.SLASolutionDue, tk.BaseStatus = &past, schema.BaseResolved
		}), true, StateOverdue, false},
		{"closed late", open(func(tk *schema.Ticket) {
			tk.SLASolutionDue, tk.BaseStatus = &past, schema.BaseClosed
		}), true, StateOverdue, false},
		{"closed on time", open(func(tk *schema.Ticket) {
			tk.SLASolutionDue, tk.BaseStatus = &tomorrow, schema.BaseClosed
		}), false, StateOnTime, false},
		{"canceled", open(func(tk *schema.Ticket) {
			tk.SLASolutionDue, tk.BaseStatus = &past, schema.BaseCanceled
		}), false, StateOnTime, false},
		{"resolved late while paused", open(func(tk *schema.Ticket) {
			tk.SLASolutionDue, tk.SLASolutionDueIsPaused, tk.BaseStatus = &past, true, schema.BaseResolved
		}), true, StateOverdue, false},
	}
	for _, tc := range cases {
		if got := State(tc.ticket, tc.breached, now); got != tc.state {
			t.Errorf("%s: state %q, want %q", tc.name, got, tc.state)
		}
		if got := Overdue(tc.ticket, now); got != tc.overdue {
			t.Errorf("%s: overdue %v, want %v", tc.name, got, tc.overdue)
		}
	}

	// The day is the UTC day, whatever the zone of now.
	sp := time.FixedZone("BRT", -3*3600)
	late := time.Date(2026, 11, 21, 22, 0, 0, 0, sp) // 01:00 UTC on the 22nd
	tk := open(func(tk *schema.Ticket) { tk.SLASolutionDue = tp(time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC)) })
	if got := State(tk, false, late); got != StateDueToday {
		t.Errorf("UTC day: state %q, want due_today", got)
	}
	tk.SLASolutionDue = tp(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC))
	if got := State(tk, false, late); got != StateOnTime {
		t.Errorf("next UTC day: state %q, want on_time", got)
	}
}

func TestSolutionBreached(t *testing.T) {
	resp, res := schema.TargetResponse, schema.TargetResolution
	if SolutionBreached([]schema.SLAEvent{{Type: schema.SLAApplied}, {Type: schema.SLABreached, Target: &resp}}) {
		t.Error("a response breach is not a solution breach")
	}
	if !SolutionBreached([]schema.SLAEvent{{Type: schema.SLABreached, Target: &res}}) {
		t.Error("a resolution breach is one")
	}
	if SolutionBreached([]schema.SLAEvent{{Type: schema.SLAWarning, Target: &res}, {Type: schema.SLAMet, Target: &res}}) {
		t.Error("warnings and met are not breaches")
	}
}

package workflows

import (
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/internal/calendar"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// weekdays9to18 is Mon-Fri 09:00-18:00 in the zone, with the given holidays.
func weekdays9to18(zone string, holidays ...calendar.Holiday) *calendar.Spec {
	day := []calendar.Interval{{Start: "09:00", End: "18:00"}}
	return &calendar.Spec{Timezone: zone, Holidays: holidays, Week: map[string][]calendar.Interval{
		"monday": day, "tuesday": day, "wednesday": day, "thursday": day, "friday": day}}
}

// slaTicket runs a ticket opened at opened with the SLA choice the evaluation reports, and
// records every SLA event written and every sla.* trigger event raised.
func (s *TicketSuite) slaTicket(opened time.Time, choice func(EvaluateInput) *SLAChoice) {
	s.env.SetStartTime(opened)
	s.env.OnActivity(ActivityEvaluateTriggers, mockAny, mockAny).Return(
		func(_ ctxT, in EvaluateInput) (EvaluateResult, error) {
			s.writes.mu.Lock()
			s.writes.asked = append(s.writes.asked, in)
			s.writes.mu.Unlock()
			return EvaluateResult{SLA: choice(in)}, nil
		})
}

func (s *TicketSuite) slaEvents(typ string) []schema.SLAEvent {
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	var out []schema.SLAEvent
	for _, w := range s.writes.all {
		for _, e := range w.SLAEvents {
			if e.Type == typ {
				out = append(out, e)
			}
		}
	}
	return out
}

func inputAt(opened time.Time) TicketInput {
	in := newInput(48 * time.Hour)
	in.State.Ticket.CreatedAt, in.State.Ticket.UpdatedAt = opened, opened
	in.Pending.Ticket.CreatedAt = opened
	in.State.Status.StartedAt = opened
	return in
}

func resolution(minutes int, cal *calendar.Spec) func(EvaluateInput) *SLAChoice {
	return func(EvaluateInput) *SLAChoice {
		return &SLAChoice{PolicyID: "p1", PolicyVersion: 1, ResolutionMinutes: minutes, Calendar: cal,
			PauseStatuses: []string{schema.BaseStopped}}
	}
}

func cancelAt(s *TicketSuite, after time.Duration) {
	s.updateAt(after, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled})
}

// Friday 17:50, 30 business minutes, Mon-Fri 09:00-18:00: due Monday 09:20, breached then.
func (s *TicketSuite) TestSLAFridayEveningIsDueMonday() {
	friday := time.Date(2026, 11, 20, 17, 50, 0, 0, time.UTC)
	s.slaTicket(friday, resolution(30, weekdays9to18("UTC")))
	cancelAt(s, 4*24*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, inputAt(friday))
	s.result()
	monday := time.Date(2026, 11, 23, 9, 20, 0, 0, time.UTC)
	applied := s.slaEvents(schema.SLAApplied)
	s.Require().NotEmpty(applied)
	s.Equal(monday, *applied[len(applied)-1].DueAt)
	breached := s.slaEvents(schema.SLABreached)
	s.Require().Len(breached, 1, "fires once")
	s.Equal(monday, breached[0].At, "breached exactly at the deadline")
}

// A holiday on Monday moves the deadline to Tuesday.
func (s *TicketSuite) TestSLAHolidayIsSkipped() {
	friday := time.Date(2026, 11, 20, 17, 50, 0, 0, time.UTC)
	s.slaTicket(friday, resolution(30, weekdays9to18("UTC", calendar.Holiday{Date: "2026-11-23", Name: "Holiday"})))
	cancelAt(s, 5*24*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, inputAt(friday))
	s.result()
	s.Equal(time.Date(2026, 11, 24, 9, 20, 0, 0, time.UTC), s.slaEvents(schema.SLABreached)[0].At)
}

// Across the spring-forward night in New York the deadline stays at local business time.
func (s *TicketSuite) TestSLAAcrossDST() {
	ny, _ := time.LoadLocation("America/New_York")
	friday := time.Date(2026, 3, 6, 17, 30, 0, 0, ny) // EST; Monday 9 March is EDT
	s.slaTicket(friday.UTC(), resolution(60, weekdays9to18("America/New_York")))
	cancelAt(s, 5*24*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, inputAt(friday.UTC()))
	s.result()
	s.Equal(time.Date(2026, 3, 9, 9, 30, 0, 0, ny).UTC(), s.slaEvents(schema.SLABreached)[0].At.UTC(),
		"30 minutes on Friday, 30 on Monday morning local time")
}

// Paused time does not count: 2 hours in a pause status push the calendar-hours deadline 2 hours.
func (s *TicketSuite) TestSLAPauseAndResume() {
	s.slaTicket(start, resolution(4*60, nil))
	s.updateAt(time.Hour, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: "Waiting", BaseStatus: schema.BaseStopped})
	s.updateAt(3*time.Hour, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseInAttendance, BaseStatus: schema.BaseInAttendance})
	cancelAt(s, 24*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, inputAt(start))
	s.result()
	s.Len(s.slaEvents(schema.SLAPaused), 1)
	resumed := s.slaEvents(schema.SLAResumed)
	s.Require().Len(resumed, 1)
	s.Equal(start.Add(6*time.Hour), *resumed[0].DueAt)
	s.Equal(start.Add(6*time.Hour), s.slaEvents(schema.SLABreached)[0].At, "4 h target + 2 h paused")
}

// Raising the urgency moves the ticket to a shorter rule; the count is not restarted.
func (s *TicketSuite) TestSLARuleChangeRecalculates() {
	s.slaTicket(start, func(in EvaluateInput) *SLAChoice {
		if in.Ticket.Urgency == "Urgent" {
			return &SLAChoice{PolicyID: "p1", Rule: 0, ResolutionMinutes: 120}
		}
		return &SLAChoice{PolicyID: "p1", Rule: 1, ResolutionMinutes: 480}
	})
	urgent := "Urgent"
	s.updateAt(time.Hour, UpdateSetFields, SetFieldsInput{Actor: agent, Urgency: &urgent})
	cancelAt(s, 24*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, inputAt(start))
	s.result()
	re := s.slaEvents(schema.SLARecalculated)
	s.Require().NotEmpty(re)
	s.Equal(start.Add(2*time.Hour), *re[len(re)-1].DueAt, "counted from the opening, not from the change")
	s.Equal(start.Add(2*time.Hour), s.slaEvents(schema.SLABreached)[0].At)
}

// A due date set by hand wins and is no longer recalculated.
func (s *TicketSuite) TestSLAManualDueDate() {
	s.slaTicket(start, resolution(60, nil))
	manual := start.Add(5 * time.Hour)
	s.updateAt(10*time.Minute, UpdateSetSLADue, SetSLADueInput{Actor: agent, SolutionDue: &manual, Reason: "customer agreed"})
	urgent := "Urgent"
	s.updateAt(20*time.Minute, UpdateSetFields, SetFieldsInput{Actor: agent, Urgency: &urgent})
	cancelAt(s, 24*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, inputAt(start))
	t := s.result()
	s.Equal(agent.ID, *t.SLAManualBy)
	s.Equal(manual, s.slaEvents(schema.SLABreached)[0].At, "the manual deadline, not the rule's")
	s.Len(s.slaEvents(schema.SLABreached), 1)
}

// An agent's first public reply before the warning meets the response target: no warning, no breach.
func (s *TicketSuite) TestSLAFirstResponseMetBeforeWarning() {
	s.slaTicket(start, func(EvaluateInput) *SLAChoice {
		return &SLAChoice{PolicyID: "p1", ResponseMinutes: 60, WarningMinutes: 15}
	})
	s.updateAt(30*time.Minute, UpdateAddAction, AddActionInput{Actor: agent, Type: "public", Body: "On it", Origin: 2})
	cancelAt(s, 24*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, inputAt(start))
	t := s.result()
	s.Equal(start.Add(30*time.Minute), *t.SLARealResponseDate)
	met := s.slaEvents(schema.SLAMet)
	s.Require().Len(met, 1)
	s.Equal(schema.TargetResponse, *met[0].Target)
	s.Empty(s.slaEvents(schema.SLAWarning))
	s.Empty(s.slaEvents(schema.SLABreached))
}

// Warning 30 minutes before, then the breach, each once, each raising its trigger event.
func (s *TicketSuite) TestSLAWarningThenBreach() {
	s.slaTicket(start, func(EvaluateInput) *SLAChoice {
		return &SLAChoice{PolicyID: "p1", ResolutionMinutes: 120, WarningMinutes: 30}
	})
	cancelAt(s, 24*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, inputAt(start))
	s.result()
	w := s.slaEvents(schema.SLAWarning)
	b := s.slaEvents(schema.SLABreached)
	s.Require().Len(w, 1)
	s.Require().Len(b, 1)
	s.Equal(start.Add(90*time.Minute), w[0].At)
	s.Equal(start.Add(120*time.Minute), b[0].At)
	var raised []string
	for _, in := range s.writes.asked {
		if in.Event.Name == rules.EventSLAWarning || in.Event.Name == rules.EventSLABreached {
			raised = append(raised, in.Event.Name+":"+in.Event.Payload["target"].(string))
		}
	}
	s.Equal([]string{"sla.warning:resolution", "sla.breached:resolution"}, raised)
}

// pauseAt puts the ticket in a pause status at offset from the test's start and takes it out
// after d.
func (s *TicketSuite) pauseAt(offset, d time.Duration) {
	s.updateAt(offset, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: "Waiting", BaseStatus: schema.BaseStopped})
	s.updateAt(offset+d, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseInAttendance, BaseStatus: schema.BaseInAttendance})
}

// exactPause runs a ticket opened at opened with a resolution target, pausing as pauses says,
// and checks the deadline after the last resume and the breach, to the nanosecond.
func (s *TicketSuite) exactPause(opened time.Time, minutes int, cal *calendar.Spec, want time.Time, pauses func()) {
	s.env.SetStartTime(opened)
	s.slaTicket(opened, resolution(minutes, cal))
	pauses()
	cancelAt(s, 3*24*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, inputAt(opened))
	s.result()
	resumed := s.slaEvents(schema.SLAResumed)
	s.Require().NotEmpty(resumed)
	s.Equal(want, *resumed[len(resumed)-1].DueAt, "the deadline after the last resume")
	breached := s.slaEvents(schema.SLABreached)
	s.Require().Len(breached, 1)
	s.Equal(want, breached[0].At, "breached exactly at the shifted deadline")
}

// A 30-second pause on a 1-minute calendar-hours target moves the deadline 30 seconds.
func (s *TicketSuite) TestSLAPauseOf30SecondsCounts() {
	s.exactPause(start, 1, nil, start.Add(90*time.Second), func() { s.pauseAt(10*time.Second, 30*time.Second) })
}

// 90 seconds are 90 seconds, not one truncated minute.
func (s *TicketSuite) TestSLAPauseOf90SecondsCounts() {
	s.exactPause(start, 1, nil, start.Add(150*time.Second), func() { s.pauseAt(10*time.Second, 90*time.Second) })
}

// 20 pauses of 7 s add 140 s; counted in whole minutes they added nothing.
func (s *TicketSuite) TestSLAManyShortPausesAddUp() {
	s.exactPause(start, 5, nil, start.Add(5*time.Minute+140*time.Second), func() {
		for i := range 20 {
			s.pauseAt(10*time.Second+time.Duration(i)*10*time.Second, 7*time.Second)
		}
	})
}

// In business hours (Mon-Fri 09:00-18:00) a pause from Monday 17:59:30 to Tuesday 09:00:45
// counts its 30 s before the close and 45 s after the opening: the 2-hour target, due Tuesday
// 10:00 without it, is due at 10:01:15.
func (s *TicketSuite) TestSLAPauseOverTheCloseOfBusiness() {
	monday := time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
	s.exactPause(monday, 120, weekdays9to18("UTC"), time.Date(2026, 11, 24, 10, 1, 15, 0, time.UTC), func() {
		s.pauseAt(59*time.Minute+30*time.Second, 15*time.Hour+1*time.Minute+15*time.Second)
	})
}

// A run that counted whole minutes before exact pauses existed (no sla-exact-pause marker in its
// history) keeps counting them: its 30-second pause does not move the 1-minute deadline.
func (s *TicketSuite) TestSLAOldRunsKeepWholeMinutes() {
	s.env.OnGetVersion("sla-exact-pause", workflow.DefaultVersion, 1).Return(workflow.DefaultVersion)
	s.exactPause(start, 1, nil, start.Add(time.Minute), func() { s.pauseAt(10*time.Second, 30*time.Second) })
}

// Forty notes while the warning is an hour and more away: the ticket keeps one timer for that
// instant instead of starting one per wake-up (workflow.AwaitWithTimeout leaves its timer running
// when the condition wins). Only the warning's and the breach's timers fire, each at its minute.
func (s *TicketSuite) TestSLAManyUpdatesKeepOneTimer() {
	s.slaTicket(start, func(EvaluateInput) *SLAChoice {
		return &SLAChoice{PolicyID: "p1", ResolutionMinutes: 120, WarningMinutes: 30}
	})
	var mu sync.Mutex
	scheduled := map[string]time.Duration{} // a timer's instant, from the ticket's start
	var fired []time.Duration
	s.env.SetOnTimerScheduledListener(func(id string, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		scheduled[id] = s.env.Now().Add(d).Sub(start)
	})
	s.env.SetOnTimerFiredListener(func(id string) {
		mu.Lock()
		defer mu.Unlock()
		fired = append(fired, scheduled[id])
	})
	for i := 1; i <= 40; i++ {
		s.updateAt(time.Duration(i)*time.Minute, UpdateAddAction, note(fmt.Sprint("note ", i)))
	}
	cancelAt(s, 24*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, inputAt(start))
	s.result()
	s.Equal(start.Add(90*time.Minute), s.slaEvents(schema.SLAWarning)[0].At)
	s.Equal(start.Add(120*time.Minute), s.slaEvents(schema.SLABreached)[0].At)
	mu.Lock()
	defer mu.Unlock()
	s.Equal([]time.Duration{90 * time.Minute, 120 * time.Minute}, fired)
	s.LessOrEqual(len(scheduled), 4, "one timer per distinct deadline, not one per wake-up")
}

package workflows

import (
	"sync"
	"time"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// configured is what the evaluation reports as configured, changed by the test as an admin
// would edit it.
type configured struct {
	mu     sync.Mutex
	sla    *SLAChoice
	timers []TimerSpec
}

func (c *configured) set(sla *SLAChoice, timers ...TimerSpec) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sla, c.timers = sla, timers
}

func (s *TicketSuite) configured(sla *SLAChoice, timers ...TimerSpec) *configured {
	c := &configured{sla: sla, timers: timers}
	s.env.OnActivity(ActivityEvaluateTriggers, mockAny, mockAny).Return(
		func(_ ctxT, in EvaluateInput) (EvaluateResult, error) {
			s.writes.mu.Lock()
			s.writes.asked = append(s.writes.asked, in)
			s.writes.mu.Unlock()
			c.mu.Lock()
			defer c.mu.Unlock()
			return EvaluateResult{SLA: c.sla, Timers: c.timers}, nil
		})
	return c
}

// editAt edits the configuration at the given offset and, when signal is set, sends the
// ConfigChanged that the rollout would.
func (s *TicketSuite) editAt(after time.Duration, c *configured, signal bool, sla *SLAChoice, timers ...TimerSpec) {
	s.env.RegisterDelayedCallback(func() {
		c.set(sla, timers...)
		if signal {
			s.env.SignalWorkflow(SignalConfigChanged, ConfigChanged{ChangeID: 7, Reason: "SLA policy p1 edited"})
		}
	}, after)
}

func calendarTime(minutes int) *SLAChoice {
	return &SLAChoice{PolicyID: "p1", PolicyVersion: 1, ResolutionMinutes: minutes, PauseStatuses: []string{schema.BaseStopped}}
}

func (s *TicketSuite) configAsks() []time.Time {
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	var at []time.Time
	for _, in := range s.writes.asked {
		if in.Event.Name == EventConfigChanged {
			at = append(at, in.Now)
		}
	}
	return at
}

// A quiet ticket (no change of its own) learns of a policy edit from ConfigChanged: the
// deadline is recalculated from the opening at the moment of the signal, recorded with its
// reason, the breach fires at the new deadline, and the ticket's updatedAt does not move.
func (s *TicketSuite) TestConfigChangedRecalculatesAQuietTicket() {
	c := s.configured(calendarTime(600))
	edited := calendarTime(120)
	edited.PolicyVersion = 2
	s.editAt(time.Hour, c, true, edited)
	cancelAt(s, 5*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.result()

	s.Equal([]time.Time{start.Add(time.Hour)}, s.configAsks(), "one re-evaluation, at the signal")
	recalc := s.slaEvents(schema.SLARecalculated)
	s.Require().Len(recalc, 2, "response and resolution")
	for _, e := range recalc {
		s.Equal(start.Add(time.Hour), e.At)
		s.Equal("the policy or its calendar was edited", e.Reason)
	}
	breached := s.slaEvents(schema.SLABreached)
	s.Require().Len(breached, 1)
	s.Equal(start.Add(2*time.Hour), breached[0].At, "the new deadline's timer fired, exactly then")
	for _, w := range s.writes.all {
		if len(w.SLAEvents) > 0 && w.SLAEvents[0].Type == schema.SLARecalculated {
			s.Equal(start, w.Ticket.UpdatedAt, "bookkeeping: not an update of the ticket")
		}
	}
}

// Without the signal the same edit stays unseen by the quiet ticket (the case the rollout
// exists for): the old deadline holds.
func (s *TicketSuite) TestWithoutConfigChangedAQuietTicketKeepsItsDeadline() {
	c := s.configured(calendarTime(600))
	s.editAt(time.Hour, c, false, calendarTime(120))
	cancelAt(s, 5*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.result()
	s.Empty(s.slaEvents(schema.SLARecalculated))
	s.Empty(s.slaEvents(schema.SLABreached))
}

// A trigger's time condition edited from 10 h to 2 h after creation: on ConfigChanged the
// ticket re-arms its timer, which fires at creation + 2 h, once.
func (s *TicketSuite) TestConfigChangedRearmsTimeConditions() {
	spec := TimerSpec{TriggerID: "T-stale", Version: 1, After: 10 * time.Hour, From: rules.FromCreatedAt}
	c := s.configured(nil, spec)
	edited := spec
	edited.Version, edited.After = 2, 2*time.Hour
	s.editAt(time.Hour, c, true, nil, edited)
	cancelAt(s, 12*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.result()
	s.Equal([]time.Time{start.Add(2 * time.Hour)}, s.timeAsks(), "the edited timer, not the old one")
}

// Signals that arrive while a re-evaluation is still queued add none: of three edits in the
// same instant, the first starts an evaluation and the next two queue one more between them.
func (s *TicketSuite) TestConfigChangedCoalesces() {
	c := s.configured(calendarTime(600))
	s.env.RegisterDelayedCallback(func() {
		for i := range 3 {
			s.env.SignalWorkflow(SignalConfigChanged, ConfigChanged{ChangeID: int64(i)})
		}
	}, time.Hour)
	s.editAt(2*time.Hour, c, true, calendarTime(300))
	cancelAt(s, 3*time.Hour)
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.result()
	s.Equal([]time.Time{start.Add(time.Hour), start.Add(time.Hour), start.Add(2 * time.Hour)}, s.configAsks())
	s.Len(s.slaEvents(schema.SLARecalculated), 2, "only the real edit recalculates")
}

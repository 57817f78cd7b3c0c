package workflows

import (
	"context"
	"encoding/json"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

func fire(trigger string, actions ...ResolvedAction) []Firing {
	return []Firing{{TriggerID: trigger, Version: 1, Actions: actions}}
}

func act(a rules.Action) ResolvedAction { return ResolvedAction{Action: a} }

// A trigger's actions become the workflow's own changes, in order, and the events they raise
// carry the trigger in their chain.
func (s *TicketSuite) TestTriggerActionsApplyAsTheWorkflowsOwnChanges() {
	s.writes.firings = func(in EvaluateInput) []Firing {
		if in.Event.Name == rules.EventCreated {
			body := act(rules.Action{Type: rules.ActionAddAction, ActionType: "internal"})
			body.RenderedBody = "Urgent customer: Printer on fire"
			return fire("T1", act(rules.Action{Type: rules.ActionAddTags, Tags: []string{"vip"}}),
				act(rules.Action{Type: rules.ActionSetUrgency, Urgency: "Urgent"}), body)
		}
		return nil
	}
	s.updateAt(time.Minute, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	t := s.result()

	s.Equal([]string{"vip"}, t.Tags)
	s.Equal("Urgent", t.Urgency)
	s.Equal(2, t.ActionCount)
	var note schema.Action
	for _, w := range s.writes.all {
		for _, a := range w.Actions {
			if a.ID == 2 {
				note = a
			}
		}
	}
	s.Equal("T1", note.AuthorID)
	s.Equal(schema.OriginTrigger, note.Origin)
	s.Equal("Urgent customer: Printer on fire", note.Body)

	s.Equal(rules.EventCreated, s.writes.asked[0].Event.Name)
	s.Equal(customer.ID, s.writes.asked[0].Event.Actor.ID, "the creator made the created event")
	var fromTrigger []TriggerEvent
	for _, in := range s.writes.asked {
		if in.Event.Actor.ID == "T1" {
			fromTrigger = append(fromTrigger, in.Event)
		}
	}
	s.Require().NotEmpty(fromTrigger)
	for _, ev := range fromTrigger {
		s.Equal([]string{"T1"}, ev.Chain, "%s carries its chain", ev.Name)
		s.Equal("trigger", ev.Actor.Role)
	}
	s.Contains(fromTrigger[1].Changes, "urgency")
	s.Equal(rules.Change{From: "High", To: "Urgent"}, fromTrigger[1].Changes["urgency"])
	last := s.writes.asked[len(s.writes.asked)-1]
	s.Equal(rules.EventUpdated, last.Event.Name, "the cancel's events are evaluated too")
	s.Equal(schema.BaseCanceled, last.Ticket.BaseStatus)
}

// A set_status the ticket's state does not allow is skipped; the ticket carries on.
func (s *TicketSuite) TestIllegalStatusActionIsSkipped() {
	s.writes.firings = func(in EvaluateInput) []Firing {
		if in.Event.Name == rules.EventCreated {
			closed := act(rules.Action{Type: rules.ActionSetStatus, Status: schema.BaseClosed})
			closed.BaseStatus = schema.BaseClosed
			return fire("T2", closed, act(rules.Action{Type: rules.ActionAddTags, Tags: []string{"seen"}}))
		}
		return nil
	}
	s.updateAt(time.Minute, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	t := s.result()
	s.Equal([]string{"seen"}, t.Tags, "the next action still applies")
	for _, w := range s.writes.all {
		for _, st := range w.Statuses {
			s.NotEqual(schema.BaseClosed, st.BaseStatus, "never closed from New")
		}
	}
}

// call_webhook starts an abandoned delivery child with the event, the ticket and the changes;
// the ticket does not wait for the receiver.
func (s *TicketSuite) TestWebhookActionStartsADelivery() {
	var started []WebhookDeliveryInput
	s.env.RegisterWorkflowWithOptions(func(workflow.Context, WebhookDeliveryInput) error { return nil },
		workflow.RegisterOptions{Name: WebhookWorkflowType})
	s.env.OnWorkflow(WebhookWorkflowType, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in WebhookDeliveryInput) error {
			started = append(started, in)
			return nil
		})
	s.writes.firings = func(in EvaluateInput) []Firing {
		if in.Event.Name == rules.EventStatusChanged && in.Ticket.BaseStatus == schema.BaseCanceled {
			return fire("T3", act(rules.Action{Type: rules.ActionCallWebhook, WebhookID: "wh1"}))
		}
		return nil
	}
	s.updateAt(time.Minute, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.result()
	s.Require().Len(started, 1)
	d := started[0]
	s.Equal("wh1", d.WebhookID)
	s.Equal(rules.EventStatusChanged, d.Event)
	s.Equal("T3", d.TriggerID)
	var payload struct {
		Event      string                  `json:"event"`
		DeliveryID string                  `json:"deliveryId"`
		Ticket     schema.Ticket           `json:"ticket"`
		Changes    map[string]rules.Change `json:"changes"`
	}
	s.Require().NoError(json.Unmarshal(d.Payload, &payload))
	s.Equal(d.DeliveryID, payload.DeliveryID)
	s.Equal(int64(42), payload.Ticket.ID)
	s.Equal(schema.BaseCanceled, payload.Ticket.BaseStatus)
	s.Equal("Canceled", payload.Changes["status"].To)
}

// timeAsks are the simulated instants at which a ticket.time event was evaluated.
func (s *TicketSuite) timeAsks() []time.Time {
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	var at []time.Time
	for _, in := range s.writes.asked {
		if in.Event.Name == rules.EventTime {
			at = append(at, in.Now)
		}
	}
	return at
}

// "Still New 2 hours after creation": the timer fires exactly at creation + 2h, once, and
// its trigger's actions apply.
func (s *TicketSuite) TestTimeConditionFiresOnceAtItsDeadline() {
	spec := TimerSpec{TriggerID: "T-stale", Version: 1, After: 2 * time.Hour, From: rules.FromCreatedAt}
	s.writes.firings = func(in EvaluateInput) []Firing {
		if in.Event.Name == rules.EventTime && in.Event.OnlyTrigger == "T-stale" && in.Ticket.BaseStatus == schema.BaseNew {
			return fire("T-stale", act(rules.Action{Type: rules.ActionAddTags, Tags: []string{"stale"}}))
		}
		return nil
	}
	s.timers(spec)
	s.updateAt(10*time.Hour, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	t := s.result()
	s.Equal([]time.Time{start.Add(2 * time.Hour)}, s.timeAsks(), "exactly at the deadline, and never twice")
	s.Contains(t.Tags, "stale")
}

// "No reply for 1 hour": a reply moves the moment, so the timer is armed again for the new one.
func (s *TicketSuite) TestTimeConditionIsRearmedWhenTheTicketChanges() {
	spec := TimerSpec{TriggerID: "T-quiet", Version: 1, After: time.Hour, From: rules.FromLastPublicActionAt}
	s.timers(spec)
	s.updateAt(30*time.Minute, UpdateAddAction, AddActionInput{Actor: agent, Type: "public", Body: "Looking into it", Origin: 2})
	s.updateAt(45*time.Minute, UpdateAddAction, AddActionInput{Actor: agent, Type: "internal", Body: "a note is not a reply", Origin: 2})
	s.updateAt(5*time.Hour, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.result()
	s.Equal([]time.Time{start.Add(90 * time.Minute)}, s.timeAsks(), "an hour after the last reply, not after creation")
}

// timers makes every evaluation report these time conditions as configured.
func (s *TicketSuite) timers(specs ...TimerSpec) {
	inner := s.writes.firings
	s.writes.firings = nil
	s.env.OnActivity(ActivityEvaluateTriggers, mock.Anything, mock.Anything).Return(
		func(ctx context.Context, in EvaluateInput) (EvaluateResult, error) {
			s.writes.mu.Lock()
			s.writes.asked = append(s.writes.asked, in)
			s.writes.mu.Unlock()
			res := EvaluateResult{Timers: specs}
			if inner != nil {
				res.Firings = inner(in)
			}
			return res, nil
		})
}

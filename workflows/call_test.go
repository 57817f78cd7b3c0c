package workflows

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

// callActs stands in for the call activities and records what the workflow asked of them.
type callActs struct {
	mu        sync.Mutex
	calls     []schema.Call
	agentOps  []AgentCallInput
	notified  []string
	offers    []string
	tickets   []schema.TicketWrite // as the child Ticket workflow was started with
	persisted []schema.TicketWrite // written by the call itself
	actions   []TicketActionInput
}

func (a *callActs) PersistCall(_ context.Context, c schema.Call) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls = append(a.calls, c)
	return nil
}
func (a *callActs) MatchCaller(context.Context, string) (*callerRef, error) {
	return &callerRef{ID: "customer-1", Name: "Carla"}, nil
}
func (a *callActs) SetAgentCall(_ context.Context, in AgentCallInput) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.agentOps = append(a.agentOps, in)
	return nil
}
func (a *callActs) EndOffer(_ context.Context, id string) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.offers = append(a.offers, id)
	return nil
}
func (a *callActs) NotifyAgent(_ context.Context, e AgentEvent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.notified = append(a.notified, e.Type+":"+e.AgentID)
	return nil
}
func (a *callActs) ReserveCallTicket(context.Context, string) (int64, error) { return 77, nil }
func (a *callActs) PersistTicket(_ context.Context, w schema.TicketWrite) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.persisted = append(a.persisted, w)
	return nil
}
func (a *callActs) AddTicketAction(_ context.Context, in TicketActionInput) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.actions = append(a.actions, in)
	return nil
}

type CallSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env  *testsuite.TestWorkflowEnvironment
	acts *callActs
}

func TestPhoneCall(t *testing.T) { suite.Run(t, new(CallSuite)) }

func (s *CallSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(start)
	s.acts = &callActs{}
	s.env.RegisterWorkflowWithOptions(PhoneCall, workflow.RegisterOptions{Name: CallWorkflowType})
	// The child Ticket workflow is tested on its own; here it is replaced by a stand-in that
	// records what it was started with (a real one runs until the ticket closes).
	s.env.RegisterWorkflowWithOptions(Ticket, workflow.RegisterOptions{Name: TicketWorkflowType})
	s.env.OnWorkflow(TicketWorkflowType, mock.Anything, mock.Anything).Return(
		func(_ workflow.Context, in TicketInput) (schema.Ticket, error) {
			s.acts.mu.Lock()
			defer s.acts.mu.Unlock()
			s.acts.tickets = append(s.acts.tickets, *in.Pending)
			return in.State.Ticket, nil
		})
	for name, fn := range map[string]any{
		ActivityPersistCall: s.acts.PersistCall, ActivityMatchCaller: s.acts.MatchCaller,
		ActivitySetAgentCall: s.acts.SetAgentCall, ActivityEndOffer: s.acts.EndOffer,
		ActivityNotifyAgent: s.acts.NotifyAgent, ActivityReserveTicket: s.acts.ReserveCallTicket,
		ActivityAddTicketAction: s.acts.AddTicketAction, ActivityPersistTicket: s.acts.PersistTicket,
	} {
		s.env.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
}

func callInput() CallInput {
	return CallInput{ID: "3", QueueID: 1, GroupID: "g1", ClientNumber: "4733990777", ReceivedAt: start,
		NoEndAfter: DefaultNoEndAfter, LinkGrace: time.Hour, AutoCloseAfter: DefaultAutoCloseAfter}
}

func (s *CallSuite) signalAt(after time.Duration, name string, arg any) {
	s.env.RegisterDelayedCallback(func() { s.env.SignalWorkflow(name, arg) }, after)
}

func (s *CallSuite) lastCall() schema.Call {
	s.acts.mu.Lock()
	defer s.acts.mu.Unlock()
	return s.acts.calls[len(s.acts.calls)-1]
}

// The happy path: offered, transferred after 2 minutes, completed 18 minutes later; a ticket
// of origin 13 owned by the agent, then the run ends after the grace period.
func (s *CallSuite) TestCompletedCall() {
	s.signalAt(time.Second, SignalCallOffered, CallOfferedSignal{Extension: "5252", AgentID: "ada", Attempt: 1, At: start.Add(time.Second)})
	s.signalAt(2*time.Minute, SignalCallTransferred, CallTransferredSignal{Extension: "5252", AgentID: "ada", At: start.Add(2 * time.Minute)})
	s.signalAt(20*time.Minute, SignalCallEnded, CallEndedSignal{Kind: CallCompleted, Link: "https://rec/3", At: start.Add(20 * time.Minute)})
	s.env.ExecuteWorkflow(CallWorkflowType, callInput())
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	c := s.lastCall()
	s.Equal(CallCompleted, c.State)
	s.Equal(120, *c.WaitingSeconds)
	s.Equal(1080, *c.TalkSeconds)
	s.Equal(int64(77), *c.TicketID)
	s.Equal("https://rec/3", *c.Link)
	s.Equal([]AgentCallInput{{AgentID: "ada", CallID: "3"}, {AgentID: "ada", Of: "3"}}, s.acts.agentOps)
	s.Equal([]string{"call.transferred:ada", "call.ended:ada"}, s.acts.notified)
	s.Require().Len(s.acts.tickets, 1)
	s.Require().Len(s.acts.persisted, 1, "the call writes the ticket's creation too")
	s.Equal(s.acts.tickets[0].Ticket.ID, s.acts.persisted[0].Ticket.ID)
	s.NotEmpty(s.acts.persisted[0].Ticket.RunID, "with the child's run ID")
	t := s.acts.tickets[0].Ticket
	s.Equal(schema.OriginReceivedCall, t.Origin)
	s.Equal("ada", *t.OwnerID)
	s.Equal(schema.BaseInAttendance, t.BaseStatus)
	s.Equal([]string{"customer-1"}, t.ClientIDs)
	s.Equal("internal", s.acts.tickets[0].Actions[0].Type, "the call's details are for agents")
	body := s.acts.tickets[0].Actions[0].Body
	s.Contains(body, "Carla")
	s.Contains(body, "Talk time: 18m0s")
	s.Contains(body, "Waiting time: 2m0s")
	s.Contains(body, "Recording: https://rec/3")
	s.Equal(start.Add(20*time.Minute+time.Hour), s.env.Now().UTC(), "the run ends one grace period after the call")
}

// A call that never gets an end callback is ended by the timer, exactly NoEndAfter after it
// started, with the agent released and no ticket.
func (s *CallSuite) TestNoEndEventTimer() {
	var at time.Time
	s.signalAt(time.Minute, SignalCallTransferred, CallTransferredSignal{Extension: "5252", AgentID: "ada", At: start.Add(time.Minute)})
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryState)
		s.Require().NoError(err)
		var c schema.Call
		s.Require().NoError(v.Get(&c))
		s.Equal(CallOngoing, c.State, "still ongoing a second before the deadline")
	}, DefaultNoEndAfter-time.Second)
	s.env.ExecuteWorkflow(CallWorkflowType, callInput())
	s.Require().NoError(s.env.GetWorkflowError())

	for _, c := range s.acts.calls {
		if c.State == CallNoEnd && at.IsZero() {
			at = *c.EndedAt
		}
	}
	s.Equal(start.Add(DefaultNoEndAfter), at, "ended exactly 4 hours after the call started")
	c := s.lastCall()
	s.Equal("no end event", *c.EndReason)
	s.Nil(c.TicketID)
	s.Empty(s.acts.tickets)
	s.Equal([]string{"3"}, s.acts.offers, "the distribution ledger is closed too")
	s.Equal(AgentCallInput{AgentID: "ada", Of: "3"}, s.acts.agentOps[len(s.acts.agentOps)-1])
}

// A missed call after a code: origin 15, unassigned, the message link in the action; a later
// recording link is added to the ticket as an action.
func (s *CallSuite) TestMissedCallAndLateLink() {
	code := 2
	s.signalAt(time.Second, SignalCallOffered, CallOfferedSignal{Code: &code, At: start.Add(time.Second)})
	s.signalAt(time.Minute, SignalCallEnded, CallEndedSignal{Kind: CallMissed, Link: "https://msg/3", At: start.Add(time.Minute)})
	s.signalAt(10*time.Minute, SignalCallLinkSet, CallLinkSetSignal{Link: "https://rec/3b"})
	s.env.ExecuteWorkflow(CallWorkflowType, callInput())
	s.Require().NoError(s.env.GetWorkflowError())
	t := s.acts.tickets[0]
	s.Equal(schema.OriginLostCall, t.Ticket.Origin)
	s.Nil(t.Ticket.OwnerID)
	s.Equal(schema.BaseNew, t.Ticket.BaseStatus)
	s.Contains(t.Actions[0].Body, "Message left: https://msg/3")
	s.Equal(60, *s.lastCall().WaitingSeconds)
	s.Require().Len(s.acts.actions, 1)
	s.Equal(int64(77), s.acts.actions[0].TicketID)
	s.Equal("internal", s.acts.actions[0].Action.Type, "a recording link is for agents")
	s.Contains(s.acts.actions[0].Action.Body, "https://rec/3b")
	s.Equal("call/3/link/1", s.acts.actions[0].UpdateID)
}

// A transfer that arrives after the end (out of order) is recorded and fills in the times.
func (s *CallSuite) TestTransferAfterEnd() {
	s.signalAt(time.Second, SignalCallEnded, CallEndedSignal{Kind: CallCompleted, At: start.Add(10 * time.Minute)})
	s.signalAt(2*time.Second, SignalCallTransferred, CallTransferredSignal{Extension: "5252", AgentID: "ada", At: start.Add(2 * time.Minute)})
	s.env.ExecuteWorkflow(CallWorkflowType, callInput())
	s.Require().NoError(s.env.GetWorkflowError())
	c := s.lastCall()
	s.Equal(CallCompleted, c.State)
	s.Equal(start.Add(2*time.Minute), *c.TransferredAt)
	s.Equal(480, *c.TalkSeconds)
	s.Equal("arrived after the call's end", c.Events[len(c.Events)-1].Note)
	s.Empty(s.acts.agentOps, "a late transfer does not put the agent on a call that is over")
}

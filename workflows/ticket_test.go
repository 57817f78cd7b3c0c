package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

// start is the simulated instant every test begins at.
var start = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)

var agent = Actor{ID: "agent-1", Role: schema.RoleAgent}
var customer = Actor{ID: "customer-1", Role: schema.RoleCustomer}

// writes records what the workflow persisted, standing in for PostgreSQL in this tier, and
// what it asked the triggers; firings are what the triggers answer, by event name.
type writes struct {
	mu      sync.Mutex
	all     []schema.TicketWrite
	asked   []EvaluateInput
	firings func(EvaluateInput) []Firing
}

func (w *writes) EvaluateTriggers(_ context.Context, in EvaluateInput) (EvaluateResult, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.asked = append(w.asked, in)
	if w.firings == nil {
		return EvaluateResult{}, nil
	}
	return EvaluateResult{Firings: w.firings(in)}, nil
}

func (w *writes) PersistTicket(_ context.Context, wr schema.TicketWrite) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.all = append(w.all, wr)
	return nil
}

func (w *writes) last() schema.TicketWrite {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.all[len(w.all)-1]
}

type TicketSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env    *testsuite.TestWorkflowEnvironment
	writes *writes
}

func TestTicket(t *testing.T) { suite.Run(t, new(TicketSuite)) }

func (s *TicketSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(start)
	s.writes = &writes{}
	s.env.RegisterWorkflowWithOptions(Ticket, workflow.RegisterOptions{Name: TicketWorkflowType})
	s.env.RegisterActivityWithOptions(s.writes.PersistTicket, activity.RegisterOptions{Name: ActivityPersistTicket})
	s.env.RegisterActivityWithOptions(s.writes.EvaluateTriggers, activity.RegisterOptions{Name: ActivityEvaluateTriggers})
}

func newInput(autoClose time.Duration) TicketInput {
	st, wr := NewTicket(CreateTicket{ID: 42, Type: "public", Subject: "Printer on fire", Urgency: "High",
		Status: schema.BaseNew, BaseStatus: schema.BaseNew, Origin: schema.OriginAPI,
		Description: "It is on fire.", CreatedBy: customer.ID, ClientIDs: []string{customer.ID}, CreatedAt: start})
	return TicketInput{State: st, Pending: &wr, AutoCloseAfter: autoClose, Creator: customer}
}

// update sends an update at the given offset from the start and records its outcome.
type outcome struct {
	ticket   schema.Ticket
	err      error
	rejected error
	at       time.Time
}

func (s *TicketSuite) updateAt(after time.Duration, name string, arg any) *outcome {
	return updateAt(s.env, after, name, arg)
}

// updateAt sends an update at a simulated time and records its outcome and when it came.
func updateAt(env *testsuite.TestWorkflowEnvironment, after time.Duration, name string, arg any) *outcome {
	o := &outcome{}
	env.RegisterDelayedCallback(func() {
		env.UpdateWorkflow(name, name+after.String(), &testsuite.TestUpdateCallback{
			OnReject: func(err error) { o.rejected = err; o.at = env.Now() },
			OnAccept: func() {},
			OnComplete: func(v any, err error) {
				o.err, o.at = err, env.Now()
				if t, ok := v.(schema.Ticket); ok {
					o.ticket = t
				}
			},
		}, arg)
	}, after)
	return o
}

func resolve(actor Actor) ChangeStatusInput {
	return ChangeStatusInput{Actor: actor, Status: schema.BaseResolved, BaseStatus: schema.BaseResolved}
}

func (s *TicketSuite) result() schema.Ticket {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var t schema.Ticket
	s.Require().NoError(s.env.GetWorkflowResult(&t))
	return t
}

func (s *TicketSuite) TestResolvedTicketClosesAfterExactlyTheConfiguredPeriod() {
	resolved := s.updateAt(time.Hour, UpdateChangeStatus, resolve(agent))
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(48*time.Hour))

	t := s.result()
	s.Require().NoError(resolved.err)
	s.Equal(schema.BaseResolved, resolved.ticket.BaseStatus)
	s.Equal(schema.BaseClosed, t.BaseStatus)
	s.Equal(start.Add(time.Hour), *t.ResolvedAt)
	s.Equal(start.Add(time.Hour+48*time.Hour), *t.ClosedAt, "closes exactly 48h after resolution")
	s.Equal(start.Add(time.Hour+48*time.Hour), s.env.Now().UTC(), "and not a moment later")
	last := s.writes.last()
	s.Equal(SystemActor.ID, last.Statuses[1].ChangedBy)
	s.Equal(start.Add(49*time.Hour), *last.Statuses[0].EndedAt, "the resolved entry ends at the close")
}

func (s *TicketSuite) TestDefaultPeriodIsSevenDays() {
	s.updateAt(0, UpdateChangeStatus, resolve(agent))
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(DefaultAutoCloseAfter))
	t := s.result()
	s.Equal(start.Add(7*24*time.Hour), *t.ClosedAt)
}

func (s *TicketSuite) TestReopenCancelsTheCloseTimer() {
	s.updateAt(time.Hour, UpdateChangeStatus, resolve(agent))
	reopened := s.updateAt(2*time.Hour, UpdateReopen, ReopenInput{Actor: agent})
	// Long after the first close would have fired, the ticket is still open; it is resolved
	// again at 100h and closes 48h after that second resolution.
	var at99h schema.Ticket
	s.env.RegisterDelayedCallback(func() {
		v, err := s.env.QueryWorkflow(QueryState)
		s.Require().NoError(err)
		var st TicketState
		s.Require().NoError(v.Get(&st))
		at99h = st.Ticket
	}, 99*time.Hour)
	s.updateAt(100*time.Hour, UpdateChangeStatus, resolve(agent))
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(48*time.Hour))

	t := s.result()
	s.Require().NoError(reopened.err)
	s.Equal(schema.BaseInAttendance, reopened.ticket.BaseStatus)
	s.Nil(reopened.ticket.ResolvedAt)
	s.Equal(schema.BaseInAttendance, at99h.BaseStatus, "the first timer never fired")
	s.Equal(start.Add(148*time.Hour), *t.ClosedAt)
	s.Equal(start.Add(148*time.Hour), s.env.Now().UTC())
}

func (s *TicketSuite) TestCustomerReplyReopensAResolvedTicket() {
	s.updateAt(time.Hour, UpdateChangeStatus, resolve(agent))
	reply := s.updateAt(3*time.Hour, UpdateAddAction, AddActionInput{Actor: customer, Type: "public", Body: "Still burning", Origin: 1})
	s.updateAt(10*time.Hour, UpdateChangeStatus, resolve(agent))
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(24*time.Hour))

	t := s.result()
	s.Require().NoError(reply.err)
	s.Equal(schema.BaseInAttendance, reply.ticket.BaseStatus)
	s.Equal(2, reply.ticket.ActionCount)
	s.Equal(start.Add(34*time.Hour), *t.ClosedAt, "closes 24h after the second resolution, not the first")
}

func (s *TicketSuite) TestAgentNoteDoesNotReopenOrDelayTheClose() {
	s.updateAt(time.Hour, UpdateChangeStatus, resolve(agent))
	note := s.updateAt(2*time.Hour, UpdateAddAction, AddActionInput{Actor: agent, Type: "internal", Body: "fyi", Origin: 2})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(24*time.Hour))
	t := s.result()
	s.Require().NoError(note.err)
	s.Equal(schema.BaseResolved, note.ticket.BaseStatus)
	s.Equal(start.Add(25*time.Hour), *t.ClosedAt)
}

func (s *TicketSuite) TestCancelEndsTheWorkflowAtOnce() {
	s.updateAt(5*time.Minute, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: "Spam", BaseStatus: schema.BaseCanceled})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	t := s.result()
	s.Equal("Spam", t.Status)
	s.Equal(start.Add(5*time.Minute), s.env.Now().UTC())
}

// rejected runs one update at 1m against a fresh ticket, cancels the ticket at 2m to end the
// run, and returns the rejection.
func (s *TicketSuite) rejected(name string, arg any, setup ...func()) error {
	for _, f := range setup {
		f()
	}
	o := s.updateAt(time.Minute, name, arg)
	s.updateAt(2*time.Minute, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.result()
	s.Require().Error(o.rejected, "the validator must reject it")
	s.NoError(o.err)
	return o.rejected
}

func errType(err error) string {
	var appErr *temporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Type()
	}
	return ""
}

func (s *TicketSuite) TestValidatorRejectionsWriteNothing() {
	cases := []struct {
		name, update string
		arg          any
		wantType     string
		wantField    string
	}{
		{"justification required", UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: "Waiting parts", BaseStatus: schema.BaseStopped, RequiresJustification: true}, ErrTypeInvalid, "justification"},
		{"New cannot jump to Closed", UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseClosed, BaseStatus: schema.BaseClosed}, ErrTypeConflict, ""},
		{"unknown base status", UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: "X", BaseStatus: "Open"}, ErrTypeInvalid, "status"},
		{"customer cannot change status", UpdateChangeStatus, resolve(customer), ErrTypeConflict, ""},
		{"empty body", UpdateAddAction, AddActionInput{Actor: agent, Type: "public", Body: "  "}, ErrTypeInvalid, "body"},
		{"bad action type", UpdateAddAction, AddActionInput{Actor: agent, Type: "secret", Body: "x"}, ErrTypeInvalid, "type"},
		{"customer internal note", UpdateAddAction, AddActionInput{Actor: customer, Type: "internal", Body: "x"}, ErrTypeInvalid, "type"},
		{"assign nothing", UpdateAssign, AssignInput{Actor: agent}, ErrTypeInvalid, "ownerId"},
		{"customer accepts", UpdateAccept, AcceptInput{Actor: customer}, ErrTypeConflict, ""},
		{"empty subject", UpdateSetFields, SetFieldsInput{Actor: agent, Subject: ptr(" ")}, ErrTypeInvalid, "subject"},
		{"reopen an open ticket", UpdateReopen, ReopenInput{Actor: agent}, ErrTypeConflict, ""},
	}
	for _, c := range cases {
		s.Run(c.name, func() {
			s.SetupTest()
			err := s.rejected(c.update, c.arg)
			s.Equal(c.wantType, errType(err), err.Error())
			s.Equal(c.wantField, ErrorField(err))
			// Only the creation and the final cancel were written.
			s.Len(s.writes.all, 2)
			s.Equal(int64(2), s.writes.last().Ticket.Seq)
		})
	}
}

func (s *TicketSuite) TestAcceptTakesAnUnownedTicketOnce() {
	other := Actor{ID: "agent-2", Role: schema.RoleAgent}
	first := s.updateAt(time.Minute, UpdateAccept, AcceptInput{Actor: agent})
	second := s.updateAt(2*time.Minute, UpdateAccept, AcceptInput{Actor: other})
	s.updateAt(3*time.Minute, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.result()
	s.Require().NoError(first.err)
	s.Equal(agent.ID, *first.ticket.OwnerID)
	s.Equal(schema.BaseInAttendance, first.ticket.BaseStatus)
	s.Require().Error(second.rejected)
	s.Contains(second.rejected.Error(), "already owned by agent-1")
}

func (s *TicketSuite) TestAssignKeepsOwnerHistoryAndSkipsNoOps() {
	team := "team-1"
	a1 := s.updateAt(time.Minute, UpdateAssign, AssignInput{Actor: agent, OwnerID: ptr("agent-2"), TeamID: &team})
	a2 := s.updateAt(2*time.Minute, UpdateAssign, AssignInput{Actor: agent, OwnerID: ptr("agent-2")})
	a3 := s.updateAt(3*time.Minute, UpdateAssign, AssignInput{Actor: agent, OwnerID: ptr("")})
	s.updateAt(4*time.Minute, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled})
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	t := s.result()
	s.Require().NoError(a1.err)
	s.Require().NoError(a2.err)
	s.Require().NoError(a3.err)
	s.Equal(int64(2), a2.ticket.Seq, "assigning the same owner again writes nothing")
	s.Nil(t.OwnerID)
	s.Equal(team, *t.TeamID)
	// creation, assign, unassign, cancel
	s.Len(s.writes.all, 4)
	unassign := s.writes.all[2]
	s.Require().Len(unassign.Owners, 2)
	s.Equal(start.Add(3*time.Minute), *unassign.Owners[0].EndedAt)
	s.Equal(2, unassign.Owners[1].Seq)
}

func (s *TicketSuite) TestSetFieldsMergesCustomFields() {
	in := newInput(time.Hour)
	in.State.Ticket.CustomFields = map[string]any{"plan": "gold", "seats": 3.0}
	set := s.updateAt(time.Minute, UpdateSetFields, SetFieldsInput{Actor: agent, Subject: ptr("Printer smoking"),
		Tags: &[]string{"hardware"}, CustomFields: map[string]any{"seats": nil, "region": "eu"}})
	s.updateAt(2*time.Minute, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled})
	s.env.ExecuteWorkflow(TicketWorkflowType, in)
	s.result()
	s.Require().NoError(set.err)
	s.Equal("Printer smoking", set.ticket.Subject)
	s.Equal([]string{"hardware"}, set.ticket.Tags)
	s.Equal(map[string]any{"plan": "gold", "region": "eu"}, set.ticket.CustomFields)
}

func (s *TicketSuite) TestContinueAsNewKeepsState() {
	in := newInput(time.Hour)
	in.MaxChangesPerRun = 3
	s.updateAt(time.Minute, UpdateAddAction, AddActionInput{Actor: agent, Type: "internal", Body: "one", Origin: 2})
	s.updateAt(2*time.Minute, UpdateAssign, AssignInput{Actor: agent, OwnerID: ptr("agent-1")})
	s.updateAt(3*time.Minute, UpdateChangeStatus, ChangeStatusInput{Actor: agent, Status: "Waiting", BaseStatus: schema.BaseStopped, Justification: "parts"})
	s.env.ExecuteWorkflow(TicketWorkflowType, in)

	s.Require().True(s.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &can)
	s.Equal(TicketWorkflowType, can.WorkflowType.Name)
	var next TicketInput
	s.Require().NoError(converterFor().FromPayloads(can.Input, &next))
	s.Nil(next.Pending, "the creation is not written twice")
	s.Equal(in.AutoCloseAfter, next.AutoCloseAfter)
	t := next.State.Ticket
	s.Equal(int64(4), t.Seq)
	s.Equal(2, t.ActionCount)
	s.Equal("Waiting", t.Status)
	s.Equal("agent-1", *t.OwnerID)
	s.Equal(2, next.State.Status.Seq, "status history continues")
	s.Equal("parts", next.State.Status.Justification)
	s.Equal(1, next.State.Owner.Seq)

	// The next run picks up from there: it records its run ID and closes on time.
	s.SetupTest()
	next.MaxChangesPerRun = 0
	s.updateAt(time.Minute, UpdateChangeStatus, resolve(agent))
	s.env.ExecuteWorkflow(TicketWorkflowType, next)
	final := s.result()
	s.Equal(int64(7), final.Seq, "run start, resolve, close")
	s.Equal(2, final.ActionCount)
	s.Equal(start.Add(61*time.Minute), *final.ClosedAt)
}

func (s *TicketSuite) TestReopenRunOfAClosedTicket() {
	in := newInput(time.Hour)
	in.State.Ticket.Status, in.State.Ticket.BaseStatus = schema.BaseClosed, schema.BaseClosed
	closed := start.Add(-time.Hour)
	in.State.Ticket.ClosedAt, in.State.Ticket.ResolvedAt = &closed, &closed
	in.State.Ticket.Seq = 9
	in.Pending = nil
	in.AwaitReopen = true
	reopened := s.updateAt(0, UpdateReopen, ReopenInput{Actor: agent})
	s.updateAt(time.Minute, UpdateChangeStatus, resolve(agent))
	s.env.ExecuteWorkflow(TicketWorkflowType, in)
	t := s.result()
	s.Require().NoError(reopened.err)
	s.Require().GreaterOrEqual(len(s.writes.all), 2)
	s.Equal(int64(10), s.writes.all[0].Ticket.Seq, "writes continue the stored sequence")
	s.Equal(int64(11), s.writes.all[1].Ticket.Seq)
	s.Equal(schema.BaseInAttendance, reopened.ticket.BaseStatus)
	s.Nil(reopened.ticket.ClosedAt)
	s.Nil(reopened.ticket.ResolvedAt)
	s.Equal(start.Add(61*time.Minute), *t.ClosedAt)
}

func (s *TicketSuite) TestReopenRunEndsWhenNoReopenArrives() {
	in := newInput(time.Hour)
	in.State.Ticket.Status, in.State.Ticket.BaseStatus = schema.BaseClosed, schema.BaseClosed
	in.Pending = nil
	in.AwaitReopen = true
	s.env.ExecuteWorkflow(TicketWorkflowType, in)
	t := s.result()
	s.Equal(schema.BaseClosed, t.BaseStatus)
	s.Equal(start.Add(ReopenWait), s.env.Now().UTC())
}

func ptr[T any](v T) *T { return &v }

func TestCheckStatusMove(t *testing.T) {
	require.NoError(t, CheckStatusMove(schema.BaseResolved, schema.BaseClosed))
	require.Error(t, CheckStatusMove(schema.BaseInAttendance, schema.BaseClosed))
	require.Error(t, CheckStatusMove(schema.BaseInAttendance, schema.BaseNew))
	require.Error(t, CheckStatusMove(schema.BaseClosed, schema.BaseInAttendance))
	require.Error(t, CheckStatusMove(schema.BaseCanceled, schema.BaseResolved))
}

func TestWorkflowID(t *testing.T) {
	require.Equal(t, "ticket/123", TicketWorkflowID(123))
	require.Equal(t, "20261120-000042", Protocol(42, start))
}

package workflows

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

// stall makes an activity fail like a locked table does: the next failures attempts fail with
// a retryable error, or, with fatal set, one attempt fails for good (non-retryable). Counting
// attempts, not the clock, keeps the test exact under the test suite's time skipping.
type stall struct {
	mu       sync.Mutex
	failures int
	fatal    bool
	attempts int
}

func (st *stall) set(failures int, fatal bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.failures, st.fatal = failures, fatal
}

func (st *stall) check() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.attempts++
	if st.fatal {
		st.fatal = false
		return temporal.NewNonRetryableApplicationError("refused for good", "Refused", nil)
	}
	if st.failures > 0 {
		st.failures--
		return errors.New("canceling statement due to lock timeout")
	}
	return nil
}

type DurabilitySuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env     *testsuite.TestWorkflowEnvironment
	start   time.Time
	writes  *writes
	persist *stall
	eval    *stall
}

func TestDurability(t *testing.T) { suite.Run(t, new(DurabilitySuite)) }

func (s *DurabilitySuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	// The simulated clock starts at the real time: the SDK caps a local activity's retry
	// attempts at an expiry computed from the simulated schedule time but compares it with the
	// real clock, so a simulated start days in the past makes retries start already expired.
	s.start = time.Now().UTC().Truncate(time.Second)
	s.env.SetStartTime(s.start)
	s.writes = &writes{}
	s.persist = &stall{}
	s.eval = &stall{}
	s.env.RegisterWorkflowWithOptions(Ticket, workflow.RegisterOptions{Name: TicketWorkflowType})
	s.env.RegisterActivityWithOptions(func(ctx context.Context, wr schema.TicketWrite) error {
		if err := s.persist.check(); err != nil {
			return err
		}
		return s.writes.PersistTicket(ctx, wr)
	}, activity.RegisterOptions{Name: ActivityPersistTicket})
	s.env.RegisterActivityWithOptions(func(ctx context.Context, in EvaluateInput) (EvaluateResult, error) {
		if err := s.eval.check(); err != nil {
			return EvaluateResult{}, err
		}
		return s.writes.EvaluateTriggers(ctx, in)
	}, activity.RegisterOptions{Name: ActivityEvaluateTriggers})
}

func (s *DurabilitySuite) updateAt(after time.Duration, name string, arg any) *outcome {
	return updateAt(s.env, after, name, arg)
}

func (s *DurabilitySuite) at(after time.Duration, f func()) { s.env.RegisterDelayedCallback(f, after) }

func note(body string) AddActionInput {
	return AddActionInput{Actor: agent, Type: "internal", Body: body, Origin: schema.OriginAPI}
}

func cancelTicket() ChangeStatusInput {
	return ChangeStatusInput{Actor: agent, Status: schema.BaseCanceled, BaseStatus: schema.BaseCanceled}
}

// actionsWritten is every action written, by id, in order.
func (s *DurabilitySuite) actionsWritten() map[int]string {
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	out := map[int]string{}
	for _, w := range s.writes.all {
		for _, a := range w.Actions {
			out[a.ID] = a.Body
		}
	}
	return out
}

// A write that fails 20 times in a row (with backoff capped at a minute: about 12 simulated
// minutes, far beyond any attempt's timeout and the SDK's old 10 s give-up) is retried until it
// lands: the reply completes, is written once, and the change queued behind it follows it.
func (s *DurabilitySuite) TestProjectionWriteWaitsOutAStall() {
	s.at(time.Minute, func() { s.persist.set(20, false) })
	reply := s.updateAt(2*time.Minute, UpdateAddAction, note("during the stall"))
	after := s.updateAt(3*time.Minute, UpdateAddAction, note("queued behind it"))
	s.updateAt(48*time.Hour, UpdateChangeStatus, cancelTicket())
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.Require().NoError(reply.err)
	s.Require().NoError(after.err)
	s.Equal(0, s.persist.failures, "every failing attempt was retried")
	s.True(reply.at.After(s.start.Add(2*time.Minute+10*time.Minute)), "waited out the backoff: %s", reply.at.Sub(s.start))
	s.Equal(map[int]string{1: "It is on fire.", 2: "during the stall", 3: "queued behind it"}, s.actionsWritten())
	s.Equal(3, after.ticket.ActionCount)
}

// A write refused for good is rolled back: the update fails, nothing of it stays in memory, and
// the next change neither counts it nor writes it.
func (s *DurabilitySuite) TestUnwritableChangeIsRolledBack() {
	s.at(time.Minute, func() { s.persist.set(0, true) })
	lost := s.updateAt(2*time.Minute, UpdateAddAction, note("refused"))
	next := s.updateAt(3*time.Minute, UpdateAddAction, note("next"))
	s.updateAt(time.Hour, UpdateChangeStatus, cancelTicket())
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError(), "a lost write never fails the workflow")

	s.Require().Error(lost.err)
	s.Require().NoError(next.err)
	s.Equal(2, next.ticket.ActionCount, "the refused reply is not counted")
	s.Equal(map[int]string{1: "It is on fire.", 2: "next"}, s.actionsWritten())
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	for i := 1; i < len(s.writes.all); i++ {
		s.Equal(s.writes.all[i-1].Ticket.Seq+1, s.writes.all[i].Ticket.Seq, "no sequence gap")
	}
}

// An evaluation that fails 20 times in a row waits and retries; one that fails for good is skipped and
// logged. Neither fails the workflow, and the ticket takes changes throughout.
func (s *DurabilitySuite) TestEvaluationStallNeverFailsTheWorkflow() {
	s.at(time.Minute, func() { s.eval.set(20, false) })
	during := s.updateAt(2*time.Minute, UpdateAddAction, note("while evaluation stalls"))
	s.at(2*time.Hour, func() { s.eval.set(0, true) })
	failed := s.updateAt(2*time.Hour+time.Minute, UpdateAddAction, note("its evaluation fails for good"))
	later := s.updateAt(3*time.Hour, UpdateAddAction, note("later"))
	s.updateAt(4*time.Hour, UpdateChangeStatus, cancelTicket())
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())

	s.Require().NoError(during.err)
	s.True(during.at.Before(s.start.Add(3*time.Minute)), "changes are not held up by a stalled evaluation")
	s.Equal(0, s.eval.failures)
	s.Require().NoError(failed.err)
	s.Require().NoError(later.err)
	s.Equal(4, later.ticket.ActionCount)
	s.writes.mu.Lock()
	defer s.writes.mu.Unlock()
	var names []string
	for _, in := range s.writes.asked {
		names = append(names, in.Event.Name)
	}
	s.Contains(names, "ticket.action_added", "the stalled evaluations ran once the database was back")
}

// An update whose accept-by deadline has passed when its validator runs is refused (the API
// stopped waiting and answered an error); one within it lands however long its write takes.
func (s *DurabilitySuite) TestAcceptByDeadline() {
	expired, inTime := note("too late"), note("in time")
	expired.SetAcceptBy(s.start.Add(30 * time.Second))
	inTime.SetAcceptBy(s.start.Add(2 * time.Minute))
	s.at(30*time.Second, func() { s.persist.set(20, false) })
	late := s.updateAt(time.Minute, UpdateAddAction, expired)
	ok := s.updateAt(time.Minute+time.Second, UpdateAddAction, inTime)
	s.updateAt(time.Hour, UpdateChangeStatus, cancelTicket())
	s.env.ExecuteWorkflow(TicketWorkflowType, newInput(time.Hour))
	s.Require().NoError(s.env.GetWorkflowError())

	s.Equal(ErrTypeExpired, errType(late.rejected))
	s.Require().NoError(ok.err, "accepted within its deadline, it lands after the deadline")
	s.True(ok.at.After(s.start.Add(10 * time.Minute)))
	s.Equal(map[int]string{1: "It is on fire.", 2: "in time"}, s.actionsWritten())
}

// A notification that can never go out (too big for NOTIFY, say) does not hold up or fail the
// call: it ends, makes its ticket and finishes.
func (s *CallSuite) TestFailingNotificationNeverFailsTheCall() {
	s.env.OnActivity(ActivityNotifyAgent, mock.Anything, mock.Anything).Return(errors.New("payload string too long"))
	s.signalAt(time.Minute, SignalCallTransferred, CallTransferredSignal{Extension: "5252", AgentID: "ada", At: start.Add(time.Minute)})
	s.signalAt(10*time.Minute, SignalCallEnded, CallEndedSignal{Kind: CallCompleted, Link: "https://rec/" + string(make([]byte, 8000)), At: start.Add(10 * time.Minute)})
	s.env.ExecuteWorkflow(CallWorkflowType, callInput())
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	c := s.lastCall()
	s.Equal(CallCompleted, c.State)
	s.Require().NotNil(c.TicketID, "the call made its ticket")
	s.Len(s.acts.tickets, 1)
}

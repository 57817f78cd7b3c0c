package workflows

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/suite"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

// chatActs stands in for the chat's activities and records, with the simulated instant, what
// the workflow asked of them.
type chatActs struct {
	env *testsuite.TestWorkflowEnvironment
	// distributorDownUntil: NotifyChatDistributor fails before this instant.
	distributorDownUntil time.Time
	failedNotes          int
	mu                   sync.Mutex
	calls                int
	writes               []ChatWrite
	notified             []chatNote
	handoffs             []time.Time
	closed               []ChatClosedInput
	closedAt             []time.Time
	// The offline flow's activities: deliveries, intake closes and reached-agent notices with
	// their instants; mergeInto makes deliveries answer a merge; deliverFails a final failure.
	deliveries   []offlineBatch
	intakeClosed []OfflineIntakeClosed
	reached      []CustomerReachedAgent
	mergeInto    int64
	deliverFails bool
}

// now is the simulated instant an activity runs at. The test environment's clock moves in real
// time while an activity is being started, so under the race detector an activity can see its
// instant plus a millisecond or so: rounded to 100 ms, which still tells every asserted instant
// (whole seconds apart) from its neighbours.
func (a *chatActs) now() time.Time { return a.env.Now().UTC().Round(100 * time.Millisecond) }

type chatNote struct {
	ChatDistributorEvent
	at time.Time
}

func (a *chatActs) PersistChat(_ context.Context, w ChatWrite) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	a.writes = append(a.writes, w)
	return nil
}

func (a *chatActs) NotifyChatDistributor(_ context.Context, e ChatDistributorEvent) error {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if now.Before(a.distributorDownUntil) {
		a.failedNotes++
		return errors.New("distributor unreachable")
	}
	a.notified = append(a.notified, chatNote{e, now})
	return nil
}

func (a *chatActs) HandOffChatOffline(_ context.Context, h ChatHandOff) error {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	a.handoffs = append(a.handoffs, now)
	return nil
}

func (a *chatActs) ChatClosed(_ context.Context, c ChatClosedInput) error {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	a.closed = append(a.closed, c)
	a.closedAt = append(a.closedAt, now)
	return nil
}

type offlineBatch struct {
	OfflineDelivery
	at time.Time
}

func (a *chatActs) DeliverOfflineMessages(_ context.Context, d OfflineDelivery) (OfflineDelivered, error) {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	if a.deliverFails {
		return OfflineDelivered{}, temporal.NewNonRetryableApplicationError("the ticket refused it", "TicketClosed", nil)
	}
	a.deliveries = append(a.deliveries, offlineBatch{d, now})
	if a.mergeInto != 0 {
		return OfflineDelivered{TicketID: a.mergeInto, Merged: true}, nil
	}
	return OfflineDelivered{TicketID: 900}, nil
}

func (a *chatActs) CloseOfflineIntake(_ context.Context, in OfflineIntakeClosed) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	a.intakeClosed = append(a.intakeClosed, in)
	return nil
}

func (a *chatActs) CloseCustomerChatTickets(_ context.Context, in CustomerReachedAgent) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	a.reached = append(a.reached, in)
	return nil
}

func (a *chatActs) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.calls
}

// notes are the distributor events of one type.
func (a *chatActs) notes(typ string) []chatNote {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []chatNote
	for _, n := range a.notified {
		if n.Type == typ {
			out = append(out, n)
		}
	}
	return out
}

type ChatSuite struct {
	suite.Suite
	testsuite.WorkflowTestSuite
	env     *testsuite.TestWorkflowEnvironment
	acts    *chatActs
	updates int
}

func TestChatSession(t *testing.T) { suite.Run(t, new(ChatSuite)) }

func (s *ChatSuite) SetupTest() {
	s.env = s.NewTestWorkflowEnvironment()
	s.env.SetStartTime(start)
	s.acts = &chatActs{env: s.env}
	s.env.RegisterWorkflowWithOptions(ChatSession, workflow.RegisterOptions{Name: ChatSessionWorkflowType})
	s.env.RegisterActivityWithOptions(s.acts.PersistChat, activity.RegisterOptions{Name: ActivityPersistChat})
	s.env.RegisterActivityWithOptions(s.acts.NotifyChatDistributor, activity.RegisterOptions{Name: ActivityNotifyChatDistributor})
	s.env.RegisterActivityWithOptions(s.acts.HandOffChatOffline, activity.RegisterOptions{Name: ActivityHandOffChatOffline})
	s.env.RegisterActivityWithOptions(s.acts.ChatClosed, activity.RegisterOptions{Name: ActivityChatClosed})
	s.env.RegisterActivityWithOptions(s.acts.DeliverOfflineMessages, activity.RegisterOptions{Name: ActivityDeliverOfflineMessages})
	s.env.RegisterActivityWithOptions(s.acts.CloseOfflineIntake, activity.RegisterOptions{Name: ActivityCloseOfflineIntake})
	s.env.RegisterActivityWithOptions(s.acts.CloseCustomerChatTickets, activity.RegisterOptions{Name: ActivityCloseCustomerChatTickets})
}

func chatInput() ChatInput {
	return ChatInput{ID: "5f0c8a0e-0000-4000-8000-000000000001", Kind: ChatKindCustomer, GroupID: "support",
		WidgetID: "site", CustomerID: "cust-1", ArrivedAt: start,
		Group: ChatGroupSettings{AcceptWithin: time.Minute, CustomerInactivity: 10 * time.Minute, QueueWait: 5 * time.Minute}}
}

type chatOutcome struct {
	val      any
	err      error
	rejected error
	at       time.Time
}

func (o *chatOutcome) chat() Chat { c, _ := o.val.(Chat); return c }

// update sends an update at the given offset from the start and records its outcome.
func (s *ChatSuite) update(after time.Duration, name string, arg any) *chatOutcome {
	o := &chatOutcome{}
	s.updates++
	id := fmt.Sprintf("%s-%d", name, s.updates)
	s.env.RegisterDelayedCallback(func() {
		s.env.UpdateWorkflow(name, id, &testsuite.TestUpdateCallback{
			OnReject:   func(err error) { o.rejected, o.at = err, s.env.Now().UTC() },
			OnAccept:   func() {},
			OnComplete: func(v any, err error) { o.val, o.err, o.at = v, err, s.env.Now().UTC() },
		}, arg)
	}, after)
	return o
}

// stateAt queries the chat at a simulated instant.
func (s *ChatSuite) stateAt(after time.Duration) *ChatView {
	v := &ChatView{}
	s.env.RegisterDelayedCallback(func() {
		res, err := s.env.QueryWorkflow(QueryState)
		s.Require().NoError(err)
		s.Require().NoError(res.Get(v))
	}, after)
	return v
}

func (s *ChatSuite) result() ChatView {
	s.Require().True(s.env.IsWorkflowCompleted())
	s.Require().NoError(s.env.GetWorkflowError())
	var v ChatView
	s.Require().NoError(s.env.GetWorkflowResult(&v))
	return v
}

func at(d time.Duration) time.Time { return start.Add(d) }

func agentSays(agentID, body string) SendChatMessageInput {
	return SendChatMessageInput{AuthorID: agentID, Role: ChatRoleAgent, Body: body}
}

func customerSays(body string) SendChatMessageInput {
	return SendChatMessageInput{AuthorID: "cust-1", Role: ChatRoleCustomer, Body: body}
}

func (s *ChatSuite) closeAt(after time.Duration) *chatOutcome {
	return s.update(after, UpdateChatClose, CloseChatInput{By: "a-1", Reason: CloseByAgent})
}

func (s *ChatSuite) TestAcceptTimeoutRequeuesAndPassesOverTheAgent() {
	s.update(10*time.Second, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	// Queried just after: a callback at the timer's own instant runs before the timer.
	expired := s.stateAt(70*time.Second + time.Millisecond)
	late := s.update(71*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	s.update(80*time.Second, UpdateChatOffer, OfferChatInput{AgentID: "a-2"})
	accepted := s.update(90*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-2"})
	s.closeAt(100 * time.Second)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()

	s.Equal(ChatQueued, expired.Chat.State, "back in the queue at exactly acceptWithin after the offer")
	s.Equal([]string{"a-1"}, expired.Chat.PassedOver)
	s.Nil(expired.Chat.OfferedTo)
	s.Equal(ChatEventOfferExpired, expired.Events[2].Type)
	s.Equal(at(70*time.Second), expired.Events[2].At, "expired at exactly 10s+60s")
	notes := s.acts.notes(DistributorOfferExpired)
	s.Require().Len(notes, 1)
	s.Equal(at(70*time.Second), notes[0].at, "the distributor hears at exactly 10s+60s")
	s.Equal([]string{"a-1"}, notes[0].AgentIDs)
	s.Equal([]string{"a-1"}, notes[0].PassedOver)
	s.Equal(start, notes[0].ArrivedAt)
	s.Require().Error(late.rejected, "the agent who let it pass can no longer accept")
	s.Equal(ErrTypeConflict, errType(late.rejected))
	s.Require().NoError(accepted.err)
	s.Equal(ChatActive, accepted.chat().State)
	s.Equal("a-2", *accepted.chat().AgentID)
	s.Equal(ChatClosed, v.Chat.State)
	s.Equal(CloseByAgent, *v.Chat.CloseReason)
	s.Equal(at(100*time.Second), *v.Chat.ClosedAt)
	s.Equal([]string{"queued", "offered", "offer_expired", "offered", "accepted", "closed"}, eventTypes(v.Events))
}

func (s *ChatSuite) TestAcceptInTimeThenASilentVisitorIsWarnedAndClosed() {
	s.update(10*time.Second, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	accepted := s.update(30*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	later := s.stateAt(5 * time.Minute)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()

	s.Require().NoError(accepted.err)
	s.Equal(at(30*time.Second), *accepted.chat().AcceptedAt)
	s.Equal(ChatActive, later.Chat.State, "neither the accept timeout nor the queue wait fired")
	s.Empty(s.acts.notes(DistributorOfferExpired))
	s.Empty(s.acts.handoffs)
	// The visitor never wrote: inactivity counts from the accept (30s).
	s.Require().Len(v.Messages, 1)
	warn := v.Messages[0]
	s.Equal(ChatRoleSystem, warn.Role)
	s.Equal(at(30*time.Second+9*time.Minute), warn.CreatedAt, "warned a minute before the close")
	s.Contains(warn.Body, "1 minute")
	s.Equal(CloseInactivity, *v.Chat.CloseReason)
	s.Equal(at(30*time.Second+10*time.Minute), *v.Chat.ClosedAt, "closed at exactly customerInactivity after the accept")
	s.Equal(at(30*time.Second+10*time.Minute), s.env.Now().UTC())
	s.Require().Len(s.acts.closedAt, 1)
	s.Equal(at(30*time.Second+10*time.Minute), s.acts.closedAt[0])
	freed := s.acts.notes(DistributorSeatsFreed)
	s.Require().Len(freed, 1)
	s.Equal([]string{"a-1"}, freed[0].AgentIDs)
}

func (s *ChatSuite) TestInactivityCountsFromTheAgentSidesLastMessage() {
	in := chatInput()
	s.update(0, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(10*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	s.update(20*time.Second, UpdateChatSendMessage, customerSays("hello"))
	s.update(time.Minute, UpdateChatSendMessage, agentSays("a-1", "hi, how can I help?"))
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, in)
	v := s.result()

	s.Require().Len(v.Messages, 3)
	s.Equal([]int64{1, 2, 3}, []int64{v.Messages[0].Seq, v.Messages[1].Seq, v.Messages[2].Seq})
	s.Equal(ChatRoleSystem, v.Messages[2].Role)
	s.Equal(at(10*time.Minute), v.Messages[2].CreatedAt, "warning at agent's last message + 10m - 1m")
	s.Equal(at(11*time.Minute), *v.Chat.ClosedAt, "close at agent's last message + 10m")
	s.Equal(CloseInactivity, *v.Chat.CloseReason)
	s.Require().Len(s.acts.closed, 1)
	s.Len(s.acts.closed[0].Messages, 3, "ChatClosed receives the transcript")
}

func (s *ChatSuite) TestACustomerMessageResetsTheInactivityClock() {
	s.update(0, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(10*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	s.update(time.Minute, UpdateChatSendMessage, agentSays("a-1", "hi"))
	s.update(5*time.Minute, UpdateChatSendMessage, customerSays("my printer"))
	s.update(6*time.Minute, UpdateChatSendMessage, agentSays("a-1", "which model?"))
	// Warned at 15m; the visitor answers after the warning, the agent writes again at 20m.
	s.update(15*time.Minute+30*time.Second, UpdateChatSendMessage, customerSays("the big one"))
	s.update(20*time.Minute, UpdateChatSendMessage, agentSays("a-1", "rebooting it helps"))
	at11 := s.stateAt(11 * time.Minute)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()

	s.Equal(ChatActive, at11.Chat.State, "the first silence was broken by the visitor")
	var warnings []time.Time
	for _, m := range v.Messages {
		if m.Role == ChatRoleSystem {
			warnings = append(warnings, m.CreatedAt)
		}
	}
	s.Equal([]time.Time{at(15 * time.Minute), at(29 * time.Minute)}, warnings)
	s.Equal(at(30*time.Minute), *v.Chat.ClosedAt)
	s.Equal(CloseInactivity, *v.Chat.CloseReason)
}

func (s *ChatSuite) TestWarningLeadIsAFifthOfAShortInactivity() {
	in := chatInput()
	in.Group.CustomerInactivity = 2 * time.Minute
	s.update(0, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(0, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, in)
	v := s.result()
	s.Require().Len(v.Messages, 1)
	s.Equal(at(96*time.Second), v.Messages[0].CreatedAt, "2m - 2m/5")
	s.Contains(v.Messages[0].Body, "24 seconds")
	s.Equal(at(2*time.Minute), *v.Chat.ClosedAt)
}

func (s *ChatSuite) TestAnUnreachableDistributorDelaysNoTimer() {
	// Down for 3 minutes (the test environment gives a retried activity 10 attempts; the
	// worker's is unlimited).
	s.acts.distributorDownUntil = at(3 * time.Minute)
	s.update(10*time.Second, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()

	s.Equal(at(70*time.Second), v.Events[2].At, "the offer still expires on time")
	s.Equal(at(5*time.Minute), eventAt(v.Events, ChatEventOffline), "and the queue wait hands it to the offline flow on time")
	s.Empty(s.acts.handoffs, "the offline flow is the chat's own")
	s.Positive(s.acts.failedNotes)
	var seqs []int64
	var types []string
	for _, n := range s.acts.notified {
		s.False(n.at.Before(at(3*time.Minute)), "%v", n.at.Sub(start))
		seqs, types = append(seqs, n.Seq), append(types, n.Type)
	}
	s.Equal([]int64{1, 2, 3}, seqs, "delivered later, in order, each once")
	s.Equal([]string{DistributorChatWaiting, DistributorOfferExpired, DistributorChatGone}, types)
}

func (s *ChatSuite) TestTransferToAGroupKeepsTheOriginalArrival() {
	in := chatInput()
	in.ArrivedAt = start.Add(-2 * time.Minute) // arrived before this run started (its place in the queue)
	s.update(10*time.Second, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(20*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	s.update(time.Minute, UpdateChatSendMessage, customerSays("I need billing"))
	moved := s.update(3*time.Minute, UpdateChatTransfer, TransferChatInput{By: "a-1", GroupID: "billing",
		Reason: "billing question", Group: &ChatGroupSettings{QueueWait: 4 * time.Minute}})
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, in)
	v := s.result()

	s.Require().NoError(moved.err)
	c := moved.chat()
	s.Equal(ChatQueued, c.State)
	s.Equal("billing", c.GroupID)
	s.Equal(in.ArrivedAt, c.ArrivedAt, "queues ahead of chats that arrived later")
	s.Nil(c.AgentID)
	s.Empty(c.AgentIDs)
	waiting := s.acts.notes(DistributorChatWaiting)
	s.Require().Len(waiting, 2)
	s.Equal("billing", waiting[1].GroupID)
	s.Equal(in.ArrivedAt, waiting[1].ArrivedAt)
	s.Equal(at(3*time.Minute), waiting[1].at)
	freed := s.acts.notes(DistributorSeatsFreed)
	s.Require().NotEmpty(freed)
	s.Equal([]string{"a-1"}, freed[0].AgentIDs)
	s.Equal(at(3*time.Minute), freed[0].at)
	// The new group's queue wait counts from the transfer.
	s.Equal(at(7*time.Minute), eventAt(v.Events, ChatEventOffline))
	s.Equal(OfflineQueueWait, v.Events[5].Reason)
	s.Equal([]string{"queued", "offered", "accepted", "transferred", "queued", "offline", "closed"}, eventTypes(v.Events))
	s.Equal("billing question", v.Events[3].Reason)
}

func (s *ChatSuite) TestTransferToAnAgentOffersIt() {
	s.update(0, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(0, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	moved := s.update(2*time.Minute, UpdateChatTransfer, TransferChatInput{By: "a-1", AgentID: "a-2"})
	took := s.update(2*time.Minute+30*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-2"})
	s.update(3*time.Minute, UpdateChatClose, CloseChatInput{By: "cust-1", Reason: CloseByCustomer})
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()
	s.Require().NoError(moved.err)
	s.Equal(ChatOffered, moved.chat().State)
	s.Equal("a-2", *moved.chat().OfferedTo)
	s.Require().NoError(took.err)
	s.Equal([]string{"a-2"}, took.chat().AgentIDs)
	s.Equal(CloseByCustomer, *v.Chat.CloseReason)
	s.Require().Len(s.acts.notes(DistributorChatOffered), 1)
}

func (s *ChatSuite) TestTwoAcceptsTheFirstWins() {
	in := chatInput()
	in.Group.Manual = true
	first := s.update(10*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	second := s.update(10*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-2"})
	again := s.update(20*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	s.closeAt(time.Minute)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, in)
	v := s.result()

	s.Require().NoError(first.rejected)
	s.Require().NoError(first.err)
	s.Equal("a-1", *first.chat().AgentID)
	s.Require().Error(second.rejected, "the second accept is refused")
	s.Equal(ErrTypeConflict, errType(second.rejected))
	s.Require().NoError(again.err, "the winner accepting again is a no-op")
	s.Equal([]string{"a-1"}, v.Chat.AgentIDs)
	s.Len(s.acts.notes(DistributorSeatsTaken), 1)
}

func (s *ChatSuite) TestAutomaticGroupsRefuseAnAcceptWithoutOffer() {
	accept := s.update(10*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	s.update(20*time.Second, UpdateChatOffer, OfferChatInput{AgentID: "a-2"})
	other := s.update(30*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	offerAgain := s.update(30*time.Second, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(40*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-2"})
	s.closeAt(time.Minute)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()
	s.Equal(ErrTypeConflict, errType(accept.rejected))
	s.Equal(ErrTypeConflict, errType(other.rejected))
	s.Equal(ErrTypeConflict, errType(offerAgain.rejected), "an offered chat is not offered twice")
	s.Equal("a-2", *v.Chat.AgentID)
}

func (s *ChatSuite) TestARepeatedClientMessageIDAddsOneMessage() {
	s.update(0, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(0, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	msg := customerSays("hello")
	msg.ClientMessageID = "m-1"
	first := s.update(10*time.Second, UpdateChatSendMessage, msg)
	retry := s.update(20*time.Second, UpdateChatSendMessage, msg)
	mine := agentSays("a-1", "hello to you")
	mine.ClientMessageID = "m-1" // another author's id space
	other := s.update(30*time.Second, UpdateChatSendMessage, mine)
	s.closeAt(time.Minute)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()

	s.Require().NoError(first.err)
	s.Require().NoError(retry.err)
	s.Equal(first.val, retry.val, "the retry answers the first message")
	s.Equal(int64(1), first.val.(ChatMessage).Seq)
	s.Equal(at(10*time.Second), retry.val.(ChatMessage).CreatedAt)
	s.Require().NoError(other.err)
	s.Equal(int64(2), other.val.(ChatMessage).Seq)
	s.Len(v.Messages, 2)
	s.Equal(int64(2), v.Chat.MessageCount)
}

// A file goes with one message: a second message naming it (sent at the same moment, say) is
// refused naming attachmentIds, and writes nothing.
func (s *ChatSuite) TestAFileIsCarriedByOneMessage() {
	s.update(0, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(0, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	file := []schema.AttachmentRef{{ID: "f-1", Filename: "a.pdf", ContentType: "application/pdf", Size: 3}}
	one, two := customerSays("the file"), customerSays("the file again")
	one.ClientMessageID, one.Attachments = "m-1", file
	two.ClientMessageID, two.Attachments = "m-2", file
	first := s.update(10*time.Second, UpdateChatSendMessage, one)
	second := s.update(10*time.Second, UpdateChatSendMessage, two)
	s.closeAt(time.Minute)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()

	s.Require().NoError(first.err)
	s.Require().Error(second.rejected)
	s.Equal("attachmentIds", ErrorField(second.rejected))
	s.Len(v.Messages, 1)
}

func (s *ChatSuite) TestEveryRejectionWritesNothing() {
	s.update(0, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(0, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	var before, after int
	s.env.RegisterDelayedCallback(func() { before = s.acts.count() }, 5*time.Second)
	past := start
	bad := []struct {
		name string
		arg  any
		want string
	}{
		{UpdateChatOffer, OfferChatInput{}, ErrTypeInvalid},
		{UpdateChatOffer, OfferChatInput{AgentID: "a-2"}, ErrTypeConflict},
		{UpdateChatAccept, AcceptChatInput{}, ErrTypeInvalid},
		{UpdateChatAccept, AcceptChatInput{AgentID: "a-2"}, ErrTypeConflict},
		{UpdateChatSendMessage, SendChatMessageInput{AuthorID: "cust-1", Role: "robot", Body: "x"}, ErrTypeInvalid},
		{UpdateChatSendMessage, SendChatMessageInput{Role: ChatRoleCustomer, Body: "x"}, ErrTypeInvalid},
		{UpdateChatSendMessage, customerSays("   "), ErrTypeInvalid},
		{UpdateChatSendMessage, customerSays(strings.Repeat("x", MaxChatMessageChars+1)), ErrTypeInvalid},
		{UpdateChatSendMessage, SendChatMessageInput{AuthorID: "cust-2", Role: ChatRoleCustomer, Body: "x"}, ErrTypeConflict},
		{UpdateChatSendMessage, agentSays("a-2", "not my chat"), ErrTypeConflict},
		{UpdateChatSendMessage, SendChatMessageInput{Deadline: Deadline{AcceptBy: &past}, AuthorID: "cust-1", Role: ChatRoleCustomer, Body: "late"}, ErrTypeExpired},
		{UpdateChatTransfer, TransferChatInput{By: "a-1"}, ErrTypeInvalid},
		{UpdateChatTransfer, TransferChatInput{By: "a-1", AgentID: "a-2", GroupID: "billing"}, ErrTypeInvalid},
		{UpdateChatTransfer, TransferChatInput{By: "a-1", AgentID: "a-1"}, ErrTypeConflict},
		{UpdateChatInvite, InviteChatInput{By: "a-1"}, ErrTypeInvalid},
		{UpdateChatLeave, LeaveChatInput{AgentID: "a-2"}, ErrTypeConflict},
		{UpdateChatClose, CloseChatInput{By: "a-1", Reason: "bored"}, ErrTypeInvalid},
		{UpdateChatClose, CloseChatInput{Reason: CloseByAgent}, ErrTypeInvalid},
	}
	outcomes := make([]*chatOutcome, len(bad))
	for i, b := range bad {
		outcomes[i] = s.update(10*time.Second+time.Duration(i)*time.Second, b.name, b.arg)
	}
	s.env.RegisterDelayedCallback(func() { after = s.acts.count() }, time.Minute)
	s.closeAt(2 * time.Minute)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()

	for i, o := range outcomes {
		s.Require().Error(o.rejected, "%d: %s %+v", i, bad[i].name, bad[i].arg)
		s.Equal(bad[i].want, errType(o.rejected), "%d: %s: %v", i, bad[i].name, o.rejected)
	}
	s.Equal(before, after, "no activity ran for any rejected update")
	s.Equal("agentId", ErrorField(outcomes[0].rejected))
	s.Empty(v.Messages)
	s.Equal([]string{"queued", "offered", "accepted", "closed"}, eventTypes(v.Events))
}

func (s *ChatSuite) TestInviteAndLeave() {
	s.update(0, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(0, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	invited := s.update(time.Minute, UpdateChatInvite, InviteChatInput{By: "a-1", AgentID: "a-2"})
	said := s.update(2*time.Minute, UpdateChatSendMessage, agentSays("a-2", "hi, second agent here"))
	left := s.update(3*time.Minute, UpdateChatLeave, LeaveChatInput{AgentID: "a-1"})
	allGone := s.update(4*time.Minute, UpdateChatLeave, LeaveChatInput{AgentID: "a-2"})
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()
	s.Require().NoError(invited.err)
	s.Equal([]string{"a-1", "a-2"}, invited.chat().AgentIDs)
	s.Require().NoError(said.err)
	s.Require().NoError(left.err)
	s.Equal("a-2", *left.chat().AgentID, "the invited agent takes charge")
	s.Require().NoError(allGone.err)
	s.Equal(ChatQueued, allGone.chat().State, "with no agent left, back to the queue")
	s.Equal(at(9*time.Minute), eventAt(v.Events, ChatEventOffline), "the queue wait counts from the requeue")
}

func (s *ChatSuite) TestInternalChat() {
	in := ChatInput{ID: "5f0c8a0e-0000-4000-8000-000000000002", Kind: ChatKindInternal, StartedBy: "a-1"}
	s.update(0, UpdateChatInvite, InviteChatInput{By: "a-1", AgentID: "a-2"})
	s.update(time.Minute, UpdateChatSendMessage, agentSays("a-2", "yes?"))
	customer := s.update(time.Minute, UpdateChatSendMessage, customerSays("me too"))
	s.update(time.Hour, UpdateChatLeave, LeaveChatInput{AgentID: "a-2"})
	s.update(2*time.Hour, UpdateChatLeave, LeaveChatInput{AgentID: "a-1"})
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, in)
	v := s.result()
	s.Equal(ErrTypeConflict, errType(customer.rejected))
	s.Len(v.Messages, 1, "no inactivity warning in an internal chat")
	s.Equal(at(2*time.Hour), *v.Chat.ClosedAt, "the last agent leaving closes it")
	s.Equal(CloseByAgent, *v.Chat.CloseReason)
}

func (s *ChatSuite) TestContinueAsNewKeepsTheTranscriptAndState() {
	in := chatInput()
	in.MaxChangesPerRun = 3
	s.update(10*time.Second, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(20*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	msg := customerSays("hello")
	msg.ClientMessageID = "m-1"
	s.update(30*time.Second, UpdateChatSendMessage, msg)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, in)

	s.Require().True(s.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &can)
	s.Equal(ChatSessionWorkflowType, can.WorkflowType.Name)
	var next ChatInput
	s.Require().NoError(converterFor().FromPayloads(can.Input, &next))
	s.Require().NotNil(next.State)
	st := next.State
	s.Equal(ChatActive, st.Chat.State)
	s.Equal("a-1", *st.Chat.AgentID)
	s.Equal(int64(4), st.Chat.Version)
	s.Len(st.Messages, 1)
	s.Equal(at(20*time.Second), *st.ActiveSince)
	s.Equal(start, st.Chat.ArrivedAt)
	s.Empty(st.Outbox, "the distributor heard everything before the run ended")

	// The next run goes on from there: the retry of m-1 answers the first message, numbering
	// continues, and the inactivity clock still counts from the accept.
	s.SetupTest()
	next.MaxChangesPerRun = 0
	retry := s.update(time.Minute, UpdateChatSendMessage, msg)
	second := s.update(time.Minute, UpdateChatSendMessage, agentSays("a-1", "hi"))
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, next)
	v := s.result()
	s.Require().NoError(retry.err)
	s.Equal(int64(1), retry.val.(ChatMessage).Seq)
	s.Equal(int64(2), second.val.(ChatMessage).Seq)
	s.Equal(int64(5), s.acts.writes[0].Chat.Version, "the creation is not written again; versions continue")
	s.Equal(int64(2), s.acts.writes[0].Messages[0].Seq)
	s.Len(v.Messages, 3)
	s.Equal(at(11*time.Minute), *v.Chat.ClosedAt, "agent's last message + 10m")
	s.Require().Len(s.acts.closed, 1)
}

// eventAt is when the first event of the type happened (zero: never).
func eventAt(es []ChatEvent, typ string) time.Time {
	for _, e := range es {
		if e.Type == typ {
			return e.At
		}
	}
	return time.Time{}
}

func eventTypes(es []ChatEvent) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Type
	}
	return out
}

func TestChatWorkflowID(t *testing.T) {
	if got := ChatWorkflowID("5f0c8a0e"); got != "chat/5f0c8a0e" {
		t.Fatal(got)
	}
	if InactivityWarningLead(10*time.Minute) != time.Minute || InactivityWarningLead(2*time.Minute) != 24*time.Second {
		t.Fatal("warning lead")
	}
}

// The distributor's requeue of an idle agent's offer and that agent's accept land at the same
// instant: the accept wins and the requeue is refused (before, the requeue's transfer undid the
// accept). Offered and not accepted, the same requeue moves the chat back to the queue.
func (s *ChatSuite) TestRequeueOfAnOfferLosesToAnAcceptLandingFirst() {
	requeue := TransferChatInput{By: "distributor", GroupID: "support", OnlyIfOfferedTo: "a-1", Reason: "idle"}
	s.update(10*time.Second, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	accepted := s.update(20*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	lost := s.update(20*time.Second, UpdateChatTransfer, requeue)
	after := s.stateAt(21 * time.Second)
	s.closeAt(30 * time.Second)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	s.result()

	s.Require().NoError(accepted.err)
	refusal := lost.rejected
	if refusal == nil {
		refusal = lost.err
	}
	s.Require().Error(refusal, "the requeue after the accept is refused")
	s.Equal(ErrTypeConflict, errType(refusal))
	s.Contains(refusal.Error(), "no longer offered to a-1")
	s.Equal(ChatActive, after.Chat.State)
	s.Equal("a-1", *after.Chat.AgentID)
}

func (s *ChatSuite) TestRequeueOfAnOfferStillOfferedMovesItBack() {
	s.update(10*time.Second, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	moved := s.update(20*time.Second, UpdateChatTransfer,
		TransferChatInput{By: "distributor", GroupID: "support", OnlyIfOfferedTo: "a-1", Reason: "idle"})
	late := s.update(25*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	after := s.stateAt(26 * time.Second)
	s.closeAt(30 * time.Second)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	s.result()

	s.Require().NoError(moved.err)
	s.Require().NoError(moved.rejected)
	s.Error(late.rejected, "the offer is gone")
	s.Equal(ChatQueued, after.Chat.State)
	s.Nil(after.Chat.OfferedTo)
}

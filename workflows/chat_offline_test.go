package workflows

import (
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

// The offline flow (../shared/seeds/chat-desk-tickets.txt), on the test suite's clock: every
// timeout is asserted at its instant.

func offlineInput(reason string) ChatInput {
	in := chatInput()
	in.Offline = reason
	return in
}

// bodies are the messages' bodies with their roles, in order.
func bodies(ms []ChatMessage) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Role + ": " + m.Body
	}
	return out
}

func seqsOf(ms []ChatMessage) []int64 {
	out := make([]int64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func (s *ChatSuite) TestOutOfHoursYesMessagesThenEnd() {
	s.update(10*time.Second, UpdateChatSendMessage, customerSays("hello? my order is late"))
	yes := s.update(20*time.Second, UpdateChatSendMessage, customerSays("  yEs "))
	s.update(time.Minute, UpdateChatSendMessage, customerSays("order 4411"))
	s.update(2*time.Minute, UpdateChatSendMessage, customerSays("no")) // NO after YES: an ordinary message
	s.update(3*time.Minute, UpdateChatSendMessage, customerSays(" //END "))
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, offlineInput(OfflineOutOfHours))
	v := s.result()

	s.Require().NoError(yes.err)
	s.Equal([]string{
		"system: " + DefaultOfflinePrompt,
		"customer: hello? my order is late",
		"system: " + DefaultOfflinePrompt, // any other text: the prompt again
		"customer:   yEs ",
		"system: " + DefaultOfflineAutoresponder, // after the ticket was made
		"customer: order 4411",
		"customer: no",
		"customer:  //END ",
	}, bodies(v.Messages))
	s.Equal(at(0), v.Messages[0].CreatedAt, "asked at once")
	s.Equal(at(20*time.Second), v.Messages[4].CreatedAt, "autoresponder at the ticket's creation")
	s.Require().Len(s.acts.deliveries, 3)
	s.Equal(at(20*time.Second), s.acts.deliveries[0].at, "the ticket is made at the YES")
	s.Equal([]int64{2}, seqsOf(s.acts.deliveries[0].Messages), "the text before the answer is kept for the ticket")
	s.Nil(s.acts.deliveries[0].Chat.TicketID)
	s.Equal([]int64{6}, seqsOf(s.acts.deliveries[1].Messages))
	s.Equal(int64(900), *s.acts.deliveries[1].Chat.TicketID, "later messages go to the same ticket")
	s.Equal([]int64{7}, seqsOf(s.acts.deliveries[2].Messages))
	s.Equal(at(2*time.Minute), s.acts.deliveries[2].at)
	s.Require().Len(s.acts.intakeClosed, 1)
	s.Equal(OfflineIntakeClosed{ChatID: v.Chat.ID, TicketID: 900, Reason: IntakeEndCommand, At: at(3 * time.Minute)}, s.acts.intakeClosed[0])
	s.Equal(ChatClosed, v.Chat.State)
	s.Equal(CloseOfflineFlow, *v.Chat.CloseReason)
	s.Equal(at(3*time.Minute), *v.Chat.ClosedAt, "//end closes at once")
	s.Equal(int64(900), *v.Chat.TicketID)
	s.Equal([]string{"offline", "intake_opened", "ticket", "intake_closed", "closed"}, eventTypes(v.Events))
	s.Equal(OfflineOutOfHours, v.Events[0].Reason)
	s.Equal("created", v.Events[2].Reason)
	s.Equal(IntakeEndCommand, v.Events[3].Reason)
	s.Empty(s.acts.closed, "the ticket has the messages: no transcript ticket")
	s.Empty(s.acts.notified, "never queued: the distributor hears nothing")
}

func (s *ChatSuite) TestTheWindowClosesTenMinutesAfterTheLastMessage() {
	s.update(time.Minute, UpdateChatSendMessage, customerSays("YES"))
	s.update(2*time.Minute, UpdateChatSendMessage, customerSays("first"))
	s.update(9*time.Minute, UpdateChatSendMessage, customerSays("second"))
	before := s.stateAt(19*time.Minute - time.Millisecond)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, offlineInput(OfflineNoAgent))
	v := s.result()

	s.Equal(ChatOffline, before.Chat.State, "each message restarted the window")
	s.Require().Len(s.acts.intakeClosed, 1)
	s.Equal(IntakeTimeout, s.acts.intakeClosed[0].Reason)
	s.Equal(at(19*time.Minute), s.acts.intakeClosed[0].At, "10 minutes after the last message")
	s.Equal(at(19*time.Minute), *v.Chat.ClosedAt)
	s.Equal(CloseOfflineFlow, *v.Chat.CloseReason)
	s.Equal(OfflineNoAgent, v.Events[0].Reason)
}

func (s *ChatSuite) TestTheWindowIsConfigurablePerGroup() {
	in := offlineInput(OfflineOutOfHours)
	in.Group.IntakeClose = 3 * time.Minute
	in.Group.OfflinePrompt, in.Group.OfflineAutoresponder = "Leave a message? YES/NO", "Got it."
	s.update(time.Minute, UpdateChatSendMessage, customerSays("yes"))
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, in)
	v := s.result()

	s.Equal([]string{"system: Leave a message? YES/NO", "customer: yes"}, bodies(v.Messages),
		"nothing left for the ticket: no ticket and no autoresponder")
	s.Empty(s.acts.deliveries)
	s.Empty(s.acts.intakeClosed, "no ticket to record the window on")
	s.Equal(at(4*time.Minute), *v.Chat.ClosedAt, "YES + 3 minutes")
}

func (s *ChatSuite) TestNoEndsTheSessionAtOnce() {
	s.update(30*time.Second, UpdateChatSendMessage, customerSays(" No "))
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, offlineInput(OfflineOutOfHours))
	v := s.result()

	s.Equal(CloseDeclined, *v.Chat.CloseReason)
	s.Equal(at(30*time.Second), *v.Chat.ClosedAt)
	s.Empty(s.acts.deliveries)
	s.Empty(s.acts.closed)
	s.Equal(at(30*time.Second), s.env.Now().UTC(), "the run ended with the NO")
}

func (s *ChatSuite) TestSilenceAtThePromptExpiresLikeALiveChat() {
	s.update(2*time.Minute, UpdateChatSendMessage, customerSays("what is this?"))
	before := s.stateAt(12*time.Minute - time.Millisecond)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, offlineInput(OfflineOutOfHours))
	v := s.result()

	s.Equal(ChatOffline, before.Chat.State)
	s.Equal(CloseInactivity, *v.Chat.CloseReason)
	s.Equal(at(12*time.Minute), *v.Chat.ClosedAt, "customerInactivity after the last prompt")
	s.Empty(s.acts.deliveries, "no YES: nothing reaches a ticket")
}

func (s *ChatSuite) TestQueueWaitGoesToTheOfflineFlow() {
	s.update(time.Minute, UpdateChatSendMessage, customerSays("anyone there?"))
	prompted := s.stateAt(5*time.Minute + time.Millisecond)
	s.update(6*time.Minute, UpdateChatSendMessage, customerSays("yes"))
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	v := s.result()

	s.Equal(ChatOffline, prompted.Chat.State)
	s.Equal(OfflineQueueWait, prompted.Events[len(prompted.Events)-1].Reason)
	s.Equal(at(5*time.Minute), prompted.Messages[1].CreatedAt, "prompted at exactly queueWait")
	gone := s.acts.notes(DistributorChatGone)
	s.Require().Len(gone, 1)
	s.Equal(at(5*time.Minute), gone[0].at, "the distributor forgets it at queueWait")
	s.Empty(s.acts.handoffs)
	s.Require().NotEmpty(s.acts.deliveries)
	s.Equal([]int64{1}, seqsOf(s.acts.deliveries[0].Messages), "what they wrote while queued reaches the ticket")
	s.Equal(at(16*time.Minute), *v.Chat.ClosedAt, "the window closed 10 minutes after the YES")
	s.Equal([]string{"queued", "offline", "intake_opened", "ticket", "intake_closed", "closed"}, eventTypes(v.Events))
}

func (s *ChatSuite) TestAMergedTicketIsRecordedAsMerged() {
	s.acts.mergeInto = 77
	s.update(0, UpdateChatSendMessage, customerSays("help"))
	s.update(time.Minute, UpdateChatSendMessage, customerSays("yes"))
	s.update(2*time.Minute, UpdateChatSendMessage, customerSays("again"))
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, offlineInput(OfflineOutOfHours))
	v := s.result()

	s.Equal(int64(77), *v.Chat.TicketID)
	s.Equal("merged", v.Events[2].Reason)
	s.Len(s.acts.deliveries, 2)
	s.Equal(int64(77), s.acts.intakeClosed[0].TicketID)
}

func (s *ChatSuite) TestClosingTheWidgetInTheWindowActsAsEnd() {
	s.update(0, UpdateChatSendMessage, customerSays("yes"))
	s.update(time.Minute, UpdateChatSendMessage, customerSays("the printer"))
	s.update(2*time.Minute, UpdateChatClose, CloseChatInput{By: "cust-1", Reason: CloseByCustomer})
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, offlineInput(OfflineOutOfHours))
	v := s.result()

	s.Require().Len(s.acts.intakeClosed, 1)
	s.Equal(IntakeCustomerClosed, s.acts.intakeClosed[0].Reason)
	s.Equal(at(2*time.Minute), *v.Chat.ClosedAt)
	s.Equal(CloseOfflineFlow, *v.Chat.CloseReason)
}

func (s *ChatSuite) TestAFailedDeliveryStrandsNothing() {
	s.acts.deliverFails = true
	s.update(0, UpdateChatSendMessage, customerSays("yes"))
	s.update(time.Minute, UpdateChatSendMessage, customerSays("lost?"))
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, offlineInput(OfflineOutOfHours))
	v := s.result()

	s.Contains(eventTypes(v.Events), ChatEventOfflineFailed)
	s.Equal("customer: lost?", bodies(v.Messages)[2], "the message stays in the transcript")
	s.Equal(at(11*time.Minute), *v.Chat.ClosedAt, "the window still closes on time")
}

func (s *ChatSuite) TestTransferIsRefusedInTheOfflineFlow() {
	o := s.update(time.Minute, UpdateChatTransfer, TransferChatInput{By: "a-1", GroupID: "billing"})
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, offlineInput(OfflineOutOfHours))
	s.result()
	s.Require().Error(o.rejected)
	s.Equal(ErrTypeConflict, errType(o.rejected))
}

func (s *ChatSuite) TestTheFirstAcceptClosesTheCustomersChatTicketsOnce() {
	s.update(0, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(10*time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	s.update(time.Minute, UpdateChatTransfer, TransferChatInput{By: "a-1", AgentID: "a-2"})
	s.update(2*time.Minute, UpdateChatAccept, AcceptChatInput{AgentID: "a-2"})
	s.closeAt(3 * time.Minute)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, chatInput())
	s.result()

	s.Require().Len(s.acts.reached, 1, "told once, at the first accept")
	s.Equal(CustomerReachedAgent{ChatID: chatInput().ID, CustomerID: "cust-1", AgentID: "a-1", At: at(10 * time.Second)}, s.acts.reached[0])
}

func (s *ChatSuite) TestTheOfflineFlowSurvivesContinueAsNew() {
	in := offlineInput(OfflineOutOfHours)
	in.MaxChangesPerRun = 3 // the re-prompt, the YES, the ticket
	s.update(time.Second, UpdateChatSendMessage, customerSays("hi"))
	s.update(2*time.Second, UpdateChatSendMessage, customerSays("yes"))
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, in)

	s.Require().True(s.env.IsWorkflowCompleted())
	var can *workflow.ContinueAsNewError
	s.Require().ErrorAs(s.env.GetWorkflowError(), &can)
	var next ChatInput
	s.Require().NoError(converterFor().FromPayloads(can.Input, &next))
	st := next.State
	s.Require().NotNil(st)
	s.Require().NotNil(st.Offline)
	s.Equal(OfflineIntake, st.Offline.Phase)
	s.Empty(st.Offline.Pending, "the run ended only once the delivery was applied")
	s.True(st.Offline.Autoresponded)
	s.Equal(int64(900), *st.Chat.TicketID)

	s.SetupTest()
	next.MaxChangesPerRun = 0
	s.update(time.Minute, UpdateChatSendMessage, customerSays("more"))
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, next)
	v := s.result()
	s.Require().Len(s.acts.deliveries, 1)
	s.Equal(int64(900), *s.acts.deliveries[0].Chat.TicketID)
	s.Equal(1, strings.Count(strings.Join(bodies(v.Messages), "\n"), DefaultOfflineAutoresponder), "one autoresponder")
	s.Equal(at(11*time.Minute), *v.Chat.ClosedAt, "the window counts on in the new run")
	s.Equal(IntakeTimeout, s.acts.intakeClosed[0].Reason)
}

// WhatsApp's 24-hour window in a live WhatsApp chat: it closes exactly 24 hours after the
// customer's last message (an event), the agent's free text is refused from that instant, and
// the customer's next message opens it again.
func (s *ChatSuite) TestTheWhatsAppWindowClosesAtExactly24Hours() {
	in := chatInput()
	in.Channel, in.ChannelContact = schema.ChannelWhatsApp, "+15550001"
	in.Group.CustomerInactivity = 24 * time.Hour // the agent side's messages keep the chat open
	s.update(0, UpdateChatOffer, OfferChatInput{AgentID: "a-1"})
	s.update(time.Second, UpdateChatAccept, AcceptChatInput{AgentID: "a-1"})
	s.update(time.Minute, UpdateChatSendMessage, customerSays("hello"))
	justIn := s.update(time.Minute+24*time.Hour-time.Second, UpdateChatSendMessage, agentSays("a-1", "still there?"))
	closed := s.stateAt(time.Minute + 24*time.Hour + time.Millisecond)
	late := s.update(time.Minute+24*time.Hour, UpdateChatSendMessage, agentSays("a-1", "hello?"))
	s.update(time.Minute+25*time.Hour, UpdateChatSendMessage, customerSays("sorry, back"))
	again := s.update(time.Minute+25*time.Hour+time.Second, UpdateChatSendMessage, agentSays("a-1", "welcome back"))
	s.closeAt(time.Minute + 26*time.Hour)
	s.env.ExecuteWorkflow(ChatSessionWorkflowType, in)
	v := s.result()

	s.Require().NoError(justIn.err, "a second before the 24 hours: free text goes")
	s.Equal(at(time.Minute+24*time.Hour), eventAt(closed.Events, ChatEventWindowClosed), "closed at exactly 24 h")
	s.Require().Error(late.rejected, "from the 24th hour on: refused")
	s.Equal(ErrTypeInvalid, errType(late.rejected))
	s.Equal("body", ErrorField(late.rejected))
	s.Require().NoError(again.err, "the customer's message opened the window again")
	n := 0
	for _, e := range v.Events {
		if e.Type == ChatEventWindowClosed {
			n++
		}
	}
	s.Equal(1, n, "one close per customer message")
}

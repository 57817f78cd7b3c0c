package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/workflows"
)

// chatJSON is a chat as the agents' API answers it.
type chatJSON struct {
	ID           string   `json:"id"`
	Kind         string   `json:"kind"`
	State        string   `json:"state"`
	GroupID      string   `json:"groupId"`
	AgentID      *string  `json:"agentId"`
	AgentIDs     []string `json:"agentIds"`
	CustomerID   *string  `json:"customerId"`
	TicketID     *int64   `json:"ticketId"`
	CloseReason  *string  `json:"closeReason"`
	MessageCount int64    `json:"messageCount"`
}

type chatMessageJSON struct {
	Seq             int64  `json:"seq"`
	AuthorID        string `json:"authorId"`
	Role            string `json:"role"`
	Body            string `json:"body"`
	ClientMessageID string `json:"clientMessageId"`
}

type chatDetailJSON struct {
	chatJSON
	InvitedAgentIDs []string          `json:"invitedAgentIds"`
	Messages        []chatMessageJSON `json:"messages"`
	Events          []struct {
		Type    string `json:"type"`
		AgentID string `json:"agentId"`
	} `json:"events"`
}

// chatTicketJSON is the part of a ticket made from a chat the tests read.
type chatTicketJSON struct {
	ticket
	ChatID          *string `json:"chatId"`
	ChatGroup       *string `json:"chatGroup"`
	ChatWidget      *string `json:"chatWidget"`
	ChatWaitingTime *int64  `json:"chatWaitingTime"`
	ChatTalkTime    *int64  `json:"chatTalkTime"`
}

// manualChatGroup is a chat group without automatic distribution (members accept from the
// queue; the distributor is not needed).
func (s *stack) manualChatGroup(t *testing.T, members ...string) chatGroupJSON {
	t.Helper()
	ms := []map[string]any{}
	for _, m := range members {
		ms = append(ms, map[string]any{"agentId": m})
	}
	return s.chatGroup(t, map[string]any{"name": randomName("chat-"), "members": ms,
		"distribution": map[string]any{"automatic": false}})
}

// startCustomerChat starts a visitor's chat straight through Temporal, as the public widget API
// does: queued in the group.
func (s *stack) startCustomerChat(t *testing.T, groupID, customerID string) string {
	t.Helper()
	id := uuid.NewString()
	_, err := s.tc.ExecuteWorkflow(context.Background(), client.StartWorkflowOptions{ID: workflows.ChatWorkflowID(id), TaskQueue: s.taskQueue},
		workflows.ChatSessionWorkflowType, workflows.ChatInput{ID: id, Kind: workflows.ChatKindCustomer, GroupID: groupID,
			CustomerID: customerID, Group: workflows.ChatGroupSettings{Manual: true}})
	require.NoError(t, err)
	eventually(t, 20*time.Second, func() bool {
		return s.call(t, s.admin, "GET", "/api/v1/chats/"+id, nil).status == 200
	}, "chat "+id+" stored")
	return id
}

// customerSays sends the visitor's message as the public widget API does: the SendMessage
// update with the customer role.
func (s *stack) customerSays(t *testing.T, chatID, customerID, body, clientID string) workflows.ChatMessage {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := s.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.ChatWorkflowID(chatID),
		UpdateName: workflows.UpdateChatSendMessage, WaitForStage: client.WorkflowUpdateStageCompleted,
		Args: []any{workflows.SendChatMessageInput{AuthorID: customerID, Role: workflows.ChatRoleCustomer, Body: body, ClientMessageID: clientID}}})
	require.NoError(t, err)
	var m workflows.ChatMessage
	require.NoError(t, h.Get(ctx, &m))
	return m
}

func (s *stack) chatCall(t *testing.T, token, id, sub string, body any) *resp {
	t.Helper()
	return s.call(t, token, "POST", "/api/v1/chats/"+id+"/"+sub, body)
}

func (s *stack) chatChange(t *testing.T, token, id, sub string, body any) chatJSON {
	t.Helper()
	var ch chatJSON
	s.chatCall(t, token, id, sub, body).expect(200).decode(&ch)
	return ch
}

func (s *stack) chatSays(t *testing.T, token, id, body, clientID string) chatMessageJSON {
	t.Helper()
	var m chatMessageJSON
	s.chatCall(t, token, id, "messages", map[string]any{"body": body, "clientMessageId": clientID}).expect(201).decode(&m)
	return m
}

func (s *stack) chatDetail(t *testing.T, token, id string) chatDetailJSON {
	t.Helper()
	var d chatDetailJSON
	s.call(t, token, "GET", "/api/v1/chats/"+id, nil).expect(200).decode(&d)
	return d
}

// until reads the stream's events until one named name comes.
func (e *sse) until(t *testing.T, name string) {
	t.Helper()
	for {
		if e.next(t) == name {
			return
		}
	}
}

// An agent's chat started from a ticket: messages both ways (a retried one stored once), the
// agent's stream hears the customer, an invited agent writes, the first leaves, the second
// closes, and the transcript joins the ticket as public actions by their authors, in order.
func TestChatFromTicket(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	g := s.manualChatGroup(t, p.agent, p.agent2)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Printer", "description": "It jams", "clientIds": []string{p.customer}})
	before := tk.ActionCount
	stream := s.stream(t, p.agentTok)

	var ch chatJSON
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/chat", tk.ID), map[string]any{"groupId": g.ID}).expect(201).decode(&ch)
	require.Equal(t, "active", ch.State)
	require.Equal(t, "customer", ch.Kind)
	require.Equal(t, p.agent, *ch.AgentID)
	require.Equal(t, p.customer, *ch.CustomerID)
	require.Equal(t, tk.ID, *ch.TicketID)
	require.Equal(t, g.ID, ch.GroupID)

	m1 := s.chatSays(t, p.agentTok, ch.ID, "Hello, how can I help?", "a-1")
	require.EqualValues(t, 1, m1.Seq)
	again := s.chatSays(t, p.agentTok, ch.ID, "Hello, how can I help?", "a-1")
	require.EqualValues(t, 1, again.Seq, "a retried message is the first one")

	m2 := s.customerSays(t, ch.ID, p.customer, "My printer jams", "c-1")
	require.EqualValues(t, 2, m2.Seq)
	stream.until(t, "chat.message")

	var page struct {
		Data    []chatMessageJSON `json:"data"`
		HasMore bool              `json:"hasMore"`
	}
	s.call(t, p.agentTok, "GET", "/api/v1/chats/"+ch.ID+"/messages?after=1", nil).expect(200).decode(&page)
	require.Len(t, page.Data, 1)
	require.Equal(t, "My printer jams", page.Data[0].Body)
	require.Equal(t, "customer", page.Data[0].Role)
	require.False(t, page.HasMore)

	stream2 := s.stream(t, p.agent2Tok)
	ch = s.chatChange(t, p.agentTok, ch.ID, "invite", map[string]any{"agentId": p.agent2})
	require.Equal(t, []string{p.agent}, ch.AgentIDs, "the invited agent joins when they accept")
	stream2.until(t, "chat.invited")
	require.Equal(t, []string{p.agent2}, s.chatDetail(t, p.agentTok, ch.ID).InvitedAgentIDs)
	s.chatCall(t, p.agent2Tok, ch.ID, "messages", map[string]any{"body": "hi", "clientMessageId": "b-0"}).expectError(409, "conflict")
	ch = s.chatChange(t, p.agent2Tok, ch.ID, "accept", nil)
	require.Equal(t, []string{p.agent, p.agent2}, ch.AgentIDs)
	require.Equal(t, p.agent, *ch.AgentID, "the agent in charge stays")
	require.Empty(t, s.chatDetail(t, p.agentTok, ch.ID).InvitedAgentIDs)
	s.chatSays(t, p.agent2Tok, ch.ID, "I'm Bob, I'll take it from here", "b-1")
	ch = s.chatChange(t, p.agentTok, ch.ID, "leave", nil)
	require.Equal(t, p.agent2, *ch.AgentID)
	require.Equal(t, []string{p.agent2}, ch.AgentIDs)
	// The agent who left no longer writes.
	s.chatCall(t, p.agentTok, ch.ID, "messages", map[string]any{"body": "hi", "clientMessageId": "a-2"}).expectError(409, "conflict")

	ch = s.chatChange(t, p.agent2Tok, ch.ID, "close", nil)
	require.Equal(t, "closed", ch.State)
	require.Equal(t, "agent", *ch.CloseReason)

	// The transcript joins the ticket.
	eventually(t, 20*time.Second, func() bool { return s.ticket(t, p.agentTok, tk.ID).ActionCount == before+3 }, "transcript on the ticket")
	got := s.ticket(t, p.agentTok, tk.ID)
	tail := got.Actions[len(got.Actions)-3:]
	require.Equal(t, []action{
		{ID: before + 1, Type: "public", Body: "Hello, how can I help?", AuthorID: p.agent},
		{ID: before + 2, Type: "public", Body: "My printer jams", AuthorID: p.customer},
		{ID: before + 3, Type: "public", Body: "I'm Bob, I'll take it from here", AuthorID: p.agent2},
	}, tail)
	// The chat's fields name it on the ticket it joined.
	var joined chatTicketJSON
	eventually(t, 20*time.Second, func() bool {
		s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200).decode(&joined)
		return joined.ChatID != nil
	}, "the chat fields on the ticket")
	require.Equal(t, ch.ID, *joined.ChatID)
	require.Equal(t, g.ID, *joined.ChatGroup)
	require.Nil(t, joined.ChatWidget)
	require.NotNil(t, joined.ChatWaitingTime)
	require.NotNil(t, joined.ChatTalkTime)
	require.GreaterOrEqual(t, *joined.ChatTalkTime, int64(0))
	require.Equal(t, tk.Origin, joined.Origin, "the ticket keeps its own origin")

	d := s.chatDetail(t, p.agentTok, ch.ID)
	require.Equal(t, "closed", d.State)
	require.Len(t, d.Messages, 3)
	types := []string{}
	for _, e := range d.Events {
		types = append(types, e.Type)
	}
	require.Equal(t, []string{"accepted", "invited", "left", "closed"}, types)
}

// A visitor's chat queued in a group: only members accept (supervisors read), a transfer to
// another group queues it there, that group's member accepts, the close makes a ticket with
// origin 5, the transcript and the chat's fields; the chat records the ticket.
func TestChatClosedBecomesTicket(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	g1 := s.manualChatGroup(t, p.agent)
	g2 := s.manualChatGroup(t, p.agent2)
	id := s.startCustomerChat(t, g1.ID, p.customer)
	s.customerSays(t, id, p.customer, "Hello, my order never came", "c-1")

	s.chatCall(t, p.agent2Tok, id, "accept", nil).expectError(403, "forbidden")
	s.chatCall(t, p.customerTok, id, "accept", nil).expectError(403, "forbidden")
	require.Equal(t, "queued", s.chatDetail(t, p.agent2Tok, id).State, "anyone on the staff reads it")

	ch := s.chatChange(t, p.agentTok, id, "accept", nil)
	require.Equal(t, "active", ch.State)
	require.Equal(t, p.agent, *ch.AgentID)
	s.chatCall(t, p.agent2Tok, id, "accept", nil).expectError(403, "forbidden")
	// Operators find it in Temporal by group, agent and state.
	desc, err := s.tc.DescribeWorkflowExecution(context.Background(), workflows.ChatWorkflowID(id), "")
	require.NoError(t, err)
	sa := desc.GetWorkflowExecutionInfo().GetSearchAttributes().GetIndexedFields()
	for name, want := range map[string]string{"ChatGroup": g1.ID, "ChatAgent": p.agent, "ChatState": "active"} {
		require.Contains(t, sa, name)
		require.Equal(t, `"`+want+`"`, string(sa[name].GetData()), name)
	}

	var list struct {
		Data       []chatJSON `json:"data"`
		NextCursor *string    `json:"next_cursor"`
	}
	s.call(t, p.agent2Tok, "GET", "/api/v1/chats?state=active&agentId="+p.agent+"&groupId="+g1.ID, nil).expect(200).decode(&list)
	require.Len(t, list.Data, 1)
	require.Equal(t, id, list.Data[0].ID)
	s.call(t, p.agent2Tok, "GET", "/api/v1/chats?customerId="+p.customer+"&from="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), nil).expect(200).decode(&list)
	require.Len(t, list.Data, 1)
	s.call(t, p.agent2Tok, "GET", "/api/v1/chats?customerId="+p.customer+"&to="+time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), nil).expect(200).decode(&list)
	require.Empty(t, list.Data)

	s.chatSays(t, p.agentTok, id, "Let me pass you to shipping", "a-1")
	ch = s.chatChange(t, p.agentTok, id, "transfer", map[string]any{"groupId": g2.ID, "reason": "shipping"})
	require.Equal(t, "queued", ch.State)
	require.Equal(t, g2.ID, ch.GroupID)
	s.chatCall(t, p.agentTok, id, "accept", nil).expectError(403, "forbidden")
	ch = s.chatChange(t, p.agent2Tok, id, "accept", nil)
	require.Equal(t, p.agent2, *ch.AgentID)
	s.chatSays(t, p.agent2Tok, id, "It ships tomorrow", "b-1")
	s.chatChange(t, p.agent2Tok, id, "close", nil)

	var tid int64
	eventually(t, 20*time.Second, func() bool {
		d := s.chatDetail(t, p.agentTok, id)
		if d.TicketID != nil {
			tid = *d.TicketID
		}
		return tid != 0
	}, "the closed chat's ticket")
	var tk chatTicketJSON
	eventually(t, 20*time.Second, func() bool {
		r := s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tid), nil)
		if r.status != 200 {
			return false
		}
		r.decode(&tk)
		return true
	}, "the ticket readable")
	require.Equal(t, 5, tk.Origin)
	require.Equal(t, []string{p.customer}, tk.ClientIDs)
	require.Equal(t, p.agent2, *tk.OwnerID)
	require.Equal(t, "Chat: Hello, my order never came", tk.Subject)
	require.Equal(t, id, *tk.ChatID)
	require.Equal(t, g2.ID, *tk.ChatGroup)
	require.Nil(t, tk.ChatWidget)
	require.NotNil(t, tk.ChatWaitingTime)
	require.NotNil(t, tk.ChatTalkTime)
	require.GreaterOrEqual(t, *tk.ChatWaitingTime, int64(0))
	require.GreaterOrEqual(t, *tk.ChatTalkTime, int64(0))
	require.Equal(t, []action{
		{ID: 1, Type: "public", Body: "Hello, my order never came", AuthorID: p.customer},
		{ID: 2, Type: "public", Body: "Let me pass you to shipping", AuthorID: p.agent},
		{ID: 3, Type: "public", Body: "It ships tomorrow", AuthorID: p.agent2},
	}, tk.Actions)
	// The hand-over run again (a retried activity) makes no second ticket.
	v, err := s.tc.QueryWorkflow(context.Background(), workflows.ChatWorkflowID(id), "", workflows.QueryState)
	require.NoError(t, err)
	var view workflows.ChatView
	require.NoError(t, v.Get(&view))
	acts := &activities.Activities{DB: s.db, Temporal: s.tc}
	require.NoError(t, acts.ChatClosed(context.Background(), workflows.ChatClosedInput{Chat: view.Chat, Messages: view.Messages, Events: view.Events}))
	n, err := s.db.NewSelect().Table("tickets").Where("chat_id = ?", id).Count(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	require.Equal(t, tid, *s.chatDetail(t, p.agentTok, id).TicketID)

	// The customer sees their ticket too.
	require.Equal(t, 200, s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tid), nil).status)

	// Closed: no more changes.
	s.chatCall(t, p.agent2Tok, id, "messages", map[string]any{"body": "hi", "clientMessageId": "b-2"}).expectError(409, "conflict")
	s.chatCall(t, p.agent2Tok, id, "close", nil).expectError(409, "conflict")
	s.chatCall(t, p.agent2Tok, id, "accept", nil).expectError(409, "conflict")
}

// An internal chat between two agents: the invited one hears of it on their stream, reads it,
// accepts and joins, hears the next message, answers; a close makes no ticket.
func TestChatInternal(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	stream := s.stream(t, p.agent2Tok)
	var ch chatJSON
	s.call(t, p.agentTok, "POST", "/api/v1/chats", map[string]any{"kind": "internal", "agentIds": []string{p.agent2},
		"message": "Got a minute?"}).expect(201).decode(&ch)
	require.Equal(t, "internal", ch.Kind)
	require.Equal(t, "active", ch.State)
	require.Equal(t, []string{p.agent}, ch.AgentIDs)
	require.EqualValues(t, 1, ch.MessageCount)
	stream.until(t, "chat.invited")
	d := s.chatDetail(t, p.agent2Tok, ch.ID)
	require.Equal(t, []string{p.agent2}, d.InvitedAgentIDs)
	require.Equal(t, "Got a minute?", d.Messages[0].Body)

	ch = s.chatChange(t, p.agent2Tok, ch.ID, "accept", nil)
	require.Equal(t, []string{p.agent, p.agent2}, ch.AgentIDs)
	require.Equal(t, ch, s.chatChange(t, p.agent2Tok, ch.ID, "accept", nil), "accepting again changes nothing")
	s.chatSays(t, p.agentTok, ch.ID, "The deploy is stuck", "a-2")
	stream.until(t, "chat.message")
	s.chatSays(t, p.agent2Tok, ch.ID, "Sure", "b-1")
	d = s.chatDetail(t, p.agentTok, ch.ID)
	require.Len(t, d.Messages, 3)
	require.Equal(t, p.agent, d.Messages[0].AuthorID)
	require.Equal(t, "Sure", d.Messages[2].Body)
	// Someone not invited does not join.
	outsider := s.newPeople(t)
	s.chatCall(t, outsider.agentTok, ch.ID, "accept", nil).expectError(403, "forbidden")

	// Internal chats are not transferred; a customer's role has no place in them.
	s.chatCall(t, p.agentTok, ch.ID, "transfer", map[string]any{"agentId": p.agent2}).expectError(409, "conflict")
	s.chatChange(t, p.agentTok, ch.ID, "close", nil)
	stream.until(t, "chat.closed")
	time.Sleep(time.Second)
	require.Nil(t, s.chatDetail(t, p.agentTok, ch.ID).TicketID, "an internal chat makes no ticket")
}

// Bad inputs are 4xx naming the field; customers are refused; unknown chats are 404.
func TestChatBadInput(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	g := s.manualChatGroup(t, p.agent)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Chat me", "clientIds": []string{p.customer}})
	noClient := s.createTicket(t, p.agentTok, map[string]any{"subject": "Nobody"})

	s.call(t, p.agentTok, "GET", "/api/v1/chats/"+uuid.NewString(), nil).expectError(404, "not_found")
	s.call(t, p.agentTok, "GET", "/api/v1/chats/nope", nil).expectError(404, "not_found")
	s.chatCall(t, p.agentTok, uuid.NewString(), "accept", nil).expectError(404, "not_found")
	s.chatCall(t, p.agentTok, uuid.NewString(), "messages", map[string]any{"body": "x", "clientMessageId": "1"}).expectError(404, "not_found")

	s.call(t, p.customerTok, "GET", "/api/v1/chats", nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "POST", "/api/v1/chats", map[string]any{"kind": "internal", "agentIds": []string{p.agent}}).expectError(403, "forbidden")
	s.call(t, p.customerTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/chat", tk.ID), map[string]any{"groupId": g.ID}).expectError(403, "forbidden")

	s.call(t, p.agentTok, "GET", "/api/v1/chats?state=bogus", nil).expectError(422, "validation_failed", "state")
	s.call(t, p.agentTok, "GET", "/api/v1/chats?from=yesterday", nil).expectError(422, "validation_failed", "from")
	s.call(t, p.agentTok, "GET", "/api/v1/chats?limit=0", nil).expectError(422, "validation_failed", "limit")

	s.call(t, p.agentTok, "POST", "/api/v1/chats", map[string]any{"kind": "customer", "agentIds": []string{p.agent2}}).expectError(422, "validation_failed", "kind")
	s.call(t, p.agentTok, "POST", "/api/v1/chats", map[string]any{"kind": "internal", "agentIds": []string{}}).expectError(422, "validation_failed", "agentIds")
	s.call(t, p.agentTok, "POST", "/api/v1/chats", map[string]any{"kind": "internal", "agentIds": []string{p.customer}}).expectError(422, "validation_failed", "agentIds[0]")
	s.call(t, p.agentTok, "POST", "/api/v1/chats", map[string]any{"kind": "internal", "agentIds": []string{p.agent2, p.agent2}}).expectError(422, "validation_failed", "agentIds[1]")
	s.call(t, p.agentTok, "POST", "/api/v1/chats", map[string]any{"kind": "internal", "agentIds": []string{p.agent}}).expectError(422, "validation_failed", "agentIds[0]")

	path := fmt.Sprintf("/api/v1/tickets/%d/chat", tk.ID)
	s.call(t, p.agentTok, "POST", path, map[string]any{}).expectError(422, "validation_failed", "groupId")
	s.call(t, p.agentTok, "POST", path, map[string]any{"groupId": "nope"}).expectError(422, "validation_failed", "groupId")
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/chat", noClient.ID), map[string]any{"groupId": g.ID}).expectError(409, "conflict")
	s.call(t, p.agentTok, "POST", "/api/v1/tickets/999999999/chat", map[string]any{"groupId": g.ID}).expectError(404, "not_found")
	canceled := s.createTicket(t, p.agentTok, map[string]any{"subject": "Gone", "clientIds": []string{p.customer}})
	s.post(t, p.agentTok, canceled.ID, "status", map[string]any{"status": "Canceled"}).expect(200)
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/chat", canceled.ID), map[string]any{"groupId": g.ID}).expectError(409, "conflict")

	var ch chatJSON
	s.call(t, p.agentTok, "POST", path, map[string]any{"groupId": g.ID}).expect(201).decode(&ch)
	s.chatCall(t, p.agentTok, ch.ID, "messages", map[string]any{"body": "hi"}).expectError(422, "validation_failed", "clientMessageId")
	s.chatCall(t, p.agentTok, ch.ID, "messages", map[string]any{"body": " ", "clientMessageId": "x"}).expectError(422, "validation_failed", "body")
	s.chatCall(t, p.agentTok, ch.ID, "transfer", map[string]any{}).expectError(422, "validation_failed", "agentId")
	s.chatCall(t, p.agentTok, ch.ID, "transfer", map[string]any{"agentId": p.agent2, "groupId": g.ID}).expectError(422, "validation_failed", "agentId")
	s.chatCall(t, p.agentTok, ch.ID, "transfer", map[string]any{"groupId": "nope"}).expectError(422, "validation_failed", "groupId")
	s.chatCall(t, p.agentTok, ch.ID, "transfer", map[string]any{"agentId": p.customer}).expectError(422, "validation_failed", "agentId")
	s.chatCall(t, p.agentTok, ch.ID, "invite", map[string]any{}).expectError(422, "validation_failed", "agentId")
	s.chatCall(t, p.agentTok, ch.ID, "invite", map[string]any{"agentId": "nope"}).expectError(422, "validation_failed", "agentId")
	s.call(t, p.agentTok, "GET", "/api/v1/chats/"+ch.ID+"/messages?after=-1", nil).expectError(422, "validation_failed", "after")
	s.chatCall(t, p.customerTok, ch.ID, "close", nil).expectError(403, "forbidden")
	s.chatCall(t, p.agent2Tok, ch.ID, "close", nil).expectError(403, "forbidden")

	s.chatChange(t, p.agentTok, ch.ID, "close", nil)
	s.chatCall(t, p.agentTok, ch.ID, "close", nil).expectError(409, "conflict")
	s.chatCall(t, p.agentTok, ch.ID, "messages", map[string]any{"body": "hi", "clientMessageId": "y"}).expectError(409, "conflict")
	s.chatCall(t, p.agentTok, ch.ID, "invite", map[string]any{"agentId": p.agent2}).expectError(409, "conflict")
}

// A transfer to an agent outside the group offers them the chat (chat.offered on their
// stream); being offered it, they may accept it (chat.accepted), and the one who transferred
// it is out of it.
func TestChatTransferToAgent(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	g := s.manualChatGroup(t, p.agent)
	id := s.startCustomerChat(t, g.ID, p.customer)
	s.chatChange(t, p.agentTok, id, "accept", nil)
	stream := s.stream(t, p.agent2Tok)

	ch := s.chatChange(t, p.agentTok, id, "transfer", map[string]any{"agentId": p.agent2, "reason": "billing"})
	require.Equal(t, "offered", ch.State)
	require.Empty(t, ch.AgentIDs)
	stream.until(t, "chat.offered")
	s.chatCall(t, p.agentTok, id, "accept", nil).expectError(409, "conflict")
	ch = s.chatChange(t, p.agent2Tok, id, "accept", nil)
	require.Equal(t, "active", ch.State)
	require.Equal(t, p.agent2, *ch.AgentID)
	stream.until(t, "chat.accepted")
	s.customerSays(t, id, p.customer, "Thanks", "c-1")
	stream.until(t, "chat.message")
	s.chatCall(t, p.agentTok, id, "messages", map[string]any{"body": "hi", "clientMessageId": "a-1"}).expectError(409, "conflict")
}

// Triggers see a chat's ticket like any new ticket: ticket.created fires on it, with origin 5.
func TestChatTicketTriggers(t *testing.T) {
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	s.addTrigger(t, "from chat", []string{rules.EventCreated}, "ticket.origin == 5", 1,
		rules.Action{Type: rules.ActionAddTags, Tags: []string{"from-chat"}})
	g := s.manualChatGroup(t, p.agent)
	id := s.startCustomerChat(t, g.ID, p.customer)
	s.customerSays(t, id, p.customer, "Hello?", "c-1")
	s.chatChange(t, p.agentTok, id, "accept", nil)
	s.chatChange(t, p.agentTok, id, "close", nil)
	eventually(t, 30*time.Second, func() bool {
		d := s.chatDetail(t, p.agentTok, id)
		if d.TicketID == nil {
			return false
		}
		r := s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", *d.TicketID), nil)
		if r.status != 200 {
			return false
		}
		var tk ticket
		r.decode(&tk)
		return slices.Contains(tk.Tags, "from-chat")
	}, "the trigger tagged the chat's ticket")
}

// The chat list pages by cursor, newest first.
func TestChatListPages(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	g := s.manualChatGroup(t, p.agent)
	first := s.startCustomerChat(t, g.ID, p.customer)
	second := s.startCustomerChat(t, g.ID, p.customer)
	var pg struct {
		Data       []chatJSON `json:"data"`
		NextCursor *string    `json:"next_cursor"`
	}
	s.call(t, p.agentTok, "GET", "/api/v1/chats?limit=1&state=queued&customerId="+p.customer, nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 1)
	require.Equal(t, second, pg.Data[0].ID)
	require.NotNil(t, pg.NextCursor)
	s.call(t, p.agentTok, "GET", "/api/v1/chats?limit=1&state=queued&customerId="+p.customer+"&cursor="+*pg.NextCursor, nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 1)
	require.Equal(t, first, pg.Data[0].ID)
	require.Nil(t, pg.NextCursor)
	s.call(t, p.agentTok, "GET", "/api/v1/chats?cursor=bogus", nil).expectError(422, "validation_failed", "cursor")
	for _, id := range []string{first, second} {
		s.chatChange(t, p.agentTok, id, "close", nil)
	}
}

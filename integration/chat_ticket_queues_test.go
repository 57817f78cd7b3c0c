package integration

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/activities"
	"github.com/switchboardhq/switchboard/workflows"
)

// The agents' queues of chat tickets over HTTP: department scoping, most recent first, accept,
// quick accept by two agents at once, transfer refused, close after answering, archive.

type chatTicketItem struct {
	TicketID    int64   `json:"ticketId"`
	Subject     string  `json:"subject"`
	BaseStatus  string  `json:"baseStatus"`
	AcceptedBy  *string `json:"acceptedBy"`
	ClosedBy    *string `json:"closedBy"`
	CloseReason *string `json:"closeReason"`
	IntakeOpen  bool    `json:"intakeOpen"`
}

type chatTicketQueue struct {
	Data   []chatTicketItem `json:"data"`
	Counts struct {
		Unassigned int `json:"unassigned"`
		Assigned   int `json:"assigned"`
		Closed     int `json:"closed"`
	} `json:"counts"`
}

func (s *stack) chatQueue(t *testing.T, tok, query string) chatTicketQueue {
	t.Helper()
	var q chatTicketQueue
	s.call(t, tok, "GET", "/api/v1/chat-tickets?limit=100&"+query, nil).expect(200).decode(&q)
	return q
}

func ticketIDs(items []chatTicketItem) []int64 {
	out := make([]int64, len(items))
	for i, it := range items {
		out[i] = it.TicketID
	}
	return out
}

// offlineTicket makes a chat ticket through the widget: a new visitor, YES, //end.
func (s *stack) offlineTicket(t *testing.T, widgetKey, text string) int64 {
	t.Helper()
	v := s.startVisitor(t, map[string]any{"widgetKey": widgetKey, "message": text})
	require.Equal(t, workflows.ChatOffline, v.Session.State)
	s.visitorSays(t, v, "yes")
	s.visitorSays(t, v, "//end")
	c := s.waitClosed(t, v)
	require.NotNil(t, c.TicketID)
	eventually(t, 20*time.Second, func() bool {
		return s.call(t, s.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d", *c.TicketID), nil).status == 200
	}, "the ticket is stored")
	return *c.TicketID
}

func TestChatTicketQueues(t *testing.T) {
	s := env(t)
	tag := randomName("")
	dept := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "Returns " + tag, "kind": "department", "profile": "customer"}).
		expect(201).obj()["id"].(string)
	inDept := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "Rita " + tag, "profile": "agent",
		"departmentIds": []string{dept}}).expect(201).obj()["id"].(string)
	plain := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "Paul " + tag, "profile": "agent"}).
		expect(201).obj()["id"].(string)
	ritaTok, paulTok := s.mintOK(t, s.admin, inDept), s.mintOK(t, s.admin, plain)
	// Nobody online in either group: every chat goes to the offline flow.
	general := s.chatGroup(t, map[string]any{"name": "general-" + tag, "members": []map[string]any{{"agentId": plain}}})
	returns := s.chatGroup(t, map[string]any{"name": "returns-" + tag, "members": []map[string]any{{"agentId": inDept}},
		"departmentId": dept})
	var w chatWidgetJSON
	s.call(t, s.admin, "POST", "/api/v1/chat-widgets", map[string]any{"name": "queues " + tag, "groupIds": []string{general.ID},
		"allowedOrigins": []string{shopOrigin}}).expect(201).decode(&w)
	var rw chatWidgetJSON
	s.call(t, s.admin, "POST", "/api/v1/chat-widgets", map[string]any{"name": "returns " + tag, "groupIds": []string{returns.ID},
		"allowedOrigins": []string{shopOrigin}}).expect(201).decode(&rw)

	// The queues are shared with other tests' tickets: assert on this test's own.
	var gen []int64
	for i := 0; i < 3; i++ {
		gen = append(gen, s.offlineTicket(t, w.Key, fmt.Sprintf("question %d", i)))
	}
	ret := s.offlineTicket(t, rw.Key, "I want to return shoes")
	mine := append(slices.Clone(gen), ret)
	own := func(items []chatTicketItem) []int64 {
		var out []int64
		for _, it := range items {
			if slices.Contains(mine, it.TicketID) {
				out = append(out, it.TicketID)
			}
		}
		return out
	}

	paulQ := s.chatQueue(t, paulTok, "queue=unassigned")
	require.Equal(t, []int64{gen[2], gen[1], gen[0]}, own(paulQ.Data), "most recent first; the department's ticket is not his")
	ritaQ := s.chatQueue(t, ritaTok, "")
	require.Equal(t, []int64{ret, gen[2], gen[1], gen[0]}, own(ritaQ.Data), "her department's and everyone's")
	require.GreaterOrEqual(t, ritaQ.Counts.Unassigned, 4)
	require.Equal(t, 0, ritaQ.Counts.Assigned)
	require.False(t, ritaQ.Data[0].IntakeOpen, "//end closed the window")

	// Not transferred, and not taken around the queue.
	s.call(t, s.admin, "POST", fmt.Sprintf("/api/v1/tickets/%d/assign", gen[0]), map[string]any{"ownerId": plain}).expectError(409, "conflict")
	s.call(t, paulTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/accept", gen[0]), nil).expectError(409, "conflict")
	s.call(t, paulTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/accept", ret), nil).expectError(404, "not_found")

	// Paul accepts one; Rita cannot have it, nor can it be moved to her.
	var got chatTicketItem
	s.call(t, paulTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/accept", gen[0]), nil).expect(200).decode(&got)
	require.Equal(t, plain, *got.AcceptedBy)
	require.Equal(t, "InAttendance", got.BaseStatus)
	s.call(t, paulTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/accept", gen[0]), nil).expect(200) // again: his
	s.call(t, ritaTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/accept", gen[0]), nil).expectError(409, "conflict")
	s.call(t, s.admin, "POST", fmt.Sprintf("/api/v1/tickets/%d/assign", gen[0]), map[string]any{"ownerId": inDept}).expectError(409, "conflict")
	require.Equal(t, plain, *s.ticket(t, s.admin, gen[0]).OwnerID)

	// Quick accepts of 2 at the same moment (Paul twice, Rita once), in rounds: nobody gets a
	// ticket twice, nobody more than 2, and together they take what was there.
	paulTook := 0
	for round := 0; round < 3; round++ {
		if round > 0 {
			for i := 0; i < 4; i++ {
				s.offlineTicket(t, w.Key, fmt.Sprintf("round %d, %d", round, i))
			}
		}
		took := s.quickAcceptRace(t, []string{paulTok, ritaTok, paulTok}, 2)
		for i, items := range took {
			if i != 1 { // Paul's
				paulTook += len(items)
			}
		}
	}
	paulAssigned := s.chatQueue(t, paulTok, "queue=assigned")
	require.Equal(t, 1+paulTook, paulAssigned.Counts.Assigned, "only his own")
	for _, it := range paulAssigned.Data {
		require.Equal(t, plain, *it.AcceptedBy)
	}

	// Closing needs an answer first.
	s.call(t, ritaTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/close", gen[0]), nil).expectError(403, "forbidden")
	s.call(t, paulTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/close", gen[0]), nil).expectError(409, "conflict")
	s.send(t, paulTok, gen[0], map[string]any{"body": "Sorry for the wait — here is the answer."}).expect(201)
	var closed chatTicketItem
	s.call(t, paulTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/close", gen[0]), nil).expect(200).decode(&closed)
	require.Equal(t, plain, *closed.ClosedBy)
	require.Equal(t, "agent", *closed.CloseReason)
	eventually(t, 20*time.Second, func() bool { return s.ticket(t, s.admin, gen[0]).BaseStatus == "Closed" }, "the ticket closed")
	require.Contains(t, ticketIDs(s.chatQueue(t, paulTok, "queue=closed&closedByMe=true").Data), gen[0])
	require.NotContains(t, ticketIDs(s.chatQueue(t, ritaTok, "queue=closed&closedByMe=true").Data), gen[0])
	require.NotContains(t, ticketIDs(s.chatQueue(t, paulTok, "queue=assigned").Data), gen[0])

	// Archived (what the 90-day workflow runs): out of the queues, listed with archived=true.
	// A chat ticket canceled through the ordinary ticket routes leaves the open queues too.
	canceled := s.offlineTicket(t, w.Key, "never mind")
	s.post(t, s.admin, canceled, "status", map[string]any{"status": "Canceled"}).expect(200)
	require.NotContains(t, ticketIDs(s.chatQueue(t, paulTok, "").Data), canceled)
	require.Contains(t, ticketIDs(s.chatQueue(t, paulTok, "queue=closed").Data), canceled)
	s.call(t, paulTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/accept", canceled), nil).expectError(409, "conflict")

	// The queues are live: a new chat ticket and its accept reach the watchers' streams.
	paulStream, ritaStream := s.stream(t, paulTok), s.stream(t, ritaTok)
	left := s.offlineTicket(t, w.Key, "archived one")
	paulStream.until(t, "chat_ticket.created")
	ritaStream.until(t, "chat_ticket.created")
	deptOnly := s.offlineTicket(t, rw.Key, "a return")
	ritaStream.until(t, "chat_ticket.created")
	s.call(t, ritaTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/accept", deptOnly), nil).expect(200)
	ritaStream.until(t, "chat_ticket.accepted")
	for quiet := time.After(time.Second); ; { // nothing of the department's ticket reached Paul
		select {
		case ev := <-paulStream.events:
			require.NotContains(t, ev, "chat_ticket.", "Paul does not watch the department's tickets")
			continue
		case <-quiet:
		}
		break
	}
	acts := &activities.Activities{DB: s.db}
	require.NoError(t, acts.ArchiveChatTicket(t.Context(), workflows.ChatTicketArchiveInput{TicketID: left}))
	require.NotContains(t, ticketIDs(s.chatQueue(t, paulTok, "").Data), left)
	require.Contains(t, ticketIDs(s.chatQueue(t, paulTok, "archived=true").Data), left)
	s.ticket(t, paulTok, left) // still readable
	s.call(t, paulTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/accept", left), nil).expectError(409, "conflict")

	// Bad input names the field.
	s.call(t, paulTok, "GET", "/api/v1/chat-tickets?queue=mine", nil).expectError(422, "validation_failed", "queue")
	s.call(t, paulTok, "GET", "/api/v1/chat-tickets?closedByMe=yes", nil).expectError(422, "validation_failed", "closedByMe")
	for _, body := range []map[string]any{{}, {"count": 0}, {"count": 101}, {"count": "3"}} {
		s.call(t, paulTok, "POST", "/api/v1/chat-tickets/quick-accept", body).expectError(422, "validation_failed", "count")
	}
	s.call(t, paulTok, "POST", "/api/v1/chat-tickets/abc/accept", nil).expectError(404, "not_found")
	s.call(t, paulTok, "POST", "/api/v1/chat-tickets/99999999/close", nil).expectError(404, "not_found")
	customer := s.newPeople(t)
	s.call(t, customer.customerTok, "GET", "/api/v1/chat-tickets", nil).expectError(403, "forbidden")
}

// quickAcceptRace sends the quick accepts at the same moment and checks their answers: no
// ticket twice, none over count, the owner of each its acceptor, and all of what the first
// caller could see taken (up to the sum of the counts). It answers each caller's tickets.
func (s *stack) quickAcceptRace(t *testing.T, toks []string, count int) [][]chatTicketItem {
	t.Helper()
	before := s.chatQueue(t, toks[0], "").Counts.Unassigned
	took := make([][]chatTicketItem, len(toks))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, tok := range toks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			var out struct {
				Data []chatTicketItem `json:"data"`
			}
			s.call(t, tok, "POST", "/api/v1/chat-tickets/quick-accept", map[string]any{"count": count}).expect(200).decode(&out)
			took[i] = out.Data
		}()
	}
	close(start)
	wg.Wait()
	seen := map[int64]bool{}
	for _, items := range took {
		require.LessOrEqual(t, len(items), count, "never more than asked")
		for _, it := range items {
			require.False(t, seen[it.TicketID], "ticket %d accepted twice", it.TicketID)
			seen[it.TicketID] = true
			require.Equal(t, *it.AcceptedBy, *s.ticket(t, s.admin, it.TicketID).OwnerID)
		}
	}
	require.GreaterOrEqual(t, len(seen), min(len(toks)*count, before), "together they took what was there")
	return took
}

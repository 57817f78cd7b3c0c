package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/internal/webhook"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// addTrigger stores a trigger directly (the triggers API has its own tests).
func (s *stack) addTrigger(t *testing.T, name string, events []string, condition string, position int, actions ...rules.Action) string {
	t.Helper()
	tr := schema.Trigger{ID: uuid.Must(uuid.NewV7()).String(), Name: name, Enabled: true, Events: events,
		Condition: condition, Actions: actions, Position: position, Version: 1, CreatedAt: time.Now(), UpdatedAt: time.Now()}
	_, err := s.db.NewInsert().Model(&tr).Exec(context.Background())
	require.NoError(t, err)
	return tr.ID
}

func (s *stack) executions(t *testing.T, ticketID int64) []schema.TriggerExecution {
	var out []schema.TriggerExecution
	require.NoError(t, s.db.NewSelect().Model(&out).Where("ticket_id = ?", ticketID).Order("id").Scan(context.Background()))
	return out
}

// Triggers run in the ticket's workflow against real PostgreSQL: their changes are the ticket's
// own, a pair that would ping-pong stops at the chain rule, and a long chain stops at depth 10
// with the stop recorded.
func TestTriggersInTheTicketWorkflow(t *testing.T) {
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	up := []string{rules.EventUpdated}

	// Ping-pong: A raises urgency, B lowers it; each change would trigger the other forever.
	a := s.addTrigger(t, "A", up, "ticket.category == 'pingpong' && ticket.urgency == 'Low'", 1,
		rules.Action{Type: rules.ActionSetUrgency, Urgency: "High"})
	b := s.addTrigger(t, "B", up, "ticket.category == 'pingpong' && ticket.urgency == 'High'", 2,
		rules.Action{Type: rules.ActionSetUrgency, Urgency: "Low"})
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Ping", "category": "pingpong", "urgency": "Medium"})
	s.call(t, p.agentTok, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), map[string]any{"urgency": "Low"}).expect(200)
	eventually(t, 20*time.Second, func() bool { return len(s.executions(t, tk.ID)) >= 2 }, "A and B fired")
	time.Sleep(time.Second) // nothing more may come
	ex := s.executions(t, tk.ID)
	fired := []string{}
	for _, e := range ex {
		if e.Matched {
			fired = append(fired, e.TriggerID)
		}
	}
	require.Equal(t, []string{a, b}, fired, "each fires once; neither fires on a change its own chain caused")
	require.Equal(t, []string{a}, ex[1].Chain, "B fired on A's change")
	got := s.ticket(t, p.agentTok, tk.ID)
	require.Equal(t, "Low", got.Urgency)

	// A chain of eleven distinct triggers, each adding the next tag: the eleventh is refused.
	for i := 1; i <= 11; i++ {
		s.addTrigger(t, fmt.Sprintf("chain %d", i), up, fmt.Sprintf("ticket.category == 'chain' && hasTag('c%d')", i-1), 10+i,
			rules.Action{Type: rules.ActionAddTags, Tags: []string{fmt.Sprintf("c%d", i)}})
	}
	chain := s.createTicket(t, p.agentTok, map[string]any{"subject": "Chain", "category": "chain"})
	s.call(t, p.agentTok, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", chain.ID), map[string]any{"tags": []string{"c0"}}).expect(200)
	eventually(t, 30*time.Second, func() bool {
		for _, e := range s.executions(t, chain.ID) {
			if e.Error != nil {
				return true
			}
		}
		return false
	}, "the chain stops")
	got = s.ticket(t, p.agentTok, chain.ID)
	require.Contains(t, got.Tags, "c10")
	require.NotContains(t, got.Tags, "c11", "depth 10 is the end of the chain")
	var stop schema.TriggerExecution
	for _, e := range s.executions(t, chain.ID) {
		if e.Error != nil {
			stop = e
		}
	}
	require.Len(t, stop.Chain, 10)
	require.Contains(t, *stop.Error, "depth 10")

	// A notification for the owner, once, and the firing visible with its actions.
	s.addTrigger(t, "notify", []string{rules.EventActionAdded}, "ticket.category == 'notify' && actor.kind == 'customer'", 30,
		rules.Action{Type: rules.ActionNotifyAgents, Message: "Customer replied on #{{.id}}: {{.subject}}"})
	n := s.createTicket(t, p.customerTok, map[string]any{"subject": "Help", "description": "please"})
	s.call(t, p.agentTok, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", n.ID), map[string]any{"category": "notify"}).expect(200)
	s.post(t, p.agentTok, n.ID, "accept", nil).expect(200)
	s.post(t, p.customerTok, n.ID, "actions", map[string]any{"type": "public", "body": "any news?"}).expect(200)
	var msgs []string
	eventually(t, 20*time.Second, func() bool {
		msgs = nil
		require.NoError(t, s.db.NewSelect().Model((*schema.Notification)(nil)).Column("message").
			Where("person_id = ? AND ticket_id = ?", p.agent, n.ID).Scan(context.Background(), &msgs))
		return len(msgs) > 0
	}, "the owner is notified")
	require.Equal(t, []string{fmt.Sprintf("Customer replied on #%d: Help", n.ID)}, msgs)
	require.True(t, slices.ContainsFunc(s.executions(t, n.ID), func(e schema.TriggerExecution) bool {
		return e.Matched && len(e.Actions) == 1 && e.Actions[0].Type == rules.ActionNotifyAgents
	}))
}

// A trigger's call_webhook reaches a real receiver through the durable delivery workflow: the
// body carries the event, the ticket and the changes, and the signature verifies. A receiver
// that fails first is retried; the ticket never waits for it.
func TestTriggerCallsWebhook(t *testing.T) {
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	var mu sync.Mutex
	var got []*http.Request
	var bodies [][]byte
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		got, bodies = append(got, r), append(bodies, b)
		if len(got) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable) // the first attempt fails
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer recv.Close()
	hook := s.call(t, s.admin, "POST", "/api/v1/webhooks", map[string]any{"name": "crm", "url": recv.URL + "/hook"}).expect(201).obj()
	s.addTrigger(t, "to the CRM", []string{rules.EventStatusChanged}, "ticket.category == 'crm' && ticket.baseStatus == 'Resolved'", 1,
		rules.Action{Type: rules.ActionCallWebhook, WebhookID: hook["id"].(string)})

	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Sync me", "category": "crm"})
	start := time.Now()
	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Resolved"}).expect(200)
	require.Less(t, time.Since(start), 5*time.Second, "the change does not wait for the receiver")
	eventually(t, 30*time.Second, func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= 2 }, "delivered after a retry")

	mu.Lock()
	req, body := got[1], bodies[1]
	mu.Unlock()
	var payload struct {
		Event   string                  `json:"event"`
		Ticket  map[string]any          `json:"ticket"`
		Changes map[string]rules.Change `json:"changes"`
	}
	require.NoError(t, json.Unmarshal(body, &payload))
	require.Equal(t, rules.EventStatusChanged, payload.Event)
	require.EqualValues(t, tk.ID, payload.Ticket["id"])
	require.Equal(t, "Resolved", payload.Changes["status"].To)
	ts, err := strconv.ParseInt(req.Header.Get("webhook-timestamp"), 10, 64)
	require.NoError(t, err)
	require.True(t, webhook.Verify(hook["secret"].(string), req.Header.Get("webhook-id"), time.Unix(ts, 0), body,
		req.Header.Get("webhook-signature")), "the signature verifies with the webhook's secret")
	eventually(t, 10*time.Second, func() bool {
		page := s.call(t, s.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d/webhook-deliveries", tk.ID), nil).expect(200).obj()
		data := page["data"].([]any)
		return len(data) == 1 && data[0].(map[string]any)["state"] == "succeeded"
	}, "the delivery log shows it")
}

// The actions that talk to other tickets and to teams, on real services: team distribution
// round-robin and least-loaded, a child ticket, and the child resolving its parent.
func TestTriggerTeamAndFamilyActions(t *testing.T) {
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	created := []string{rules.EventCreated}
	s.addTrigger(t, "round robin", created, "ticket.category == 'rr'", 1,
		rules.Action{Type: rules.ActionAssignTeam, TeamID: p.team, Distribution: "round_robin"})
	owners := []string{}
	for i := range 4 {
		tk := s.createTicket(t, p.agentTok, map[string]any{"subject": fmt.Sprintf("rr %d", i), "category": "rr"})
		eventually(t, 15*time.Second, func() bool { return s.ticket(t, p.agentTok, tk.ID).OwnerID != nil }, "assigned")
		got := s.ticket(t, p.agentTok, tk.ID)
		require.Equal(t, p.team, *got.TeamID)
		owners = append(owners, *got.OwnerID)
	}
	require.NotEqual(t, owners[0], owners[1], "round robin alternates")
	require.Equal(t, owners[0], owners[2])
	require.Equal(t, owners[1], owners[3])

	// Least loaded: give one agent three more open tickets; the next goes to the other.
	busy := owners[0]
	for range 3 {
		s.createTicket(t, p.agentTok, map[string]any{"subject": "load", "ownerId": busy})
	}
	s.addTrigger(t, "least loaded", created, "ticket.category == 'll'", 2,
		rules.Action{Type: rules.ActionAssignTeam, TeamID: p.team, Distribution: "least_loaded"})
	ll := s.createTicket(t, p.agentTok, map[string]any{"subject": "ll", "category": "ll"})
	eventually(t, 15*time.Second, func() bool { return s.ticket(t, p.agentTok, ll.ID).OwnerID != nil }, "assigned")
	require.NotEqual(t, busy, *s.ticket(t, p.agentTok, ll.ID).OwnerID)

	// A child ticket, and the child's resolution resolving its parent.
	s.addTrigger(t, "child", created, "ticket.category == 'parent'", 3,
		rules.Action{Type: rules.ActionCreateChildTicket, Subject: "Follow-up: {{.subject}}", Body: "Opened from #{{.id}}"})
	s.addTrigger(t, "resolve parent", []string{rules.EventStatusChanged}, "ticket.baseStatus == 'Resolved' && ticket.origin == 4", 4,
		rules.Action{Type: rules.ActionChangeParentStatus, Status: "Resolved"})
	parent := s.createTicket(t, p.agentTok, map[string]any{"subject": "Router", "category": "parent", "clientIds": []string{p.customer}})
	var child schema.Ticket
	eventually(t, 15*time.Second, func() bool {
		return s.db.NewSelect().Model(&child).Where("parent_id = ?", parent.ID).Scan(context.Background()) == nil
	}, "the child exists")
	require.Equal(t, "Follow-up: Router", child.Subject)
	require.Equal(t, 4, child.Origin)
	require.Equal(t, []string{p.customer}, child.ClientIDs)
	got := s.ticket(t, p.agentTok, child.ID)
	require.Equal(t, fmt.Sprintf("Opened from #%d", parent.ID), got.Actions[0].Body)
	s.post(t, p.agentTok, child.ID, "status", map[string]any{"status": "Resolved"}).expect(200)
	eventually(t, 15*time.Second, func() bool { return s.ticket(t, p.agentTok, parent.ID).BaseStatus == "Resolved" }, "the parent follows")
}

package integration

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

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

package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Nothing a customer reads of their ticket reveals an internal note: not the action count, not
// gaps in the actions' numbering, not a version that rises with every note, not the workflow
// (whose history holds the notes), not the agents' status justifications. Lists say the same.
func TestCustomerSeesNoTraceOfInternalWork(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Invoice wrong", "description": "Twice billed"})
	s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "internal", "body": "finance says refund"}).expect(200)
	s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "public", "body": "Refund on its way"}).expect(200)
	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Stopped", "justification": "waiting on finance"}).expect(200)
	s.post(t, p.agentTok, tk.ID, "actions", map[string]any{"type": "internal", "body": "ping finance again"}).expect(200)

	staff := s.ticket(t, p.agentTok, tk.ID)
	require.Equal(t, 4, staff.ActionCount)
	require.NotEmpty(t, staff.Workflow.ID)
	require.Equal(t, "waiting on finance", staff.StatusHistory[len(staff.StatusHistory)-1].Justification)

	raw := s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200).obj()
	require.NotContains(t, raw, "version")
	require.NotContains(t, raw, "workflow")
	require.EqualValues(t, 2, raw["actionCount"])
	var mine ticket
	s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200).decode(&mine)
	require.Len(t, mine.Actions, 2)
	require.Equal(t, []int{1, 2}, []int{mine.Actions[0].ID, mine.Actions[1].ID}, "numbered without the notes' gaps")
	require.Equal(t, "Refund on its way", mine.Actions[1].Body)
	for _, h := range mine.StatusHistory {
		require.Empty(t, h.Justification)
	}
	require.Equal(t, "Stopped", mine.StatusHistory[len(mine.StatusHistory)-1].Status, "the status itself is public")

	var page struct {
		Data []map[string]any `json:"data"`
	}
	s.call(t, p.customerTok, "GET", "/api/v1/tickets?limit=100", nil).expect(200).decode(&page)
	require.Len(t, page.Data, 1)
	require.EqualValues(t, 2, page.Data[0]["actionCount"])
	require.NotContains(t, page.Data[0], "version")
	require.NotContains(t, page.Data[0], "workflow")
}

// Customers open tickets with what is theirs to say; tags, urgency and custom fields that
// triggers and SLA rules trust are the agents' (custom fields only as the form allows them).
func TestCustomerCannotSetWhatAgentsDecide(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	key := "plan_" + randomName("")[:6]
	s.call(t, p.customerTok, "POST", "/api/v1/tickets", map[string]any{"subject": "x", "tags": []string{"vip"},
		"urgency": "Urgent", "customFields": map[string]any{"free_form": "gold"}}).
		expectError(422, "validation_failed", "tags", "urgency", "customFields.free_form")
	s.call(t, p.customerTok, "POST", "/api/v1/tickets", map[string]any{"subject": "x", "teamId": p.team,
		"status": "In attendance", "origin": 9, "ownerId": p.agent}).
		expectError(422, "validation_failed", "teamId", "status", "origin", "ownerId")

	// A defined field the form shows customers is theirs to fill; hidden from customers by a
	// display rule, it is refused.
	s.call(t, s.admin, "POST", "/api/v1/custom-fields", map[string]any{"key": key, "label": "Plan", "type": "text"}).expect(201)
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Upgrade", "customFields": map[string]any{key: "basic"}})
	require.Equal(t, "basic", tk.CustomFields[key])
	s.call(t, s.admin, "POST", "/api/v1/display-rules", map[string]any{"name": "agents only " + key,
		"condition": `actor.kind == "customer"`, "fields": []map[string]any{{"key": key, "visible": false}}}).expect(201)
	eventually(t, 10*time.Second, func() bool {
		r := s.call(t, p.customerTok, "POST", "/api/v1/tickets", map[string]any{"subject": "Upgrade", "customFields": map[string]any{key: "gold"}})
		return r.status == 422
	}, "the hidden field is refused")
	// Agents still set all of it.
	staff := s.createTicket(t, p.agentTok, map[string]any{"subject": "x", "tags": []string{"vip"}, "urgency": "Urgent",
		"clientIds": []string{p.customer}, "customFields": map[string]any{key: "gold", "free_form": "y"}})
	require.Equal(t, []string{"vip"}, staff.Tags)
}

package integration

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// The native API matches JSON keys exactly: a key that differs from a field's name only in case
// is a 422 naming the key as sent (and saying the field's name), at the top level and nested,
// and nothing is written. encoding/json alone would have filled the field.
func TestNativeAPIMatchesKeysExactly(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Exact keys", "clientIds": []string{p.customer}})
	tid := func(sub string) string { return fmt.Sprintf("/api/v1/tickets/%d%s", tk.ID, sub) }

	cases := []struct {
		name, method, path string
		body               string
		field              string
	}{
		{"ticketID", "POST", "/api/v1/forms/ticket/evaluate", fmt.Sprintf(`{"ticketID": %d, "ticket": {}}`, tk.ID), "ticketID"},
		{"nested in the draft", "POST", "/api/v1/forms/ticket/evaluate", `{"ticket": {"Subject": "x"}}`, "ticket.Subject"},
		{"create", "POST", "/api/v1/tickets", fmt.Sprintf(`{"subject": "a", "clientIDs": [%q]}`, p.customer), "clientIDs"},
		{"all capitals", "POST", "/api/v1/tickets", `{"SUBJECT": "a"}`, "SUBJECT"},
		{"assign", "POST", tid("/assign"), fmt.Sprintf(`{"ownerID": %q}`, p.agent), "ownerID"},
		{"patch", "PATCH", tid(""), `{"Urgency": "High"}`, "Urgency"},
		{"in a list", "POST", "/api/v1/call-groups", fmt.Sprintf(`{"name": "g", "queueId": 424242, "members": [{"agentID": %q, "extension": "1"}]}`, p.agent), "members[0].agentID"},
		{"in a trigger action", "POST", "/api/v1/triggers", `{"name": "t", "events": ["ticket.created"], "actions": [{"type": "add_tags", "Tags": ["x"]}]}`, "actions[0].Tags"},
		{"in a trigger timer", "POST", "/api/v1/triggers", `{"name": "t", "events": ["ticket.time"], "timer": {"After": "2h", "from": "createdAt"}}`, "timer.After"},
		{"in an SLA rule", "POST", "/api/v1/sla-policies", `{"name": "p", "rules": [{"hours": "calendar", "resolutionMINUTES": 60}]}`, "rules[0].resolutionMINUTES"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.call(t, s.admin, c.method, c.path, c.body)
			r.expectError(422, "validation_failed", c.field)
			_, fields := r.apiError()
			require.Contains(t, fmt.Sprint(fields[c.field]), "keys match exactly", "the message says why: %s", r.body)
		})
	}
	// Nothing above changed the ticket; the same bodies with the exact keys are accepted.
	after := s.ticket(t, p.agentTok, tk.ID)
	require.Equal(t, tk.Version, after.Version, "a refused body changed the ticket")
	require.Nil(t, after.OwnerID)
	s.call(t, s.admin, "POST", tid("/assign"), fmt.Sprintf(`{"ownerId": %q}`, p.agent)).expect(200)
	s.call(t, s.admin, "POST", "/api/v1/forms/ticket/evaluate", fmt.Sprintf(`{"ticketId": %d, "ticket": {}}`, tk.ID)).expect(200)
}

package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/api"
)

// Customers see and act only on public tickets where they (or, when allowed, their
// organisation) are a client, and never see internal notes.
func TestCustomerVisibility(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	mine := s.createTicket(t, p.customerTok, map[string]any{"subject": "Mine", "description": "help"})
	forOrg := s.createTicket(t, p.agentTok, map[string]any{"subject": "For the organisation", "clientIds": []string{p.org}})
	internal := s.createTicket(t, p.agentTok, map[string]any{"subject": "Internal", "type": "internal", "clientIds": []string{p.customer}})
	others := s.createTicket(t, p.otherTok, map[string]any{"subject": "Someone else's"})
	s.post(t, p.agentTok, mine.ID, "actions", map[string]any{"type": "internal", "body": "secret"}).expect(200)

	listIDs := func(token string) []int64 {
		var page struct {
			Data []ticket `json:"data"`
		}
		s.call(t, token, "GET", "/api/v1/tickets?limit=100", nil).expect(200).decode(&page)
		ids := []int64{}
		for _, tk := range page.Data {
			ids = append(ids, tk.ID)
		}
		return ids
	}
	got := listIDs(p.customerTok)
	require.Contains(t, got, mine.ID)
	require.NotContains(t, got, forOrg.ID, "Carla does not see the organisation's tickets")
	require.NotContains(t, got, internal.ID, "internal tickets are never shown to customers")
	require.NotContains(t, got, others.ID)

	// Dora may see her organisation's tickets: the organisation's own and her colleagues'.
	got = listIDs(p.orgMateTok)
	require.Contains(t, got, forOrg.ID)
	require.Contains(t, got, mine.ID)
	require.NotContains(t, got, internal.ID)
	require.NotContains(t, got, others.ID)

	for _, id := range []int64{forOrg.ID, internal.ID, others.ID} {
		s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", id), nil).expectError(404, "not_found")
		s.post(t, p.customerTok, id, "actions", map[string]any{"type": "public", "body": "hi"}).expectError(404, "not_found")
	}
	require.Len(t, s.ticket(t, p.customerTok, mine.ID).Actions, 1, "the internal note is hidden")
	require.Len(t, s.ticket(t, p.agentTok, mine.ID).Actions, 2)

	// What is the agents' to decide.
	s.post(t, p.customerTok, mine.ID, "assign", map[string]any{"ownerId": p.agent}).expectError(403, "forbidden")
	s.post(t, p.customerTok, mine.ID, "status", map[string]any{"status": "Resolved"}).expectError(403, "forbidden")
	s.post(t, p.customerTok, mine.ID, "accept", nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", mine.ID), map[string]any{"subject": "x"}).expectError(403, "forbidden")
	s.post(t, p.customerTok, mine.ID, "actions", map[string]any{"type": "internal", "body": "x"}).expectError(422, "validation_failed", "type")
	s.call(t, p.customerTok, "POST", "/api/v1/tickets", map[string]any{"subject": "x", "ownerId": p.agent, "clientIds": []string{p.other}}).
		expectError(422, "validation_failed", "ownerId", "clientIds")
	s.call(t, p.customerTok, "POST", "/api/v1/tickets", map[string]any{"subject": "x", "type": "internal"}).expectError(422, "validation_failed", "type")

	// People and configuration are not theirs either.
	s.call(t, p.customerTok, "GET", "/api/v1/persons", nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "POST", "/api/v1/persons/"+p.other+"/tokens", map[string]any{"name": "x"}).expectError(403, "forbidden")
}

func TestRolesAndScopes(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	// Agents work people and tickets but not configuration, and cannot make admins.
	s.call(t, p.agentTok, "POST", "/api/v1/teams", map[string]any{"name": "Rogue"}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "POST", "/api/v1/statuses", map[string]any{"name": "Rogue", "baseStatus": "New"}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "GET", "/api/v1/teams/"+p.team, nil).expect(200)
	s.call(t, p.agentTok, "POST", "/api/v1/persons", map[string]any{"name": "Boss", "profile": "agent", "role": "admin"}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "PATCH", "/api/v1/persons/"+p.agent2, map[string]any{"role": "admin"}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "POST", "/api/v1/persons/"+p.agent2+"/tokens", map[string]any{"name": "x"}).expectError(403, "forbidden")

	// A token narrowed to tickets:read reads tickets and nothing else.
	var tok map[string]any
	s.call(t, p.agentTok, "POST", "/api/v1/persons/"+p.agent+"/tokens", map[string]any{"name": "reader", "scopes": []string{"tickets:read"}}).
		expect(201).decode(&tok)
	reader := tok["token"].(string)
	s.call(t, reader, "GET", "/api/v1/tickets", nil).expect(200)
	s.call(t, reader, "POST", "/api/v1/tickets", map[string]any{"subject": "x"}).expectError(403, "forbidden")
	s.call(t, reader, "GET", "/api/v1/persons", nil).expectError(403, "forbidden")
	s.call(t, p.agentTok, "POST", "/api/v1/persons/"+p.agent+"/tokens", map[string]any{"name": "x", "scopes": []string{"config:write"}}).
		expectError(422, "validation_failed", "scopes[0]")
	s.call(t, p.agentTok, "POST", "/api/v1/persons/"+p.agent+"/tokens", map[string]any{"name": "x", "scopes": []string{"everything"}}).
		expectError(422, "validation_failed", "scopes[0]")

	// A deactivated person's tokens stop working at once.
	s.call(t, s.admin, "DELETE", "/api/v1/persons/"+p.agent2, nil).expect(200)
	s.call(t, p.agent2Tok, "GET", "/api/v1/tickets", nil).expectError(401, "unauthorized")
	s.call(t, "", "GET", "/api/v1/tickets", nil).expectError(401, "unauthorized")
	s.call(t, "sb_nope", "GET", "/api/v1/tickets", nil).expectError(401, "unauthorized")
}

// A token past its per-minute allowance gets 429 with Retry-After; other tokens are unaffected.
func TestRateLimit(t *testing.T) {
	s := newStack(t, stackOptions{worker: false, autoClose: time.Hour, rateLimit: 5})
	defer s.close()
	for range 5 {
		s.call(t, s.admin, "GET", "/api/v1/statuses", nil).expect(200)
	}
	r := s.call(t, s.admin, "GET", "/api/v1/statuses", nil)
	r.expectError(429, "rate_limited")
	require.NotEmpty(t, r.header.Get("Retry-After"))

	other := api.NewToken()
	_, err := api.EnsureAdmin(t.Context(), s.db, other)
	require.NoError(t, err)
	s.call(t, other, "GET", "/api/v1/statuses", nil).expect(200)
}

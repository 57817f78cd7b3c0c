package integration

import (
	"fmt"
	"strings"
	"testing"
)

// Every bad input gets a clear 4xx naming what was wrong, and nothing is written.
func TestBadInputs(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Target", "clientIds": []string{p.customer}})
	owned := s.createTicket(t, p.agentTok, map[string]any{"subject": "Owned", "ownerId": p.agent})
	tid := func(id int64, sub string) string { return fmt.Sprintf("/api/v1/tickets/%d%s", id, sub) }
	huge := `{"subject":"` + strings.Repeat("x", 2<<20) + `"}`

	cases := []struct {
		name, method, path string
		body               any
		status             int
		code               string
		fields             []string
	}{
		{"malformed JSON", "POST", "/api/v1/tickets", `{"subject": `, 400, "bad_request", nil},
		{"not an object", "POST", "/api/v1/tickets", `[1,2]`, 400, "bad_request", nil},
		{"trailing data", "POST", "/api/v1/tickets", `{"subject":"a"} {}`, 400, "bad_request", nil},
		{"empty body", "POST", "/api/v1/tickets", ``, 400, "bad_request", nil},
		{"oversize body", "POST", "/api/v1/tickets", huge, 413, "payload_too_large", nil},
		{"unknown field", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "priority": 1}, 422, "validation_failed", []string{"priority"}},
		{"wrong type", "POST", "/api/v1/tickets", map[string]any{"subject": 5}, 422, "validation_failed", []string{"subject"}},
		{"missing subject", "POST", "/api/v1/tickets", map[string]any{"description": "x"}, 422, "validation_failed", []string{"subject"}},
		{"blank subject", "POST", "/api/v1/tickets", map[string]any{"subject": "   "}, 422, "validation_failed", []string{"subject"}},
		{"long subject", "POST", "/api/v1/tickets", map[string]any{"subject": strings.Repeat("s", 256)}, 422, "validation_failed", []string{"subject"}},
		{"bad type", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "type": "secret"}, 422, "validation_failed", []string{"type"}},
		{"bad urgency", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "urgency": "Whenever"}, 422, "validation_failed", []string{"urgency"}},
		{"unknown status", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "status": "Nope"}, 422, "validation_failed", []string{"status"}},
		{"created closed", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "status": "Closed"}, 422, "validation_failed", []string{"status"}},
		{"bad origin", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "origin": 6}, 422, "validation_failed", []string{"origin"}},
		{"unknown owner", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "ownerId": "nobody"}, 422, "validation_failed", []string{"ownerId"}},
		{"customer as owner", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "ownerId": p.customer}, 422, "validation_failed", []string{"ownerId"}},
		{"unknown team", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "teamId": "nope"}, 422, "validation_failed", []string{"teamId"}},
		{"unknown client", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "clientIds": []string{p.customer, "ghost"}}, 422, "validation_failed", []string{"clientIds[1]"}},
		{"too many tags", "POST", "/api/v1/tickets", map[string]any{"subject": "a", "tags": make([]string, 51)}, 422, "validation_failed", []string{"tags"}},

		{"ticket id not a number", "GET", "/api/v1/tickets/abc", nil, 404, "not_found", nil},
		{"no such ticket", "GET", "/api/v1/tickets/999999999999", nil, 404, "not_found", nil},
		{"bad limit", "GET", "/api/v1/tickets?limit=0", nil, 422, "validation_failed", []string{"limit"}},
		{"huge limit", "GET", "/api/v1/tickets?limit=1000", nil, 422, "validation_failed", []string{"limit"}},
		{"bad cursor", "GET", "/api/v1/tickets?cursor=!!", nil, 422, "validation_failed", []string{"cursor"}},
		{"bad sort", "GET", "/api/v1/tickets?sort=priority", nil, 422, "validation_failed", []string{"sort"}},
		{"bad order", "GET", "/api/v1/tickets?order=up", nil, 422, "validation_failed", []string{"order"}},
		{"bad base status filter", "GET", "/api/v1/tickets?baseStatus=Open", nil, 422, "validation_failed", []string{"baseStatus"}},
		{"bad date filter", "GET", "/api/v1/tickets?createdFrom=yesterday", nil, 422, "validation_failed", []string{"createdFrom"}},
		{"bad bool filter", "GET", "/api/v1/persons?isActive=maybe", nil, 422, "validation_failed", []string{"isActive"}},

		{"assign nothing", "POST", tid(tk.ID, "/assign"), map[string]any{}, 422, "validation_failed", []string{"ownerId"}},
		{"assign outside team", "POST", tid(tk.ID, "/assign"), map[string]any{"ownerId": s.adminID(t), "teamId": p.team}, 422, "validation_failed", []string{"ownerId"}},
		{"unknown status change", "POST", tid(tk.ID, "/status"), map[string]any{"status": "Nope"}, 422, "validation_failed", []string{"status"}},
		{"missing status", "POST", tid(tk.ID, "/status"), map[string]any{}, 422, "validation_failed", []string{"status"}},
		{"illegal move", "POST", tid(tk.ID, "/status"), map[string]any{"status": "Closed"}, 409, "conflict", nil},
		{"owned ticket moves on", "POST", tid(owned.ID, "/status"), map[string]any{"status": "InAttendance"}, 200, "", nil},
		{"accept owned", "POST", tid(owned.ID, "/accept"), nil, 409, "conflict", nil},
		{"reopen open ticket", "POST", tid(tk.ID, "/reopen"), nil, 409, "conflict", nil},
		{"empty action", "POST", tid(tk.ID, "/actions"), map[string]any{"type": "public", "body": ""}, 422, "validation_failed", []string{"body"}},
		{"bad action type", "POST", tid(tk.ID, "/actions"), map[string]any{"type": "email", "body": "x"}, 422, "validation_failed", []string{"type"}},
		{"bad action origin", "POST", tid(tk.ID, "/actions"), map[string]any{"type": "public", "body": "x", "origin": 99}, 422, "validation_failed", []string{"origin"}},
		{"patch unknown field", "PATCH", tid(tk.ID, ""), map[string]any{"status": "Resolved"}, 422, "validation_failed", []string{"status"}},
		{"patch bad urgency", "PATCH", tid(tk.ID, ""), map[string]any{"urgency": "Soon"}, 422, "validation_failed", []string{"urgency"}},

		{"person without profile", "POST", "/api/v1/persons", map[string]any{"name": "x"}, 422, "validation_failed", []string{"profile"}},
		{"person bad email", "POST", "/api/v1/persons", map[string]any{"name": "x", "profile": "customer", "emails": []string{"not-an-email"}}, 422, "validation_failed", []string{"emails[0]"}},
		{"person role mismatch", "POST", "/api/v1/persons", map[string]any{"name": "x", "profile": "customer", "role": "agent"}, 422, "validation_failed", []string{"role"}},
		{"person bad kind", "POST", "/api/v1/persons", map[string]any{"name": "x", "profile": "customer", "kind": "robot"}, 422, "validation_failed", []string{"kind"}},
		{"person org is a person", "POST", "/api/v1/persons", map[string]any{"name": "x", "profile": "customer", "organizationId": p.customer}, 422, "validation_failed", []string{"organizationId"}},
		{"person duplicate email", "POST", "/api/v1/persons", map[string]any{"name": "x", "profile": "customer", "emails": []string{s.emailOf(t, p.customer)}}, 409, "conflict", nil},
		{"no such person", "GET", "/api/v1/persons/nobody", nil, 404, "not_found", nil},
		{"team with customer", "POST", "/api/v1/teams", map[string]any{"name": "T" + p.team, "memberIds": []string{p.customer}}, 422, "validation_failed", []string{"memberIds[0]"}},
		{"team without name", "POST", "/api/v1/teams", map[string]any{"memberIds": []string{}}, 422, "validation_failed", []string{"name"}},
		{"status bad base", "POST", "/api/v1/statuses", map[string]any{"name": "X" + p.team, "baseStatus": "Open"}, 422, "validation_failed", []string{"baseStatus"}},
		{"status duplicate", "POST", "/api/v1/statuses", map[string]any{"name": "New", "baseStatus": "New"}, 409, "conflict", nil},
		{"status base is fixed", "PATCH", "/api/v1/statuses/New", map[string]any{"baseStatus": "Stopped"}, 422, "validation_failed", []string{"baseStatus"}},
		{"system status stays", "DELETE", "/api/v1/statuses/Resolved", nil, 409, "conflict", nil},
		{"unknown route", "GET", "/api/v1/nothing", nil, 404, "not_found", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.call(t, s.admin, c.method, c.path, c.body)
			if c.status < 300 {
				r.expect(c.status)
				return
			}
			r.expectError(c.status, c.code, c.fields...)
		})
	}
	// Nothing above touched the target ticket.
	after := s.ticket(t, p.agentTok, tk.ID)
	if after.Version != tk.Version {
		t.Fatalf("bad inputs changed the ticket: version %d -> %d", tk.Version, after.Version)
	}
}

func (s *stack) adminID(t *testing.T) string {
	var page struct {
		Data []map[string]any `json:"data"`
	}
	s.call(t, s.admin, "GET", "/api/v1/persons?role=admin&limit=1", nil).expect(200).decode(&page)
	return page.Data[0]["id"].(string)
}

func (s *stack) emailOf(t *testing.T, id string) string {
	return s.call(t, s.admin, "GET", "/api/v1/persons/"+id, nil).expect(200).obj()["emails"].([]any)[0].(string)
}

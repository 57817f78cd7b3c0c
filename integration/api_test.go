package integration

import (
	"fmt"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestIdempotencyKey(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	key := header{"Idempotency-Key", randomName("create-")}
	body := map[string]any{"subject": "Only once", "clientIds": []string{p.customer}}
	var first, again ticket
	r1 := s.call(t, p.agentTok, "POST", "/api/v1/tickets", body, key).expect(201)
	r1.decode(&first)
	r2 := s.call(t, p.agentTok, "POST", "/api/v1/tickets", body, key).expect(201)
	r2.decode(&again)
	require.Equal(t, first.ID, again.ID, "the retry gets the first answer")
	require.Equal(t, "true", r2.header.Get("Idempotent-Replayed"))
	require.Empty(t, r1.header.Get("Idempotent-Replayed"))

	// The same key with another request is refused; another person's same key is theirs.
	s.call(t, p.agentTok, "POST", "/api/v1/tickets", map[string]any{"subject": "Different"}, key).
		expectError(422, "validation_failed", "Idempotency-Key")
	s.call(t, p.agent2Tok, "POST", "/api/v1/tickets", map[string]any{"subject": "Different"}, key).expect(201)

	// Concurrent retries of one change apply it once.
	actionKey := header{"Idempotency-Key", randomName("action-")}
	var wg sync.WaitGroup
	codes := make([]int, 5)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/actions", first.ID),
				map[string]any{"type": "public", "body": "just once"}, actionKey).status
		}()
	}
	wg.Wait()
	for _, c := range codes {
		require.Contains(t, []int{200, 409}, c, "a retry is answered or told to wait")
	}
	require.Equal(t, 1, s.ticket(t, p.agentTok, first.ID).ActionCount, "one action, however many retries")
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/actions", first.ID),
		map[string]any{"type": "public", "body": "just once"}, actionKey).expect(200)
	require.Equal(t, 1, s.ticket(t, p.agentTok, first.ID).ActionCount)
}

func TestListFiltersAndPaging(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("tag")
	var made []ticket
	for i, u := range []string{"Low", "High", "High", "Urgent", "Low"} {
		made = append(made, s.createTicket(t, p.agentTok, map[string]any{"subject": fmt.Sprintf("Disk %d full %s", i, tag),
			"urgency": u, "tags": []string{tag}, "clientIds": []string{p.customer}}))
	}
	s.post(t, p.agentTok, made[1].ID, "assign", map[string]any{"ownerId": p.agent2, "teamId": p.team}).expect(200)
	s.post(t, p.agentTok, made[3].ID, "status", map[string]any{"status": "Resolved"}).expect(200)

	list := func(query string) []int64 {
		t.Helper()
		var ids []int64
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			var page struct {
				Data       []ticket `json:"data"`
				NextCursor *string  `json:"next_cursor"`
			}
			q := "/api/v1/tickets?tag=" + tag + "&limit=2&" + query
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			s.call(t, p.agentTok, "GET", q, nil).expect(200).decode(&page)
			require.LessOrEqual(t, len(page.Data), 2)
			for _, tk := range page.Data {
				ids = append(ids, tk.ID)
			}
			if page.NextCursor == nil {
				return ids
			}
			cursor = *page.NextCursor
		}
		t.Fatal("paging did not end")
		return nil
	}
	id := func(i ...int) []int64 {
		out := []int64{}
		for _, n := range i {
			out = append(out, made[n].ID)
		}
		return out
	}
	require.Equal(t, id(4, 3, 2, 1, 0), list(""), "newest first, across pages")
	require.Equal(t, id(0, 1, 2, 3, 4), list("order=asc"))
	require.Equal(t, id(0, 1, 2, 3, 4), list("sort=createdAt&order=asc"))
	require.Equal(t, id(3, 1), list("sort=updatedAt&order=desc")[:2], "the last changed first")
	require.Equal(t, id(2, 1), list("urgency=High"))
	require.Equal(t, id(3, 2, 1), list("urgency=High,Urgent"))
	require.Equal(t, id(3), list("baseStatus=Resolved"))
	require.Equal(t, id(4, 2, 1, 0), list("baseStatus=New"))
	require.Equal(t, id(1), list("ownerId="+p.agent2))
	require.Equal(t, id(1), list("teamId="+p.team))
	require.Equal(t, id(4, 3, 2, 1, 0), list("clientId="+p.customer))
	require.Equal(t, id(2), list("q="+url.QueryEscape("disk 2 FULL")))
	require.Empty(t, list("createdFrom="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))))
	require.Len(t, list("createdTo="+url.QueryEscape(time.Now().Add(time.Hour).Format(time.RFC3339))), 5)
}

func TestPeopleTeamsStatuses(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)

	var person map[string]any
	s.call(t, p.agentTok, "PATCH", "/api/v1/persons/"+p.customer, map[string]any{"phones": []string{"+351 21 000 0000"},
		"customFields": map[string]any{"plan": "gold"}}).expect(200).decode(&person)
	require.Equal(t, []any{"+351 21 000 0000"}, person["phones"])
	got := s.call(t, p.agentTok, "GET", "/api/v1/persons?phone="+url.QueryEscape("+351 21 000 0000"), nil).expect(200).obj()
	require.Len(t, got["data"], 1)
	got = s.call(t, p.agentTok, "GET", "/api/v1/persons?organizationId="+p.org, nil).expect(200).obj()
	require.Len(t, got["data"], 2)

	// Teams: members change, deactivation keeps the team.
	var team map[string]any
	s.call(t, s.admin, "PATCH", "/api/v1/teams/"+p.team, map[string]any{"memberIds": []string{p.agent}}).expect(200).decode(&team)
	require.Equal(t, []any{p.agent}, team["memberIds"])
	got = s.call(t, s.admin, "GET", "/api/v1/teams?memberId="+p.agent, nil).expect(200).obj()
	require.NotEmpty(t, got["data"])
	s.call(t, s.admin, "DELETE", "/api/v1/teams/"+p.team, nil).expect(200)
	require.Equal(t, false, s.call(t, s.admin, "GET", "/api/v1/teams/"+p.team, nil).expect(200).obj()["isActive"])
	s.call(t, p.agentTok, "POST", "/api/v1/tickets", map[string]any{"subject": "x", "teamId": p.team}).
		expectError(422, "validation_failed", "teamId")

	// Statuses: custom ones map to a base status; deactivated ones cannot be used.
	name := "Escalated " + p.team[:8]
	s.call(t, s.admin, "POST", "/api/v1/statuses", map[string]any{"name": name, "baseStatus": "InAttendance"}).expect(201)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Escalate me"})
	tk = decodeTicket(t, s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": name}).expect(200))
	require.Equal(t, "InAttendance", tk.BaseStatus)
	require.Equal(t, name, tk.Status)
	s.call(t, s.admin, "DELETE", "/api/v1/statuses/"+url.PathEscape(name), nil).expect(200)
	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": name}).expectError(422, "validation_failed", "status")
	got = s.call(t, p.agentTok, "GET", "/api/v1/statuses?baseStatus=Resolved", nil).expect(200).obj()
	require.NotEmpty(t, got["data"])

	// Every configuration change is audited with who made it.
	var n int
	require.NoError(t, s.db.NewRaw(`SELECT count(*) FROM audit_log WHERE entity_id IN (?, ?, ?)`,
		p.team, name, p.customer).Scan(t.Context(), &n))
	require.GreaterOrEqual(t, n, 6)
	var actor string
	require.NoError(t, s.db.NewRaw(`SELECT actor_id FROM audit_log WHERE entity_id = ? AND action = 'update'`, p.customer).Scan(t.Context(), &actor))
	require.Equal(t, p.agent, actor)
}

func TestOperationsEndpoints(t *testing.T) {
	s := env(t)
	require.Equal(t, "ok", s.call(t, "", "GET", "/healthz", nil).expect(200).obj()["status"])
	require.Equal(t, "ready", s.call(t, "", "GET", "/readyz", nil).expect(200).obj()["status"])
	doc := s.call(t, "", "GET", "/api/v1/openapi.json", nil).expect(200).obj()
	require.Equal(t, "3.0.3", doc["openapi"])
	require.Contains(t, doc["paths"], "/api/v1/tickets/{id}/status")
}

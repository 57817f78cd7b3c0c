package integration

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// chatGroupJSON is a chat group as the API answers it.
type chatGroupJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"displayName"`
	Members     []struct {
		AgentID string `json:"agentId"`
	} `json:"members"`
	Distribution struct {
		Automatic             bool `json:"automatic"`
		MaxConcurrentPerAgent *int `json:"maxConcurrentPerAgent"`
	} `json:"distribution"`
	CalendarID   *string `json:"calendarId"`
	DepartmentID *string `json:"departmentId"`
	Timeouts     struct {
		AcceptWithin       string `json:"acceptWithin"`
		CustomerInactivity string `json:"customerInactivity"`
		QueueWait          string `json:"queueWait"`
	} `json:"timeouts"`
	Version int `json:"version"`
}

func (g chatGroupJSON) memberIDs() []string {
	out := []string{}
	for _, m := range g.Members {
		out = append(out, m.AgentID)
	}
	return out
}

type chatWidgetJSON struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	Key            string   `json:"key"`
	GroupIDs       []string `json:"groupIds"`
	AllowedOrigins []string `json:"allowedOrigins"`
	Welcome        string   `json:"welcome"`
	Version        int      `json:"version"`
}

func (s *stack) chatGroup(t *testing.T, body map[string]any) chatGroupJSON {
	t.Helper()
	var g chatGroupJSON
	s.call(t, s.admin, "POST", "/api/v1/chat-groups", body).expect(201).decode(&g)
	return g
}

func TestChatGroupsCRUD(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")

	// Defaults: automatic, no limit, always open, no department, 60s / 10m / 5m.
	r := s.call(t, s.admin, "POST", "/api/v1/chat-groups", map[string]any{"name": "support-" + tag})
	r.expect(201)
	raw := r.obj()
	require.Equal(t, map[string]any{"automatic": true, "maxConcurrentPerAgent": nil}, raw["distribution"])
	require.Equal(t, map[string]any{"acceptWithin": "1m", "customerInactivity": "10m", "queueWait": "5m"}, raw["timeouts"])
	require.Nil(t, raw["calendarId"])
	require.Nil(t, raw["departmentId"])
	require.Equal(t, []any{}, raw["members"])
	require.Equal(t, "support-"+tag, raw["displayName"], "displayName defaults to the name")
	require.EqualValues(t, 1, raw["version"])
	for _, k := range []string{"id", "name", "displayName", "members", "distribution", "calendarId", "departmentId", "timeouts", "version", "createdAt", "updatedAt"} {
		require.Contains(t, raw, k)
	}
	plain := raw["id"].(string)

	// The full shape, round trip.
	cal := s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": "Chat " + tag, "timezone": "UTC"}).expect(201).obj()["id"].(string)
	dept := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "Sales " + tag, "kind": "department", "profile": "customer"}).
		expect(201).obj()["id"].(string)
	g := s.chatGroup(t, map[string]any{"name": "sales-" + tag, "displayName": "Sales",
		"members":      []map[string]any{{"agentId": p.agent2}, {"agentId": p.agent}},
		"distribution": map[string]any{"automatic": false, "maxConcurrentPerAgent": 3},
		"calendarId":   cal, "departmentId": dept,
		"timeouts": map[string]any{"acceptWithin": "30s", "customerInactivity": "2h", "queueWait": "90s"}})
	require.Equal(t, []string{p.agent2, p.agent}, g.memberIDs(), "members keep their order")
	require.False(t, g.Distribution.Automatic)
	require.Equal(t, 3, *g.Distribution.MaxConcurrentPerAgent)
	require.Equal(t, cal, *g.CalendarID)
	require.Equal(t, dept, *g.DepartmentID)
	require.Equal(t, "30s", g.Timeouts.AcceptWithin)
	require.Equal(t, "2h", g.Timeouts.CustomerInactivity)
	require.Equal(t, "90s", g.Timeouts.QueueWait)
	var got chatGroupJSON
	s.call(t, p.agentTok, "GET", "/api/v1/chat-groups/"+g.ID, nil).expect(200).decode(&got)
	require.Equal(t, g, got, "agents read configuration")

	// PATCH: absent fields stay; null removes the limit, the calendar and the department;
	// members are replaced in the new order; the version rises once.
	var up chatGroupJSON
	s.call(t, s.admin, "PATCH", "/api/v1/chat-groups/"+g.ID, map[string]any{
		"members":      []map[string]any{{"agentId": p.agent}},
		"distribution": map[string]any{"maxConcurrentPerAgent": nil}, "calendarId": nil, "departmentId": "",
		"timeouts": map[string]any{"queueWait": "1h30m"}}).expect(200).decode(&up)
	require.Equal(t, []string{p.agent}, up.memberIDs())
	require.Nil(t, up.Distribution.MaxConcurrentPerAgent)
	require.False(t, up.Distribution.Automatic, "absent stays")
	require.Nil(t, up.CalendarID)
	require.Nil(t, up.DepartmentID)
	require.Equal(t, "30s", up.Timeouts.AcceptWithin)
	require.Equal(t, "90m", up.Timeouts.QueueWait, "answered in its largest whole unit")
	require.Equal(t, 2, up.Version)
	// A no-op edit writes nothing.
	s.call(t, s.admin, "PATCH", "/api/v1/chat-groups/"+g.ID, map[string]any{"displayName": "Sales"}).expect(200).decode(&up)
	require.Equal(t, 2, up.Version)

	// List: cursor paging, agentId and q filters.
	var page struct {
		Data []chatGroupJSON `json:"data"`
		Next *string         `json:"next_cursor"`
	}
	s.call(t, s.admin, "GET", "/api/v1/chat-groups?limit=1&q="+tag, nil).expect(200).decode(&page)
	require.Len(t, page.Data, 1)
	require.Equal(t, plain, page.Data[0].ID)
	require.NotNil(t, page.Next)
	s.call(t, s.admin, "GET", "/api/v1/chat-groups?limit=1&q="+tag+"&cursor="+*page.Next, nil).expect(200).decode(&page)
	require.Len(t, page.Data, 1)
	require.Equal(t, g.ID, page.Data[0].ID)
	require.Equal(t, []string{p.agent}, page.Data[0].memberIDs(), "lists carry members")
	s.call(t, s.admin, "GET", "/api/v1/chat-groups?agentId="+p.agent, nil).expect(200).decode(&page)
	require.Len(t, page.Data, 1)
	require.Equal(t, g.ID, page.Data[0].ID)

	// Name clash: 409, on create and on rename.
	s.call(t, s.admin, "POST", "/api/v1/chat-groups", map[string]any{"name": "sales-" + tag}).expectError(409, "conflict")
	s.call(t, s.admin, "PATCH", "/api/v1/chat-groups/"+plain, map[string]any{"name": "sales-" + tag}).expectError(409, "conflict")

	// Permissions: config:write writes, agents and customers do not; customers do not read.
	s.call(t, p.agentTok, "POST", "/api/v1/chat-groups", map[string]any{"name": "x-" + tag}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "PATCH", "/api/v1/chat-groups/"+g.ID, map[string]any{"displayName": "x"}).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/chat-groups", nil).expectError(403, "forbidden")
	s.call(t, s.admin, "GET", "/api/v1/chat-groups/nope", nil).expectError(404, "not_found")

	// A calendar a chat group uses is not deleted.
	s.call(t, s.admin, "PATCH", "/api/v1/chat-groups/"+plain, map[string]any{"calendarId": cal}).expect(200)
	s.call(t, s.admin, "DELETE", "/api/v1/calendars/"+cal, nil).expectError(409, "conflict")

	// Delete; members go with it.
	s.call(t, s.admin, "DELETE", "/api/v1/chat-groups/"+g.ID, nil).expect(204)
	s.call(t, s.admin, "GET", "/api/v1/chat-groups/"+g.ID, nil).expectError(404, "not_found")
	s.call(t, s.admin, "DELETE", "/api/v1/chat-groups/"+g.ID, nil).expectError(404, "not_found")
	var left int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM chat_group_members WHERE group_id = ?", g.ID).Scan(context.Background(), &left))
	require.Zero(t, left)

	// Every write is audited, the no-op and the refused ones not.
	require.Equal(t, []string{"create", "update", "delete"}, s.auditActions(t, "chat_group", g.ID))
	require.Equal(t, []string{"create", "update"}, s.auditActions(t, "chat_group", plain))
	var after string
	require.NoError(t, s.db.NewRaw("SELECT after->'timeouts'->>'queueWait' FROM audit_log WHERE entity = 'chat_group' AND entity_id = ? AND action = 'update'", g.ID).
		Scan(context.Background(), &after))
	require.Equal(t, "90m", after, "the audit records the API's shape")
}

func TestChatGroupsBadInput(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")
	off := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "Off " + tag, "profile": "agent"}).expect(201).obj()["id"].(string)
	s.call(t, s.admin, "PATCH", "/api/v1/persons/"+off, map[string]any{"isActive": false}).expect(200)
	org := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "Org " + tag, "kind": "organization", "profile": "customer"}).
		expect(201).obj()["id"].(string)
	existing := s.chatGroup(t, map[string]any{"name": "bad-" + tag})

	name := 0
	body := func(kv ...any) map[string]any {
		name++
		m := map[string]any{"name": "g" + strconv.Itoa(name) + "-" + tag}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	to := func(k, v string) map[string]any { return map[string]any{k: v} }
	members := func(ids ...string) []map[string]any {
		out := []map[string]any{}
		for _, id := range ids {
			out = append(out, map[string]any{"agentId": id})
		}
		return out
	}
	cases := []struct {
		name  string
		body  any
		field string
	}{
		{"no name", map[string]any{"displayName": "x"}, "name"},
		{"blank name", map[string]any{"name": "  "}, "name"},
		{"accept too short", body("timeouts", to("acceptWithin", "4s")), "timeouts.acceptWithin"},
		{"accept too long", body("timeouts", to("acceptWithin", "61m")), "timeouts.acceptWithin"},
		{"accept malformed", body("timeouts", to("acceptWithin", "sixty")), "timeouts.acceptWithin"},
		{"accept a number", body("timeouts", map[string]any{"acceptWithin": 60}), "timeouts.acceptWithin"},
		{"accept sub-second", body("timeouts", to("acceptWithin", "5500ms")), "timeouts.acceptWithin"},
		{"inactivity too short", body("timeouts", to("customerInactivity", "30s")), "timeouts.customerInactivity"},
		{"inactivity too long", body("timeouts", to("customerInactivity", "2d")), "timeouts.customerInactivity"},
		{"queue wait too short", body("timeouts", to("queueWait", "5s")), "timeouts.queueWait"},
		{"queue wait negative", body("timeouts", to("queueWait", "-5m")), "timeouts.queueWait"},
		{"unknown timeout", body("timeouts", to("ringFor", "5s")), "ringFor"},
		{"limit zero", body("distribution", map[string]any{"maxConcurrentPerAgent": 0}), "distribution.maxConcurrentPerAgent"},
		{"limit over 100", body("distribution", map[string]any{"maxConcurrentPerAgent": 101}), "distribution.maxConcurrentPerAgent"},
		{"limit a string", body("distribution", map[string]any{"maxConcurrentPerAgent": "3"}), "distribution.maxConcurrentPerAgent"},
		{"automatic a string", body("distribution", map[string]any{"automatic": "yes"}), "distribution.automatic"},
		{"unknown agent", body("members", members(p.agent, "nope")), "members[1].agentId"},
		{"inactive agent", body("members", members(off)), "members[0].agentId"},
		{"customer member", body("members", members(p.customer)), "members[0].agentId"},
		{"duplicate member", body("members", members(p.agent, p.agent2, p.agent)), "members[2].agentId"},
		{"member without id", body("members", []map[string]any{{}}), "members[0].agentId"},
		{"bad calendar", body("calendarId", "nope"), "calendarId"},
		{"unknown department", body("departmentId", "nope"), "departmentId"},
		{"organization as department", body("departmentId", org), "departmentId"},
		{"agent as department", body("departmentId", p.agent), "departmentId"},
		{"unknown key", body("color", "red"), "color"},
		{"NUL in displayName", body("displayName", "a\x00b"), "displayName"},
		{"NUL in a timeout", body("timeouts", to("queueWait", "5m\x00")), "timeouts.queueWait"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.call(t, s.admin, "POST", "/api/v1/chat-groups", c.body).expectError(422, "validation_failed", c.field)
			if m, ok := c.body.(map[string]any); ok && c.field != "name" {
				delete(m, "name")
				s.call(t, s.admin, "PATCH", "/api/v1/chat-groups/"+existing.ID, m).expectError(422, "validation_failed", c.field)
			}
		})
	}
	// Several bad fields at once: each named.
	s.call(t, s.admin, "POST", "/api/v1/chat-groups", body("timeouts", map[string]any{"acceptWithin": "1s", "queueWait": "1s"},
		"members", members("nope"), "calendarId", "nope")).
		expectError(422, "validation_failed", "timeouts.acceptWithin", "timeouts.queueWait", "members[0].agentId", "calendarId")
	require.Equal(t, []string{"create"}, s.auditActions(t, "chat_group", existing.ID), "refused edits are not audited")
	var got chatGroupJSON
	s.call(t, s.admin, "GET", "/api/v1/chat-groups/"+existing.ID, nil).expect(200).decode(&got)
	require.Equal(t, existing, got)
	// A stored member deactivated later does not block an unrelated edit.
	g := s.chatGroup(t, map[string]any{"name": "later-" + tag, "members": members(p.agent2)})
	s.call(t, s.admin, "PATCH", "/api/v1/persons/"+p.agent2, map[string]any{"isActive": false}).expect(200)
	s.call(t, s.admin, "PATCH", "/api/v1/chat-groups/"+g.ID, map[string]any{"displayName": "Later"}).expect(200)
}

func TestChatWidgetsCRUD(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")
	g1 := s.chatGroup(t, map[string]any{"name": "w1-" + tag})
	g2 := s.chatGroup(t, map[string]any{"name": "w2-" + tag})

	r := s.call(t, s.admin, "POST", "/api/v1/chat-widgets", map[string]any{"name": "site " + tag, "groupIds": []string{g1.ID},
		"allowedOrigins": []string{"https://example.com", "HTTP://Localhost:8080/", "https://shop.example.com:443"}, "welcome": "Hi"})
	r.expect(201)
	raw := r.obj()
	for _, k := range []string{"id", "name", "key", "groupIds", "allowedOrigins", "welcome", "version", "createdAt", "updatedAt"} {
		require.Contains(t, raw, k)
	}
	var w chatWidgetJSON
	r.decode(&w)
	require.Equal(t, []string{g1.ID}, w.GroupIDs)
	require.Equal(t, []string{"https://example.com", "http://localhost:8080", "https://shop.example.com"}, w.AllowedOrigins,
		"origins as browsers send them")
	require.Equal(t, "Hi", w.Welcome)
	require.Equal(t, 1, w.Version)
	require.True(t, strings.HasPrefix(w.Key, "cwk_"), w.Key)
	require.Len(t, w.Key, len("cwk_")+32, "192 bits, base64url")
	require.NotContains(t, w.Key, "+")
	require.NotContains(t, w.Key, "/")

	// The key is never the client's.
	s.call(t, s.admin, "POST", "/api/v1/chat-widgets", map[string]any{"name": "x", "groupIds": []string{g1.ID}, "key": "mine"}).
		expectError(422, "validation_failed", "key")
	s.call(t, s.admin, "PATCH", "/api/v1/chat-widgets/"+w.ID, map[string]any{"key": "mine"}).expectError(422, "validation_failed", "key")
	// A second widget has another key.
	var w2 chatWidgetJSON
	s.call(t, s.admin, "POST", "/api/v1/chat-widgets", map[string]any{"name": "other " + tag, "groupIds": []string{g2.ID}}).expect(201).decode(&w2)
	require.NotEqual(t, w.Key, w2.Key)
	require.Equal(t, []string{}, w2.AllowedOrigins)
	require.Equal(t, "", w2.Welcome)

	// Update: lists replaced, absent fields stay, the key stays.
	var up chatWidgetJSON
	s.call(t, s.admin, "PATCH", "/api/v1/chat-widgets/"+w.ID, map[string]any{"groupIds": []string{g2.ID, g1.ID}, "allowedOrigins": []string{"https://example.org"}}).
		expect(200).decode(&up)
	require.Equal(t, []string{g2.ID, g1.ID}, up.GroupIDs)
	require.Equal(t, []string{"https://example.org"}, up.AllowedOrigins)
	require.Equal(t, "Hi", up.Welcome)
	require.Equal(t, w.Key, up.Key)
	require.Equal(t, 2, up.Version)

	// Rotate the key.
	var rot chatWidgetJSON
	s.call(t, s.admin, "POST", "/api/v1/chat-widgets/"+w.ID+"/rotate-key", nil).expect(200).decode(&rot)
	require.NotEqual(t, w.Key, rot.Key)
	require.Equal(t, 3, rot.Version)
	s.call(t, p.agentTok, "POST", "/api/v1/chat-widgets/"+w.ID+"/rotate-key", nil).expectError(403, "forbidden")

	// Read with config:read; list with groupId filter and paging.
	var got chatWidgetJSON
	s.call(t, p.agentTok, "GET", "/api/v1/chat-widgets/"+w.ID, nil).expect(200).decode(&got)
	require.Equal(t, rot, got)
	var page struct {
		Data []chatWidgetJSON `json:"data"`
		Next *string          `json:"next_cursor"`
	}
	s.call(t, s.admin, "GET", "/api/v1/chat-widgets?groupId="+g1.ID, nil).expect(200).decode(&page)
	require.Len(t, page.Data, 1)
	require.Equal(t, w.ID, page.Data[0].ID)
	s.call(t, s.admin, "GET", "/api/v1/chat-widgets?limit=1&q="+tag, nil).expect(200).decode(&page)
	require.Len(t, page.Data, 1)
	require.NotNil(t, page.Next)
	s.call(t, p.customerTok, "GET", "/api/v1/chat-widgets", nil).expectError(403, "forbidden")
	s.call(t, p.agentTok, "POST", "/api/v1/chat-widgets", map[string]any{"name": "x", "groupIds": []string{g1.ID}}).expectError(403, "forbidden")

	// A group a widget offers is not deleted; once out of the widget it is.
	s.call(t, s.admin, "DELETE", "/api/v1/chat-groups/"+g1.ID, nil).expectError(409, "conflict")
	s.call(t, s.admin, "PATCH", "/api/v1/chat-widgets/"+w.ID, map[string]any{"groupIds": []string{g2.ID}}).expect(200)
	s.call(t, s.admin, "DELETE", "/api/v1/chat-groups/"+g1.ID, nil).expect(204)

	// Delete.
	s.call(t, s.admin, "DELETE", "/api/v1/chat-widgets/"+w.ID, nil).expect(204)
	s.call(t, s.admin, "GET", "/api/v1/chat-widgets/"+w.ID, nil).expectError(404, "not_found")
	require.Equal(t, []string{"create", "update", "rotate_key", "update", "delete"}, s.auditActions(t, "chat_widget", w.ID))
}

func TestChatWidgetsBadInput(t *testing.T) {
	s := env(t)
	tag := randomName("")
	g := s.chatGroup(t, map[string]any{"name": "wb-" + tag})
	existing := chatWidgetJSON{}
	s.call(t, s.admin, "POST", "/api/v1/chat-widgets", map[string]any{"name": "ok " + tag, "groupIds": []string{g.ID}}).expect(201).decode(&existing)
	ok := func(kv ...any) map[string]any {
		m := map[string]any{"name": "w " + tag, "groupIds": []string{g.ID}}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	origins := func(o ...string) []string { return o }
	cases := []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"no name", map[string]any{"groupIds": []string{g.ID}}, "name"},
		{"no groups", map[string]any{"name": "x"}, "groupIds"},
		{"empty groups", ok("groupIds", []string{}), "groupIds"},
		{"unknown group", ok("groupIds", []string{g.ID, "nope"}), "groupIds[1]"},
		{"duplicate group", ok("groupIds", []string{g.ID, g.ID}), "groupIds[1]"},
		{"origin with a path", ok("allowedOrigins", origins("https://example.com/chat")), "allowedOrigins[0]"},
		{"origin with a query", ok("allowedOrigins", origins("https://ok.example.com", "https://example.com?x=1")), "allowedOrigins[1]"},
		{"origin with a fragment", ok("allowedOrigins", origins("https://example.com#x")), "allowedOrigins[0]"},
		{"origin wildcard", ok("allowedOrigins", origins("https://*.example.com")), "allowedOrigins[0]"},
		{"origin star", ok("allowedOrigins", origins("*")), "allowedOrigins[0]"},
		{"origin without scheme", ok("allowedOrigins", origins("example.com")), "allowedOrigins[0]"},
		{"origin ftp", ok("allowedOrigins", origins("ftp://example.com")), "allowedOrigins[0]"},
		{"origin javascript", ok("allowedOrigins", origins("javascript:alert(1)")), "allowedOrigins[0]"},
		{"origin with a user", ok("allowedOrigins", origins("https://u:p@example.com")), "allowedOrigins[0]"},
		{"origin bad port", ok("allowedOrigins", origins("https://example.com:99999")), "allowedOrigins[0]"},
		{"origin twice", ok("allowedOrigins", origins("https://example.com", "https://EXAMPLE.com:443")), "allowedOrigins[1]"},
		{"origins not strings", ok("allowedOrigins", []any{1}), "allowedOrigins"}, // the decoder names the array
		{"welcome too long", ok("welcome", strings.Repeat("a", 2001)), "welcome"},
		{"unknown key", ok("theme", "dark"), "theme"},
		{"NUL in welcome", ok("welcome", "hi\x00"), "welcome"},
		{"NUL in an origin", ok("allowedOrigins", origins("https://example.com\x00")), "allowedOrigins[0]"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s.call(t, s.admin, "POST", "/api/v1/chat-widgets", c.body).expectError(422, "validation_failed", c.field)
			if c.field != "name" && c.field != "groupIds" || c.name == "empty groups" {
				delete(c.body, "name")
				if c.field != "groupIds[1]" && c.name != "empty groups" {
					delete(c.body, "groupIds")
				}
				s.call(t, s.admin, "PATCH", "/api/v1/chat-widgets/"+existing.ID, c.body).expectError(422, "validation_failed", c.field)
			}
		})
	}
	require.Equal(t, []string{"create"}, s.auditActions(t, "chat_widget", existing.ID))
}

func TestChatPresence(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	path := "/api/v1/agents/" + p.agent + "/chat"

	// Never set: offline.
	raw := s.call(t, p.agentTok, "GET", path, nil).expect(200).obj()
	require.Equal(t, map[string]any{"agentId": p.agent, "status": "offline", "updatedAt": nil, "lastStreamAt": nil}, raw)

	// The agent sets their own; another agent reads it.
	raw = s.call(t, p.agentTok, "PUT", path, map[string]any{"status": "online"}).expect(200).obj()
	require.Equal(t, "online", raw["status"])
	require.NotNil(t, raw["updatedAt"])
	require.Equal(t, "online", s.call(t, p.agent2Tok, "GET", path, nil).expect(200).obj()["status"])

	// An admin sets anyone's; another agent and a customer may not.
	require.Equal(t, "away", s.call(t, s.admin, "PUT", path, map[string]any{"status": "away"}).expect(200).obj()["status"])
	s.call(t, p.agent2Tok, "PUT", path, map[string]any{"status": "offline"}).expectError(403, "forbidden")
	s.call(t, p.customerTok, "PUT", path, map[string]any{"status": "offline"}).expectError(403, "forbidden")
	s.call(t, p.customerTok, "PUT", "/api/v1/agents/"+p.customer+"/chat", map[string]any{"status": "online"}).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", path, nil).expectError(403, "forbidden")
	require.Equal(t, "away", s.call(t, p.agentTok, "GET", path, nil).expect(200).obj()["status"])

	// A token without tickets:write does not set it, even the agent's own.
	readOnly := s.mintOK(t, s.admin, p.agent, "tickets:read")
	s.call(t, readOnly, "PUT", path, map[string]any{"status": "online"}).expectError(403, "forbidden")
	require.Equal(t, 200, s.call(t, readOnly, "GET", path, nil).status)

	// Bad status, unknown keys, unknown agent, a customer's id, a deactivated agent.
	s.call(t, p.agentTok, "PUT", path, map[string]any{"status": "busy"}).expectError(422, "validation_failed", "status")
	s.call(t, p.agentTok, "PUT", path, map[string]any{}).expectError(422, "validation_failed", "status")
	s.call(t, p.agentTok, "PUT", path, map[string]any{"status": 1}).expectError(422, "validation_failed", "status")
	s.call(t, p.agentTok, "PUT", path, map[string]any{"status": "online", "mood": "ok"}).expectError(422, "validation_failed", "mood")
	s.call(t, s.admin, "PUT", "/api/v1/agents/nope/chat", map[string]any{"status": "online"}).expectError(404, "not_found")
	s.call(t, s.admin, "GET", "/api/v1/agents/nope/chat", nil).expectError(404, "not_found")
	s.call(t, s.admin, "GET", "/api/v1/agents/"+p.customer+"/chat", nil).expectError(404, "not_found")
	s.call(t, s.admin, "PATCH", "/api/v1/persons/"+p.agent2, map[string]any{"isActive": false}).expect(200)
	s.call(t, s.admin, "PUT", "/api/v1/agents/"+p.agent2+"/chat", map[string]any{"status": "online"}).expectError(409, "conflict")

	// last_stream_at is kept by an update of the status.
	_, err := s.db.NewRaw("UPDATE agent_chat_presence SET last_stream_at = now() WHERE agent_id = ?", p.agent).Exec(context.Background())
	require.NoError(t, err)
	raw = s.call(t, p.agentTok, "PUT", path, map[string]any{"status": "online"}).expect(200).obj()
	require.NotNil(t, raw["lastStreamAt"])
}

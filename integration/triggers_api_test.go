package integration

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The triggers' admin API over HTTP: CRUD, validation, clone, defaults, the expression check,
// the dry run, a ticket's trigger history and notifications. The tests share the package's
// stack, so every trigger they leave enabled is scoped to their own tickets (a condition on a
// random subject) and every trigger they create is deleted when they end.

// triggerJSON is the trigger as the API answers it.
type triggerJSON struct {
	ID             string           `json:"id"`
	Name           string           `json:"name"`
	Enabled        bool             `json:"enabled"`
	Events         []string         `json:"events"`
	Condition      string           `json:"condition"`
	Actions        []map[string]any `json:"actions"`
	Position       int              `json:"position"`
	StopProcessing bool             `json:"stopProcessing"`
	Timer          *struct {
		After string `json:"after"`
		From  string `json:"from"`
	} `json:"timer"`
	Version   int       `json:"version"`
	IsDefault bool      `json:"isDefault"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

type triggerPage struct {
	Data       []triggerJSON `json:"data"`
	NextCursor *string       `json:"next_cursor"`
}

// dropTriggersAfter deletes the triggers whose name contains tag when the test ends.
func (s *stack) dropTriggersAfter(t *testing.T, tag string) {
	t.Cleanup(func() {
		_, _ = s.db.ExecContext(context.Background(), "DELETE FROM triggers WHERE position(? IN name) > 0", tag)
	})
}

func (s *stack) createTrigger(t *testing.T, body map[string]any) triggerJSON {
	t.Helper()
	var tr triggerJSON
	s.call(t, s.admin, "POST", "/api/v1/triggers", body).expect(201).decode(&tr)
	return tr
}

func (s *stack) countTriggers(t *testing.T, tag string) int64 {
	t.Helper()
	n, err := s.db.NewSelect().Table("triggers").Where("position(? IN name) > 0", tag).Count(context.Background())
	require.NoError(t, err)
	return n
}

func (s *stack) triggerAudit(t *testing.T, id string) []string {
	t.Helper()
	var actions []string
	require.NoError(t, s.db.NewRaw("SELECT action FROM audit_log WHERE entity = 'trigger' AND entity_id = ? ORDER BY id", id).
		Scan(context.Background(), &actions))
	return actions
}

func TestTriggerCRUD(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("crud-")
	s.dropTriggersAfter(t, tag)

	body := map[string]any{
		"name":           "VIP " + tag,
		"events":         []string{"ticket.created", "ticket.updated"},
		"condition":      fmt.Sprintf("ticket.subject == '%s' && ticket.urgency == 'Urgent'", tag),
		"actions":        []map[string]any{{"type": "add_tags", "tags": []string{"vip"}}, {"type": "set_status", "status": "InAttendance"}},
		"position":       500,
		"stopProcessing": true,
	}
	tr := s.createTrigger(t, body)
	require.NotEmpty(t, tr.ID)
	require.Equal(t, "VIP "+tag, tr.Name)
	require.True(t, tr.Enabled, "enabled by default")
	require.Equal(t, []string{"ticket.created", "ticket.updated"}, tr.Events)
	require.Equal(t, 500, tr.Position)
	require.True(t, tr.StopProcessing)
	require.Equal(t, 1, tr.Version)
	require.False(t, tr.IsDefault)
	require.Nil(t, tr.Timer)
	require.Equal(t, []map[string]any{{"type": "add_tags", "tags": []any{"vip"}}, {"type": "set_status", "status": "InAttendance"}}, tr.Actions)

	var got triggerJSON
	s.call(t, p.agentTok, "GET", "/api/v1/triggers/"+tr.ID, nil).expect(200).decode(&got)
	require.Equal(t, tr.ID, got.ID)
	require.Equal(t, tr.Condition, got.Condition)
	require.Equal(t, tr.Actions, got.Actions)

	// PATCH is partial, and the version rises with every change.
	var v2 triggerJSON
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"name": "VIP2 " + tag}).expect(200).decode(&v2)
	require.Equal(t, 2, v2.Version)
	require.Equal(t, "VIP2 "+tag, v2.Name)
	require.Equal(t, tr.Condition, v2.Condition, "absent fields stay")
	require.Equal(t, tr.Actions, v2.Actions)
	require.True(t, v2.UpdatedAt.After(tr.UpdatedAt) || v2.UpdatedAt.Equal(tr.UpdatedAt))

	var same triggerJSON
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"name": "VIP2 " + tag, "enabled": true}).expect(200).decode(&same)
	require.Equal(t, 2, same.Version, "a PATCH that changes nothing keeps the version")

	var v3 triggerJSON
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"enabled": false,
		"actions": []map[string]any{{"type": "remove_tags", "tags": []string{"old"}}}, "condition": ""}).expect(200).decode(&v3)
	require.Equal(t, 3, v3.Version)
	require.False(t, v3.Enabled)
	require.Equal(t, "", v3.Condition)
	require.Equal(t, []map[string]any{{"type": "remove_tags", "tags": []any{"old"}}}, v3.Actions)

	// A time condition: the ticket.time event with its timer; null removes the timer.
	var timed triggerJSON
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"events": []string{"ticket.time"},
		"timer": map[string]any{"after": "2h", "from": "createdAt"}}).expect(200).decode(&timed)
	require.Equal(t, 4, timed.Version)
	require.NotNil(t, timed.Timer)
	require.Equal(t, "2h", timed.Timer.After)
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"timer": nil}).
		expectError(422, "validation_failed", "timer") // ticket.time needs its timer
	var untimed triggerJSON
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"events": []string{"ticket.updated"}, "timer": nil}).
		expect(200).decode(&untimed)
	require.Nil(t, untimed.Timer)
	require.Equal(t, 5, untimed.Version)

	// Listing: position order, filters, cursor paging.
	second := s.createTrigger(t, map[string]any{"name": "First " + tag, "events": []string{"ticket.assigned"},
		"condition": fmt.Sprintf("ticket.subject == '%s'", tag), "position": 499, "enabled": false})
	last := s.createTrigger(t, map[string]any{"name": "Last " + tag, "events": []string{"ticket.assigned"},
		"condition": fmt.Sprintf("ticket.subject == '%s'", tag)})
	require.Greater(t, last.Position, 500, "without a position, a trigger goes last")
	var all []triggerJSON
	next := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 200)
		var pg triggerPage
		s.call(t, p.agentTok, "GET", "/api/v1/triggers?limit=2&cursor="+url.QueryEscape(next), nil).expect(200).decode(&pg)
		require.LessOrEqual(t, len(pg.Data), 2)
		all = append(all, pg.Data...)
		if pg.NextCursor == nil {
			break
		}
		next = *pg.NextCursor
	}
	var mine []string
	for i, x := range all {
		if i > 0 {
			prev := all[i-1]
			require.True(t, prev.Position < x.Position || (prev.Position == x.Position && prev.ID < x.ID), "ordered by position, then id")
		}
		if strings.Contains(x.Name, tag) {
			mine = append(mine, x.ID)
		}
	}
	require.Equal(t, []string{second.ID, tr.ID, last.ID}, mine)

	var pg triggerPage
	s.call(t, s.admin, "GET", "/api/v1/triggers?event=ticket.assigned&enabled=false&limit=100", nil).expect(200).decode(&pg)
	ids := []string{}
	for _, x := range pg.Data {
		require.False(t, x.Enabled)
		require.Contains(t, x.Events, "ticket.assigned")
		ids = append(ids, x.ID)
	}
	require.Contains(t, ids, second.ID)
	require.NotContains(t, ids, last.ID, "enabled")
	require.NotContains(t, ids, tr.ID, "other event")
	s.call(t, s.admin, "GET", "/api/v1/triggers?event=ticket.deleted", nil).expectError(422, "validation_failed", "event")
	s.call(t, s.admin, "GET", "/api/v1/triggers?enabled=maybe", nil).expectError(422, "validation_failed", "enabled")
	s.call(t, s.admin, "GET", "/api/v1/triggers?cursor=nope", nil).expectError(422, "validation_failed", "cursor")

	// Delete really deletes.
	del := s.call(t, s.admin, "DELETE", "/api/v1/triggers/"+tr.ID, nil).expect(204)
	require.Empty(t, del.body)
	s.call(t, s.admin, "GET", "/api/v1/triggers/"+tr.ID, nil).expectError(404, "not_found")
	s.call(t, s.admin, "DELETE", "/api/v1/triggers/"+tr.ID, nil).expectError(404, "not_found")
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"enabled": true}).expectError(404, "not_found")
	n, err := s.db.NewSelect().Table("triggers").Where("id = ?", tr.ID).Count(context.Background())
	require.NoError(t, err)
	require.Zero(t, n)

	// Every change is audited.
	require.Equal(t, []string{"create", "update", "update", "update", "update", "delete"}, s.triggerAudit(t, tr.ID))

	// Agents read configuration but do not write it; customers do neither.
	s.call(t, p.agentTok, "GET", "/api/v1/triggers", nil).expect(200)
	s.call(t, p.agentTok, "POST", "/api/v1/triggers", body).expectError(403, "forbidden")
	s.call(t, p.agentTok, "PATCH", "/api/v1/triggers/"+second.ID, map[string]any{"enabled": true}).expectError(403, "forbidden")
	s.call(t, p.agentTok, "DELETE", "/api/v1/triggers/"+second.ID, nil).expectError(403, "forbidden")
	s.call(t, p.agentTok, "POST", "/api/v1/triggers/"+second.ID+"/clone", nil).expectError(403, "forbidden")
	s.call(t, p.agentTok, "POST", "/api/v1/triggers/defaults", nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/triggers", nil).expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/triggers/"+second.ID, nil).expectError(403, "forbidden")
	require.EqualValues(t, 2, s.countTriggers(t, tag), "nothing was written by the refused requests")
}

func TestTriggerValidation(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("bad-")
	s.dropTriggersAfter(t, tag)
	ctx := context.Background()

	// Fixtures the references point at.
	waiting := "Waiting " + tag
	s.call(t, s.admin, "POST", "/api/v1/statuses", map[string]any{"name": waiting, "baseStatus": "Stopped",
		"requiresJustification": true}).expect(201)
	retired := "Retired " + tag
	s.call(t, s.admin, "POST", "/api/v1/statuses", map[string]any{"name": retired, "baseStatus": "Stopped"}).expect(201)
	s.call(t, s.admin, "DELETE", "/api/v1/statuses/"+url.PathEscape(retired), nil).expect(200)
	oldTeam := s.call(t, s.admin, "POST", "/api/v1/teams", map[string]any{"name": "Old " + tag}).expect(201).obj()["id"].(string)
	s.call(t, s.admin, "DELETE", "/api/v1/teams/"+oldTeam, nil).expect(200)
	hook := "wh-" + tag
	_, hookErr := s.db.ExecContext(ctx, "INSERT INTO webhooks (id, name, url, secret) VALUES (?, ?, 'https://example.com/hook', 'whsec_x')", hook, tag)

	base := func(actions ...map[string]any) map[string]any {
		if actions == nil {
			actions = []map[string]any{}
		}
		return map[string]any{"name": "T " + tag, "events": []string{"ticket.created"}, "enabled": false,
			"condition": fmt.Sprintf("ticket.subject == '%s'", tag), "actions": actions}
	}
	with := func(b map[string]any, k string, v any) map[string]any {
		b[k] = v
		return b
	}
	without := func(b map[string]any, k string) map[string]any {
		delete(b, k)
		return b
	}
	fields := func(r *resp) map[string]any {
		_, f := r.apiError()
		return f
	}
	many := make([]map[string]any, 51)
	for i := range many {
		many[i] = map[string]any{"type": "add_tags", "tags": []string{"x"}}
	}

	cases := []struct {
		name  string
		body  any
		field string
		text  string
	}{
		{"no name", without(base(), "name"), "name", "required"},
		{"blank name", with(base(), "name", "   "), "name", "required"},
		{"long name", with(base(), "name", tag+strings.Repeat("x", 200)), "name", "at most 200"},
		{"no events", without(base(), "events"), "events", "ticket.created"},
		{"empty events", with(base(), "events", []string{}), "events", "ticket.action_added"},
		{"unknown event", with(base(), "events", []string{"ticket.created", "ticket.deleted"}), "events[1]", "allowed: ticket.created"},
		{"unknown name", with(base(), "condition", "urgencyy == 'High'"), "condition", "unknown name urgencyy (line 1, column 1)"},
		{"unknown field", with(base(), "condition", "ticket.urgencyy == 'High'"), "condition", "(line 1, column 8)"},
		{"second line", with(base(), "condition", "ticket.urgency == 'High' &&\n  actor.kindd == 'agent'"), "condition", "(line 2, column 9)"},
		{"leading line", with(base(), "condition", "\n  urgencyy == 'High'"), "condition", "(line 2, column 3)"},
		{"not boolean", with(base(), "condition", "ticket.subject"), "condition", "expected type boolean, but got string"},
		{"now()", with(base(), "condition", "now() > ticket.createdAt"), "condition", "line 1"},
		{"syntax", with(base(), "condition", "ticket.urgency == 'High' &&"), "condition", "line 1"},
		{"too long", with(base(), "condition", "ticket.subject == '"+strings.Repeat("x", 4000)+"'"), "condition", "longer than 4000"},
		{"bad position", with(base(), "position", -1), "position", "from 0"},
		{"unknown key", with(base(), "nmae", "x"), "nmae", "unknown field"},
		{"51 actions", base(many...), "actions", "at most 50"},
		{"actions not a list", with(base(), "actions", "add_tags"), "actions", "array"},
		{"unknown type", base(map[string]any{"type": "send_email"}), "actions[0].type", "set_status"},
		{"no type", base(map[string]any{"tags": []string{"x"}}), "actions[0].type", "unknown action type"},
		{"unknown action key", base(map[string]any{"type": "add_tags", "tags": []string{"x"}, "colour": "red"}), "actions[0].colour", "unknown field"},
		{"wrong action type", base(map[string]any{"type": "add_tags", "tags": "vip"}), "actions[0].tags", "array"},
		{"no tags", base(map[string]any{"type": "add_tags"}), "actions[0].tags", "at least one"},
		{"blank tag", base(map[string]any{"type": "add_tags", "tags": []string{"ok", ""}}), "actions[0].tags[1]", "1 to 50"},
		{"no status", base(map[string]any{"type": "set_status"}), "actions[0].status", "required"},
		{"unknown status", base(map[string]any{"type": "set_status", "status": "Nope " + tag}), "actions[0].status", "no status named"},
		{"retired status", base(map[string]any{"type": "set_status", "status": retired}), "actions[0].status", "deactivated"},
		{"parent status", base(map[string]any{"type": "change_parent_status", "status": "Nope " + tag}), "actions[0].status", "no status named"},
		{"justification", base(map[string]any{"type": "set_status", "status": waiting}), "actions[0].justification", "requires a justification"},
		{"urgency", base(map[string]any{"type": "set_urgency", "urgency": "Critical"}), "actions[0].urgency", "Low, Medium, High, Urgent"},
		{"unknown agent", base(map[string]any{"type": "assign_agent", "agentId": "nobody-" + tag}), "actions[0].agentId", "no person"},
		{"customer agent", base(map[string]any{"type": "assign_agent", "agentId": p.customer}), "actions[0].agentId", "not an agent"},
		{"unknown team", base(map[string]any{"type": "assign_team", "teamId": "nope-" + tag}), "actions[0].teamId", "no team"},
		{"retired team", base(map[string]any{"type": "assign_team", "teamId": oldTeam}), "actions[0].teamId", "deactivated"},
		{"distribution", base(map[string]any{"type": "assign_team", "teamId": p.team, "distribution": "random"}), "actions[0].distribution", "round_robin"},
		{"unknown webhook", base(map[string]any{"type": "call_webhook", "webhookId": "nope-" + tag}), "actions[0].webhookId", "no active webhook"},
		{"notify customer", base(map[string]any{"type": "notify_agents", "message": "hi", "agentIds": []string{p.agent, p.customer}}), "actions[0].agentIds[1]", "not an agent"},
		{"template typo", base(map[string]any{"type": "notify_agents", "message": "Reply on {{.subjct}}"}), "actions[0].message", "no field .subjct"},
		{"broken template", base(map[string]any{"type": "add_action", "actionType": "internal", "body": "{{.subject"}), "actions[0].body", "not a valid template"},
		{"set_type", base(map[string]any{"type": "set_type", "ticketType": "secret"}), "actions[0].ticketType", "public or internal"},
		{"second action", base(map[string]any{"type": "add_tags", "tags": []string{"ok"}}, map[string]any{"type": "set_category"}), "actions[1].category", "required"},
		{"time without timer", with(base(), "events", []string{"ticket.time"}), "timer", "required"},
		{"timer without time", with(base(), "timer", map[string]any{"after": "2h", "from": "createdAt"}), "timer", "ticket.time"},
		{"bad timer", with(with(base(), "events", []string{"ticket.time"}), "timer", map[string]any{"after": "soon", "from": "createdAt"}), "timer.after", "duration"},
		{"timer key", with(with(base(), "events", []string{"ticket.time"}), "timer", map[string]any{"after": "2h", "since": "createdAt"}), "timer.since", "unknown field"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := s.call(t, s.admin, "POST", "/api/v1/triggers", c.body)
			r.expectError(422, "validation_failed", c.field)
			require.Contains(t, fields(r)[c.field], c.text, "body: %s", r.body)
		})
	}
	// Every problem at once.
	r := s.call(t, s.admin, "POST", "/api/v1/triggers", map[string]any{"events": []string{"nope"}, "condition": "x ==",
		"actions": []map[string]any{{"type": "set_urgency", "urgency": "Critical"}}})
	r.expectError(422, "validation_failed", "name", "events[0]", "condition", "actions[0].urgency")
	require.Zero(t, s.countTriggers(t, tag), "nothing invalid was saved")

	// Good references save.
	good := []map[string]any{
		{"type": "set_status", "status": waiting, "justification": "waiting for the customer"},
		{"type": "change_parent_status", "status": "Resolved"},
		{"type": "set_urgency", "urgency": "High"},
		{"type": "assign_agent", "agentId": p.agent},
		{"type": "assign_team", "teamId": p.team, "distribution": "least_loaded"},
		{"type": "notify_agents", "message": "#{{.id}} {{.subject}}", "agentIds": []string{p.agent, p.agent2}},
		{"type": "set_custom_field", "field": "plan", "value": map[string]any{"tier": 2}},
		{"type": "create_child_ticket", "subject": "Follow-up of {{.protocol}}"},
	}
	if hookErr == nil {
		good = append(good, map[string]any{"type": "call_webhook", "webhookId": hook})
	} else {
		t.Logf("no webhooks table (%v): the positive webhook case is skipped", hookErr)
	}
	tr := s.createTrigger(t, base(good...))
	require.Len(t, tr.Actions, len(good))
	require.Equal(t, map[string]any{"tier": float64(2)}, tr.Actions[6]["value"])

	// An invalid PATCH changes nothing.
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"name": "ok " + tag, "condition": "urgencyy"}).
		expectError(422, "validation_failed", "condition")
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"actions": []map[string]any{{"type": "assign_team", "teamId": oldTeam}}}).
		expectError(422, "validation_failed", "actions[0].teamId")
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"events": []string{}}).
		expectError(422, "validation_failed", "events")
	var after triggerJSON
	s.call(t, s.admin, "GET", "/api/v1/triggers/"+tr.ID, nil).expect(200).decode(&after)
	require.Equal(t, 1, after.Version)
	require.Equal(t, "T "+tag, after.Name)

	// A PATCH checks only what it changes: a trigger whose team was deactivated since can still
	// be renamed or disabled.
	s.call(t, s.admin, "DELETE", "/api/v1/teams/"+p.team, nil).expect(200)
	var renamed triggerJSON
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+tr.ID, map[string]any{"name": "Renamed " + tag}).expect(200).decode(&renamed)
	require.Equal(t, 2, renamed.Version)

	// Bad JSON is a 400.
	s.call(t, s.admin, "POST", "/api/v1/triggers", `{"name":`).expectError(400, "bad_request")
	s.call(t, s.admin, "POST", "/api/v1/triggers", "").expectError(400, "bad_request")
}

func TestTriggerCloneAndDefaults(t *testing.T) {
	s := env(t)
	tag := randomName("clone-")
	s.dropTriggersAfter(t, tag)
	ctx := context.Background()

	src := s.createTrigger(t, map[string]any{"name": "Source " + tag, "events": []string{"ticket.updated"},
		"condition": fmt.Sprintf("ticket.subject == '%s'", tag), "position": 42, "stopProcessing": true,
		"actions": []map[string]any{{"type": "add_tags", "tags": []string{"a"}}}})
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+src.ID, map[string]any{"position": 43}).expect(200)
	var cp triggerJSON
	s.call(t, s.admin, "POST", "/api/v1/triggers/"+src.ID+"/clone", nil).expect(201).decode(&cp)
	require.NotEqual(t, src.ID, cp.ID)
	require.Equal(t, "Source "+tag+" (copy)", cp.Name)
	require.False(t, cp.Enabled, "a copy starts disabled")
	require.Equal(t, 1, cp.Version)
	require.Equal(t, 43, cp.Position)
	require.Equal(t, src.Condition, cp.Condition)
	require.Equal(t, src.Actions, cp.Actions)
	require.Equal(t, src.Events, cp.Events)
	require.True(t, cp.StopProcessing)
	require.False(t, cp.IsDefault)
	require.Equal(t, []string{"clone"}, s.triggerAudit(t, cp.ID))
	s.call(t, s.admin, "POST", "/api/v1/triggers/nope-"+tag+"/clone", nil).expectError(404, "not_found")

	// Defaults: the first run creates them, the second nothing; a deleted one comes back and an
	// edited one stays edited.
	_, err := s.db.ExecContext(ctx, "DELETE FROM triggers WHERE is_default")
	require.NoError(t, err)
	t.Cleanup(func() { _, _ = s.db.ExecContext(context.Background(), "DELETE FROM triggers WHERE is_default") })
	type defaults struct {
		Data       []triggerJSON `json:"data"`
		CreatedIDs []string      `json:"createdIds"`
	}
	var first defaults
	s.call(t, s.admin, "POST", "/api/v1/triggers/defaults", nil).expect(200).decode(&first)
	require.GreaterOrEqual(t, len(first.Data), 3)
	require.Len(t, first.CreatedIDs, len(first.Data))
	byName := map[string]triggerJSON{}
	for _, d := range first.Data {
		require.True(t, d.IsDefault)
		require.Equal(t, 1, d.Version)
		byName[d.Name] = d
	}
	urgent, ok := byName["Tag urgent tickets"]
	require.True(t, ok)
	require.False(t, urgent.Enabled)
	require.Equal(t, []string{"ticket.created"}, urgent.Events)
	require.Equal(t, "ticket.urgency == 'Urgent'", urgent.Condition)
	require.Equal(t, []map[string]any{{"type": "add_tags", "tags": []any{"urgent"}}}, urgent.Actions)
	notify, ok := byName["Notify the owner of customer replies"]
	require.True(t, ok)
	require.Equal(t, []string{"ticket.action_added"}, notify.Events)
	require.Equal(t, "notify_agents", notify.Actions[0]["type"])

	var second defaults
	s.call(t, s.admin, "POST", "/api/v1/triggers/defaults", nil).expect(200).decode(&second)
	require.Empty(t, second.CreatedIDs, "running it again creates nothing")
	require.Len(t, second.Data, len(first.Data))
	n, err := s.db.NewSelect().Table("triggers").Where("is_default").Count(ctx)
	require.NoError(t, err)
	require.EqualValues(t, len(first.Data), n)

	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+urgent.ID, map[string]any{"name": "Urgent, edited"}).expect(200)
	s.call(t, s.admin, "DELETE", "/api/v1/triggers/"+notify.ID, nil).expect(204)
	var third defaults
	s.call(t, s.admin, "POST", "/api/v1/triggers/defaults", nil).expect(200).decode(&third)
	require.Equal(t, []string{notify.ID}, third.CreatedIDs)
	for _, d := range third.Data {
		if d.ID == urgent.ID {
			require.Equal(t, "Urgent, edited", d.Name)
			require.Equal(t, 2, d.Version)
		}
	}
	// A clone of a default is not a default.
	var dcp triggerJSON
	s.call(t, s.admin, "POST", "/api/v1/triggers/"+urgent.ID+"/clone", nil).expect(201).decode(&dcp)
	require.False(t, dcp.IsDefault)
	require.Equal(t, "Urgent, edited (copy)", dcp.Name)
	s.call(t, s.admin, "DELETE", "/api/v1/triggers/"+dcp.ID, nil).expect(204)
}

func TestTriggerRuleValidate(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	ok := s.call(t, p.agentTok, "POST", "/api/v1/rules/validate", map[string]any{"expression": "ticket.urgency == 'Urgent' && hasTag('vip')"}).expect(200).obj()
	require.Equal(t, map[string]any{"valid": true}, ok)
	s.call(t, s.admin, "POST", "/api/v1/rules/validate", map[string]any{"expression": ""}).expect(200)
	s.call(t, s.admin, "POST", "/api/v1/rules/validate", map[string]any{"expression": "changes.urgency.to == 'High'"}).expect(200)

	cases := []struct{ expression, text string }{
		{"urgencyy == 'High'", "unknown name urgencyy (line 1, column 1)"},
		{"ticket.urgency == 'High' && urgencyy", "(line 1, column 29)"},
		{"ticket.subject", "expected type boolean, but got string"},
		{"ticket.id + 1", "expected type boolean"},
		{"now() > ticket.createdAt", "(line 1, column 1)"},
		{"(ticket.id", "line 1"},
	}
	for _, c := range cases {
		r := s.call(t, s.admin, "POST", "/api/v1/rules/validate", map[string]any{"expression": c.expression})
		r.expectError(422, "validation_failed", "expression")
		_, f := r.apiError()
		require.Contains(t, f["expression"], c.text, c.expression)
	}
	s.call(t, s.admin, "POST", "/api/v1/rules/validate", map[string]any{}).expectError(422, "validation_failed", "expression")
	s.call(t, s.admin, "POST", "/api/v1/rules/validate", map[string]any{"expr": "true"}).expectError(422, "validation_failed", "expr")
	s.call(t, p.customerTok, "POST", "/api/v1/rules/validate", map[string]any{"expression": "true"}).expectError(403, "forbidden")
}

func TestTriggerDryRun(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("dry-")
	s.dropTriggersAfter(t, tag)

	tr := s.createTrigger(t, map[string]any{"name": "Dry " + tag, "events": []string{"ticket.updated"}, "enabled": false,
		"condition": fmt.Sprintf("ticket.subject == '%s' && ticket.urgency == 'High' && hasTag('vip')", tag),
		"actions":   []map[string]any{{"type": "add_tags", "tags": []string{"escalated"}}, {"type": "set_urgency", "urgency": "Urgent"}}})
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": tag, "urgency": "High", "tags": []string{"vip"},
		"clientIds": []string{p.customer}})

	type result struct {
		Matched bool             `json:"matched"`
		Actions []map[string]any `json:"actions"`
		Error   *string          `json:"error"`
	}
	dry := func(token string, body map[string]any) result {
		t.Helper()
		var r result
		s.call(t, token, "POST", "/api/v1/triggers/test", body).expect(200).decode(&r)
		return r
	}

	// A stored trigger against a stored ticket (the trigger is disabled: a dry run ignores that).
	r := dry(s.admin, map[string]any{"triggerId": tr.ID, "ticketId": tk.ID, "event": "ticket.updated"})
	require.True(t, r.Matched)
	require.Nil(t, r.Error)
	require.Equal(t, tr.Actions, r.Actions)
	// An agent may dry-run too (it reads configuration).
	require.True(t, dry(p.agentTok, map[string]any{"triggerId": tr.ID, "ticketId": tk.ID, "event": "ticket.updated"}).Matched)
	// An event the trigger does not listen to.
	r = dry(s.admin, map[string]any{"triggerId": tr.ID, "ticketId": tk.ID, "event": "ticket.created"})
	require.False(t, r.Matched)
	require.Empty(t, r.Actions)
	require.NotNil(t, r.Error)
	require.Contains(t, *r.Error, "does not listen to ticket.created")

	// A condition against the ticket as GET /tickets/{id} answers it, changed.
	var ticketJSON map[string]any
	s.call(t, s.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200).decode(&ticketJSON)
	ticketJSON["urgency"] = "Low"
	cond := fmt.Sprintf("ticket.id == %d && ticket.urgency == 'Low' && changes.urgency.from == 'High' && changes['urgency'].to == 'Low' "+
		"&& changes.status.to == nil && actor.kind == 'customer' && actor.id == 'c-1' && event.name == 'ticket.updated'", tk.ID)
	actions := []map[string]any{{"type": "notify_agents", "message": "#{{.id}} went down"}}
	r = dry(s.admin, map[string]any{"condition": cond, "actions": actions, "ticket": ticketJSON, "event": "ticket.updated",
		"changes": map[string]any{"urgency": map[string]any{"from": "High", "to": "Low"}},
		"actor":   map[string]any{"id": "c-1", "kind": "customer"}})
	require.True(t, r.Matched, "error: %v", r.Error)
	require.Equal(t, []map[string]any{{"type": "notify_agents", "message": "#{{.id}} went down"}}, r.Actions)
	// Not matched: no actions, no error. Without actor, the caller is the actor, as an agent.
	r = dry(s.admin, map[string]any{"condition": "actor.kind == 'customer'", "actions": actions, "ticket": map[string]any{"subject": "x"},
		"event": "ticket.created"})
	require.False(t, r.Matched)
	require.Empty(t, r.Actions)
	require.Nil(t, r.Error)
	require.True(t, dry(s.admin, map[string]any{"condition": "actor.kind == 'agent' && !isEmpty(actor.id)", "ticket": map[string]any{},
		"event": "ticket.created"}).Matched)
	// A condition with no actions matches with none; an empty condition matches everything.
	require.True(t, dry(s.admin, map[string]any{"condition": "", "ticketId": tk.ID, "event": "ticket.assigned"}).Matched)

	// An error while evaluating: 200, not matched, the error.
	r = dry(s.admin, map[string]any{"condition": "ticket.customFields.plan.tier > 1", "actions": actions, "ticketId": tk.ID,
		"event": "ticket.updated"})
	require.False(t, r.Matched)
	require.Empty(t, r.Actions)
	require.NotNil(t, r.Error)
	require.Contains(t, *r.Error, "tier")

	// Bad input: 422 naming the field.
	bad := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"ticketId": tk.ID, "event": "ticket.updated"}, "triggerId"},
		{map[string]any{"triggerId": tr.ID, "condition": "true", "ticketId": tk.ID, "event": "ticket.updated"}, "condition"},
		{map[string]any{"triggerId": tr.ID, "actions": actions, "ticketId": tk.ID, "event": "ticket.updated"}, "actions"},
		{map[string]any{"triggerId": tr.ID, "event": "ticket.updated"}, "ticketId"},
		{map[string]any{"triggerId": tr.ID, "ticketId": tk.ID, "ticket": ticketJSON, "event": "ticket.updated"}, "ticket"},
		{map[string]any{"triggerId": tr.ID, "ticketId": tk.ID}, "event"},
		{map[string]any{"triggerId": tr.ID, "ticketId": tk.ID, "event": "ticket.deleted"}, "event"},
		{map[string]any{"triggerId": "nope-" + tag, "ticketId": tk.ID, "event": "ticket.updated"}, "triggerId"},
		{map[string]any{"triggerId": tr.ID, "ticketId": 1, "event": "ticket.updated"}, "ticketId"},
		{map[string]any{"condition": "urgencyy", "ticketId": tk.ID, "event": "ticket.updated"}, "condition"},
		{map[string]any{"condition": "ticket.subject", "ticketId": tk.ID, "event": "ticket.updated"}, "condition"},
		{map[string]any{"condition": "true", "actions": []map[string]any{{"type": "nope"}}, "ticketId": tk.ID, "event": "ticket.updated"}, "actions[0].type"},
		{map[string]any{"condition": "true", "actions": []map[string]any{{"type": "set_status", "status": "Nope"}}, "ticketId": tk.ID, "event": "ticket.updated"}, "actions[0].status"},
		{map[string]any{"condition": "true", "ticket": map[string]any{"urgncy": "High"}, "event": "ticket.updated"}, "ticket.urgncy"},
		{map[string]any{"condition": "true", "ticket": map[string]any{"id": "x"}, "event": "ticket.updated"}, "ticket.id"},
		{map[string]any{"condition": "true", "ticketId": tk.ID, "event": "ticket.updated", "actor": map[string]any{"kind": "robot"}}, "actor.kind"},
		{map[string]any{"condition": "true", "ticketId": tk.ID, "event": "ticket.updated", "actor": map[string]any{"role": "agent"}}, "actor.role"},
		{map[string]any{"condition": "true", "ticketId": tk.ID, "event": "ticket.updated",
			"changes": map[string]any{"urgency": map[string]any{"form": "Low"}}}, "changes.urgency.form"},
		{map[string]any{"condition": "true", "ticketId": tk.ID, "event": "ticket.updated", "tickt": 1}, "tickt"},
	}
	for _, b := range bad {
		t.Run(b.field, func(t *testing.T) {
			s.call(t, s.admin, "POST", "/api/v1/triggers/test", b.body).expectError(422, "validation_failed", b.field)
		})
	}
	r422 := s.call(t, s.admin, "POST", "/api/v1/triggers/test", map[string]any{"condition": "ticket.urgencyy == 'x'", "ticketId": tk.ID, "event": "ticket.updated"})
	_, f := r422.apiError()
	require.Contains(t, f["condition"], "(line 1, column 8)")

	// Customers cannot dry-run.
	s.call(t, p.customerTok, "POST", "/api/v1/triggers/test", map[string]any{"triggerId": tr.ID, "ticketId": tk.ID,
		"event": "ticket.updated"}).expectError(403, "forbidden")
}

func TestTriggerExecutionsAndNotifications(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	ctx := context.Background()
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "History", "clientIds": []string{p.customer}})

	// Executions, as the ticket workflow's evaluation writes them.
	for i := 1; i <= 3; i++ {
		errText := any(nil)
		if i == 2 {
			errText = "actions[0] set_status: no active status \"Gone\""
		}
		_, err := s.db.ExecContext(ctx, `INSERT INTO trigger_executions (ticket_id, trigger_id, trigger_version, event, matched, actions, error, chain, ticket_version)
			VALUES (?, ?, 1, 'ticket.updated', true, ?, ?, ?, ?)`, tk.ID, fmt.Sprintf("tr-%d", i),
			`[{"type":"add_tags","tags":["x"]}]`, errText, "{tr-0}", 100+i)
		require.NoError(t, err)
	}
	type execution struct {
		ID            int64            `json:"id"`
		TicketID      int64            `json:"ticketId"`
		TriggerID     string           `json:"triggerId"`
		Matched       bool             `json:"matched"`
		Actions       []map[string]any `json:"actions"`
		Error         *string          `json:"error"`
		Chain         []string         `json:"chain"`
		TicketVersion int64            `json:"ticketVersion"`
	}
	type execPage struct {
		Data       []execution `json:"data"`
		NextCursor *string     `json:"next_cursor"`
	}
	path := fmt.Sprintf("/api/v1/tickets/%d/trigger-executions", tk.ID)
	var pg execPage
	s.call(t, p.agentTok, "GET", path+"?limit=2", nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 2)
	require.Equal(t, "tr-3", pg.Data[0].TriggerID, "newest first")
	require.Equal(t, "tr-2", pg.Data[1].TriggerID)
	require.NotNil(t, pg.Data[1].Error)
	require.Equal(t, []string{"tr-0"}, pg.Data[0].Chain)
	require.Equal(t, []map[string]any{{"type": "add_tags", "tags": []any{"x"}}}, pg.Data[0].Actions)
	require.NotNil(t, pg.NextCursor)
	var rest execPage
	s.call(t, p.agentTok, "GET", path+"?limit=2&cursor="+url.QueryEscape(*pg.NextCursor), nil).expect(200).decode(&rest)
	require.Len(t, rest.Data, 1)
	require.Equal(t, "tr-1", rest.Data[0].TriggerID)
	require.Nil(t, rest.NextCursor)
	s.call(t, p.agentTok, "GET", path+"?triggerId=tr-2", nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 1)
	s.call(t, p.customerTok, "GET", path, nil).expectError(403, "forbidden")
	s.call(t, p.agentTok, "GET", "/api/v1/tickets/1/trigger-executions", nil).expectError(404, "not_found")

	// Notifications: each person sees their own, newest first.
	insert := func(person, msg string) int64 {
		var id int64
		require.NoError(t, s.db.NewRaw("INSERT INTO notifications (person_id, ticket_id, trigger_id, message) VALUES (?, ?, 'tr-1', ?) RETURNING id",
			person, tk.ID, msg).Scan(ctx, &id))
		return id
	}
	n1 := insert(p.agent, "first")
	n2 := insert(p.agent, "second")
	other := insert(p.agent2, "not yours")
	type notification struct {
		ID        int64      `json:"id"`
		PersonID  string     `json:"personId"`
		TicketID  *int64     `json:"ticketId"`
		TriggerID *string    `json:"triggerId"`
		Message   string     `json:"message"`
		ReadAt    *time.Time `json:"readAt"`
	}
	type notePage struct {
		Data       []notification `json:"data"`
		NextCursor *string        `json:"next_cursor"`
	}
	var np notePage
	s.call(t, p.agentTok, "GET", "/api/v1/notifications", nil).expect(200).decode(&np)
	require.Len(t, np.Data, 2)
	require.Equal(t, []int64{n2, n1}, []int64{np.Data[0].ID, np.Data[1].ID})
	require.Equal(t, p.agent, np.Data[0].PersonID)
	require.Equal(t, tk.ID, *np.Data[0].TicketID)
	require.Nil(t, np.Data[0].ReadAt)

	var read notification
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/notifications/%d/read", n1), nil).expect(200).decode(&read)
	require.NotNil(t, read.ReadAt)
	var again notification
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/notifications/%d/read", n1), nil).expect(200).decode(&again)
	require.True(t, read.ReadAt.Equal(*again.ReadAt), "reading again keeps the first time")

	s.call(t, p.agentTok, "GET", "/api/v1/notifications?unread=true", nil).expect(200).decode(&np)
	require.Len(t, np.Data, 1)
	require.Equal(t, n2, np.Data[0].ID)
	s.call(t, p.agentTok, "GET", "/api/v1/notifications?unread=false", nil).expect(200).decode(&np)
	require.Len(t, np.Data, 1)
	require.Equal(t, n1, np.Data[0].ID)
	s.call(t, p.agentTok, "GET", "/api/v1/notifications?limit=1", nil).expect(200).decode(&np)
	require.Len(t, np.Data, 1)
	require.NotNil(t, np.NextCursor)
	s.call(t, p.agentTok, "GET", "/api/v1/notifications?unread=maybe", nil).expectError(422, "validation_failed", "unread")

	// Someone else's notification, or none: 404.
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/notifications/%d/read", other), nil).expectError(404, "not_found")
	s.call(t, p.agentTok, "POST", "/api/v1/notifications/999999999/read", nil).expectError(404, "not_found")
	s.call(t, p.agentTok, "POST", "/api/v1/notifications/abc/read", nil).expectError(404, "not_found")
	var others notePage
	s.call(t, p.agent2Tok, "GET", "/api/v1/notifications", nil).expect(200).decode(&others)
	require.Len(t, others.Data, 1)
	require.Nil(t, others.Data[0].ReadAt, "agent2's notification was not touched")
	// A customer has none.
	s.call(t, p.customerTok, "GET", "/api/v1/notifications", nil).expect(200).decode(&others)
	require.Empty(t, others.Data)
}

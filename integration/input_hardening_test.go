package integration

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
)

func (s *stack) callRaw(t *testing.T, token, method, path, body string) *resp {
	t.Helper()
	return s.call(t, token, method, path, []byte(body))
}

// A NUL anywhere is refused before it reaches a handler: 422 naming the field, and the ticket
// is never created (before, a NUL in the subject answered 201 and the ticket 404'd forever).
func TestInputNULRefusedNamingTheField(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "NUL target"})
	for _, c := range []struct{ method, path, body, field string }{
		{"POST", "/api/v1/tickets", `{"subject":"a\u0000b"}`, "subject"},
		{"POST", "/api/v1/tickets", `{"subject":"a","category":"\u0000"}`, "category"},
		{"POST", "/api/v1/tickets", `{"subject":"a","description":"x\u0000"}`, "description"},
		{"POST", "/api/v1/tickets", `{"subject":"a","tags":["ok","b\u0000"]}`, "tags[1]"},
		{"POST", "/api/v1/tickets", `{"subject":"a","customFields":{"x":"\u0000"}}`, "customFields.x"},
		{"POST", "/api/v1/tickets", `{"subject":"a\ud800"}`, "subject"},
		{"POST", "/api/v1/tickets", `{"subject":"a\u001b[31m"}`, "subject"},
		{"POST", fmt.Sprintf("/api/v1/tickets/%d/actions", tk.ID), `{"type":"public","body":"hi\u0000"}`, "body"},
		{"POST", fmt.Sprintf("/api/v1/tickets/%d/status", tk.ID), `{"status":"Stopped","justification":"\u0000"}`, "justification"},
		{"PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), `{"subject":"\u0000"}`, "subject"},
		{"POST", "/api/v1/persons", `{"name":"N\u0000","profile":"customer"}`, "name"},
		{"POST", "/api/v1/teams", `{"name":"T\u0000"}`, "name"},
		{"POST", "/api/v1/triggers", `{"name":"t","events":["ticket.created"],"actions":[{"type":"set_custom_field","field":"x","value":"\u0000"}]}`, "actions[0].value"},
		{"GET", "/api/v1/tickets?q=" + url.QueryEscape("a\x00"), "", "q"},
		{"GET", "/api/v1/persons?q=" + url.QueryEscape("\x00"), "", "q"},
		{"GET", "/api/v1/persons/a%00b", "", "path"},
		{"GET", "/api/v1/teams/%1b", "", "path"},
	} {
		t.Run(c.method+" "+c.field, func(t *testing.T) {
			var r *resp
			if c.body == "" {
				r = s.call(t, p.agentTok, c.method, c.path, nil)
			} else {
				r = s.callRaw(t, s.admin, c.method, c.path, c.body)
			}
			r.expectError(422, "validation_failed", c.field)
		})
	}
	after := s.ticket(t, p.agentTok, tk.ID)
	require.Equal(t, tk.Version, after.Version, "refused input changed the ticket")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, s.workflowStatus(t, tk.ID, ""))

	// The telephony callbacks answer 400 naming the parameter.
	pbx := s.newPBX(t, nil)
	r := s.pbx(t, pbx.pbxToken, "asterisk_receivedCall", "queueId", fmt.Sprint(pbx.queue), "clientNumber", "47\x00",
		"id", newCallID(), "callDate", "2026-11-21T10:00:00")
	r.expect(400)
	require.Contains(t, r.text(), "clientNumber")
}

// Stored configuration that no longer validates (a condition that does not compile, an action
// whose webhook is gone) can always be disabled and deleted.
func TestInputBrokenTriggerCanBeDisabledAndDeleted(t *testing.T) {
	s := env(t)
	tag := randomName("broken-")
	s.dropTriggersAfter(t, tag)
	id := randomName("trg-")
	_, err := s.db.ExecContext(context.Background(), `INSERT INTO triggers (id, name, events, condition, actions)
		VALUES (?, ?, '{ticket.created}', 'ticket.nosuchfield ==', ?::jsonb)`, id, tag,
		`[{"type":"call_webhook","webhookId":"gone"},{"type":"set_custom_field","field":"x","value":"\\u0000 as text"}]`)
	require.NoError(t, err)
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+id, map[string]any{"enabled": false}).expect(200)
	s.call(t, s.admin, "PATCH", "/api/v1/triggers/"+id, map[string]any{"name": tag + " renamed"}).expect(200)
	s.call(t, s.admin, "DELETE", "/api/v1/triggers/"+id, nil).expect(204)
	require.Equal(t, []string{"update", "update", "delete"}, s.triggerAudit(t, id))
}

// Expensive conditions are refused when saved or tested (before, four nested all() pinned a
// core for 9 s); one planted in the database does not wedge the workflow: it is recorded as
// not evaluated.
func TestInputConditionCostBounded(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("costly-")
	s.dropTriggersAfter(t, tag)
	nested := strings.Repeat("all(ticket.tags, ", 4) + `# != "x"` + strings.Repeat(")", 4)
	tags := make([]string, 50)
	for i := range tags {
		tags[i] = fmt.Sprint("t", i)
	}
	start := time.Now()
	s.call(t, p.agentTok, "POST", "/api/v1/triggers/test", map[string]any{"condition": nested,
		"ticket": map[string]any{"tags": tags}, "event": "ticket.created"}).expectError(422, "validation_failed", "condition")
	s.call(t, s.admin, "POST", "/api/v1/triggers", map[string]any{"name": tag, "events": []string{"ticket.created"},
		"condition": nested, "actions": []map[string]any{{"type": "add_tags", "tags": []string{"x"}}}}).
		expectError(422, "validation_failed", "condition")
	s.call(t, p.agentTok, "POST", "/api/v1/triggers/test", map[string]any{"condition": "true",
		"ticket": map[string]any{"tags": make([]string, 51)}, "event": "ticket.created"}).expectError(422, "validation_failed", "ticket.tags")
	require.Less(t, time.Since(start), 5*time.Second)

	// Planted: the worker refuses to run it, records why, and the workflow goes on.
	id := randomName("trg-")
	_, err := s.db.ExecContext(context.Background(), `INSERT INTO triggers (id, name, events, condition, actions)
		VALUES (?, ?, '{ticket.created}', ?, '[{"type":"add_tags","tags":["fired"]}]')`, id, tag, nested)
	require.NoError(t, err)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "costly " + tag, "tags": tags})
	s.waitExecution(t, tk.ID, id, "too long")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, s.workflowStatus(t, tk.ID, ""))
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/actions", tk.ID), map[string]any{"type": "internal", "body": "still alive"}).expect(200)
}

// A template rendering past the API's limit fails only its action, recorded in the execution;
// the other actions apply and the workflow goes on (before: a 25.6 MB note and a wedged
// workflow).
func TestInputTemplateOutputBounded(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("tpl-")
	s.dropTriggersAfter(t, tag)
	four := "{{range .tags}}{{range $.tags}}{{range $.tags}}{{range $.tags}}{{.}}{{end}}{{end}}{{end}}{{end}}"
	s.call(t, s.admin, "POST", "/api/v1/triggers", map[string]any{"name": tag, "events": []string{"ticket.created"},
		"actions": []map[string]any{{"type": "add_action", "actionType": "internal", "body": four}}}).
		expectError(422, "validation_failed", "actions[0].body")
	// Two nested ranges are allowed, but this one renders 50*50*52 characters, over 64 KiB.
	big := "{{range .tags}}{{range $.tags}}{{.}}{{end}}{{end}}"
	tr := s.createTrigger(t, map[string]any{"name": tag, "events": []string{"ticket.created"},
		"condition": fmt.Sprintf("%q in ticket.tags", tag),
		"actions": []map[string]any{{"type": "add_action", "actionType": "internal", "body": big},
			{"type": "add_tags", "tags": []string{"applied"}}}})
	tags := []string{tag}
	for i := len(tags); i < 50; i++ {
		tags = append(tags, strings.Repeat("x", 48)+fmt.Sprintf("%02d", i))
	}
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "template " + tag, "tags": tags})
	s.waitExecution(t, tk.ID, tr.ID, "longer than the limit")
	eventually(t, 10*time.Second, func() bool {
		return contains(s.ticket(t, p.agentTok, tk.ID).Tags, "applied")
	}, "the trigger's other action applied")
	got := s.ticket(t, p.agentTok, tk.ID)
	for _, a := range got.Actions {
		require.Less(t, len(a.Body), 65537)
	}
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, s.workflowStatus(t, tk.ID, ""))
	// The failed action used no action id or sequence: an agent's note afterwards is stored
	// (before, it answered 200 and was dropped as a repeat of the runaway one).
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/actions", tk.ID), map[string]any{"type": "internal", "body": "after the runaway"}).expect(200)
	after := s.ticket(t, p.agentTok, tk.ID)
	require.Equal(t, got.ActionCount+1, after.ActionCount)
	require.Equal(t, "after the runaway", after.Actions[len(after.Actions)-1].Body)
	var stored int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM ticket_actions WHERE ticket_id = ? AND body = 'after the runaway'", tk.ID).
		Scan(context.Background(), &stored))
	require.Equal(t, 1, stored)
}

func contains(s []string, v string) bool {
	for _, e := range s {
		if e == v {
			return true
		}
	}
	return false
}

// waitExecution waits for the trigger's execution record on the ticket with an error
// containing want.
func (s *stack) waitExecution(t *testing.T, ticketID int64, triggerID, want string) {
	t.Helper()
	var msg string
	eventually(t, 15*time.Second, func() bool {
		err := s.db.NewRaw("SELECT coalesce(error, '') FROM trigger_executions WHERE ticket_id = ? AND trigger_id = ? LIMIT 1",
			ticketID, triggerID).Scan(context.Background(), &msg)
		return err == nil && strings.Contains(msg, want)
	}, "the execution of "+triggerID+" records "+want)
}

// Telephony: dates outside 1970–2100 and a queueId that is not plain digits are 400s naming the
// parameter; setMadeCallLink takes links as long as completedCall does.
func TestInputTelephonyLimits(t *testing.T) {
	s := env(t)
	pbx := s.newPBX(t, nil)
	received := func(queue, date string) *resp {
		return s.pbx(t, pbx.pbxToken, "asterisk_receivedCall", "queueId", queue, "clientNumber", "4733990777",
			"id", newCallID(), "callDate", date)
	}
	for _, c := range []struct{ queue, date, param string }{
		{fmt.Sprint(pbx.queue), "0000-01-01T10:00", "callDate"},
		{fmt.Sprint(pbx.queue), "9999-12-31T10:00", "callDate"},
		{"+" + fmt.Sprint(pbx.queue), "2026-11-21T10:00", "queueId"},
		{" 1e3", "2026-11-21T10:00", "queueId"},
	} {
		r := received(c.queue, c.date)
		r.expect(400)
		require.Contains(t, r.text(), c.param)
	}
	// A call id names its workflow, and Temporal takes printable ASCII only (U+FEFF was a 500).
	for _, id := range []string{"caf\u00e9-1", "\ufeff1", "1\u20282"} {
		r := s.pbx(t, pbx.pbxToken, "asterisk_receivedCall", "queueId", fmt.Sprint(pbx.queue), "clientNumber", "4733990777",
			"id", mustUnquote(t, id), "callDate", "2026-11-21T10:00")
		r.expect(400)
		require.Contains(t, r.text(), "parameter id")
	}
	// Links up to 8,192 characters are taken by both callbacks that carry one (the call is
	// unknown: 404); one character more is a 400 naming the link.
	link := "https://pbx.example/" + strings.Repeat("r", 8192-20)
	s.pbx(t, pbx.pbxToken, "setMadeCallLink", "id", newCallID(), "Link", link).expect(404)
	s.pbx(t, pbx.pbxToken, "asterisk_completedCall", "id", newCallID(), "link", link, "completedDate", "2026-11-21T10:00").expect(404)
	for _, method := range []string{"setMadeCallLink", "asterisk_completedCall"} {
		r := s.pbx(t, pbx.pbxToken, method, "id", newCallID(), "Link", link+"r", "completedDate", "2026-11-21T10:00")
		r.expect(400)
		require.Contains(t, r.text(), "longer than 8192")
	}
}

// Fuzz: hostile text through every JSON field of the ticket, person, trigger and telephony
// inputs never answers 5xx, and every ticket created keeps its workflow running.
func TestInputFuzzHostileText(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("fuzz-")
	s.dropTriggersAfter(t, tag)
	pbx := s.newPBX(t, nil)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "fuzz " + tag})
	hostile := []string{`\u0000`, `\ud800`, `\udfff`, `\ud800\u0041`, `\u0001`, `\u001f`, `\u007f`, `\u0085`, `\b`, `\f`,
		`\\u0000`, "\x01", "\xff", "\xed\xa0\x80"}
	tid := func(sub string) string { return fmt.Sprintf("/api/v1/tickets/%d%s", tk.ID, sub) }
	// Each template is a valid body with %s where the hostile text goes, one field at a time.
	bodies := []struct{ method, path, tpl string }{
		{"POST", "/api/v1/tickets", `{"subject":"%s"}`},
		{"POST", "/api/v1/tickets", `{"subject":"s","category":"%s"}`},
		{"POST", "/api/v1/tickets", `{"subject":"s","description":"%s"}`},
		{"POST", "/api/v1/tickets", `{"subject":"s","urgency":"%s"}`},
		{"POST", "/api/v1/tickets", `{"subject":"s","tags":["%s"]}`},
		{"POST", "/api/v1/tickets", `{"subject":"s","customFields":{"k":"%s"}}`},
		{"POST", "/api/v1/tickets", `{"subject":"s","customFields":{"%s":"v"}}`},
		{"POST", "/api/v1/tickets", `{"subject":"s","clientIds":["%s"]}`},
		{"POST", "/api/v1/tickets", `{"subject":"s","ownerId":"%s"}`},
		{"PATCH", tid(""), `{"subject":"%s"}`},
		{"PATCH", tid(""), `{"tags":["%s"]}`},
		{"PATCH", tid(""), `{"customFields":{"k":"%s"}}`},
		{"POST", tid("/actions"), `{"type":"internal","body":"%s"}`},
		{"POST", tid("/status"), `{"status":"%s"}`},
		{"POST", tid("/status"), `{"status":"Stopped","justification":"%s"}`},
		{"POST", tid("/assign"), `{"ownerId":"%s"}`},
		{"POST", "/api/v1/persons", `{"name":"%s","profile":"customer"}`},
		{"POST", "/api/v1/persons", `{"name":"n","profile":"customer","emails":["%s@x.example"]}`},
		{"POST", "/api/v1/persons", `{"name":"n","profile":"customer","phones":["%s"]}`},
		{"PATCH", "/api/v1/persons/" + p.customer, `{"name":"%s"}`},
		{"POST", "/api/v1/triggers", `{"name":"` + tag + `%s","events":["ticket.created"],"actions":[]}`},
		{"POST", "/api/v1/triggers", `{"name":"` + tag + `","events":["ticket.created"],"condition":"ticket.subject == '%s'","actions":[]}`},
		{"POST", "/api/v1/triggers", `{"name":"` + tag + `","events":["ticket.created"],"actions":[{"type":"set_custom_field","field":"f","value":"%s"}]}`},
		{"POST", "/api/v1/triggers", `{"name":"` + tag + `","events":["ticket.created"],"actions":[{"type":"add_action","actionType":"internal","body":"%s"}]}`},
		{"POST", "/api/v1/triggers/test", `{"condition":"true","event":"ticket.created","ticket":{"subject":"%s"}}`},
	}
	for _, b := range bodies {
		for _, h := range hostile {
			r := s.callRaw(t, s.admin, b.method, b.path, fmt.Sprintf(b.tpl, h))
			require.Less(t, r.status, 500, "%s %s with %q: %s", b.method, b.path, h, r.body)
			if r.status == 201 && b.path == "/api/v1/tickets" {
				var created ticket
				r.decode(&created)
				require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, s.workflowStatus(t, created.ID, ""),
					"ticket made from %s with %q", b.tpl, h)
			}
		}
	}
	for _, h := range []string{"\x00", "\x01", "\xff", "\xed\xa0\x80", "\x7f", `\u0000`} {
		for _, param := range []string{"clientNumber", "id", "callDate", "queueId"} {
			params := map[string]string{"queueId": fmt.Sprint(pbx.queue), "clientNumber": "4733990777", "id": newCallID(),
				"callDate": "2026-11-21T10:00:00"}
			params[param] += h
			var kv []string
			for k, v := range params {
				kv = append(kv, k, v)
			}
			r := s.pbx(t, pbx.pbxToken, "asterisk_receivedCall", kv...)
			require.Less(t, r.status, 500, "%s with %q: %s", param, h, r.body)
		}
		for _, method := range []string{"asterisk_completedCall", "setMadeCallLink", "asterisk_transferedCall"} {
			r := s.pbx(t, pbx.pbxToken, method, "id", newCallID()+h, "link", "l"+h, "Link", "l"+h, "branchLine", "1"+h,
				"completedDate", "2026-11-21T10:00", "transferDate", "2026-11-21T10:00")
			require.Less(t, r.status, 500, "%s with %q: %s", method, h, r.body)
		}
	}
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, s.workflowStatus(t, tk.ID, ""))
}

// Dates that are typos, not schedules, and deadlines out of order are refused, naming the field.
func TestInputDatesAndDeadlinesInOrder(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")
	for _, date := range []string{"0000-12-25", "9999-01-01"} {
		s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": "Typo " + tag + date, "timezone": "UTC",
			"holidays": []map[string]any{{"date": date, "name": "x"}}}).expectError(422, "validation_failed", "holidays[0].date")
	}
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Deadlines", "clientIds": []string{p.customer}})
	path := fmt.Sprintf("/api/v1/tickets/%d/sla", tk.ID)
	soon, later := time.Now().Add(time.Hour).UTC().Format(time.RFC3339), time.Now().Add(2*time.Hour).UTC().Format(time.RFC3339)
	s.call(t, p.agentTok, "PUT", path, map[string]any{"responseDue": later, "solutionDue": soon}).
		expectError(422, "validation_failed", "responseDue")
	s.call(t, p.agentTok, "PUT", path, map[string]any{"responseDue": soon, "solutionDue": later}).expect(200)
	s.call(t, p.agentTok, "PUT", path, map[string]any{"responseDue": time.Now().Add(3 * time.Hour).UTC().Format(time.RFC3339)}).
		expectError(422, "validation_failed", "responseDue")
}

// Display rules and SLA policies whose stored conditions no longer compile can still be
// disabled (or edited elsewhere) and deleted: a broken configuration never gets stuck.
func TestInputBrokenFormAndSLAConfigCanBeDisabledAndDeleted(t *testing.T) {
	s := env(t)
	ctx := context.Background()
	rule, policy := randomName("dr-"), randomName("pol-")
	_, err := s.db.ExecContext(ctx, `INSERT INTO display_rules (id, name, condition, fields, enabled)
		VALUES (?, ?, 'ticket.nosuchfield ==', '[{"key":"gone","visible":false}]', true)`, rule, rule)
	require.NoError(t, err)
	_, err = s.db.ExecContext(ctx, `INSERT INTO sla_policies (id, name, rules)
		VALUES (?, ?, '[{"condition":"ticket.nosuchfield ==","firstResponseMinutes":5,"resolutionMinutes":10,"hours":"calendar"}]')`,
		policy, policy)
	require.NoError(t, err)

	s.call(t, s.admin, "PATCH", "/api/v1/display-rules/"+rule, map[string]any{"enabled": false}).expect(200)
	s.call(t, s.admin, "DELETE", "/api/v1/display-rules/"+rule, nil).expect(204)
	s.call(t, s.admin, "PATCH", "/api/v1/sla-policies/"+policy, map[string]any{"name": policy + " (broken)"}).expect(200)
	s.call(t, s.admin, "DELETE", "/api/v1/sla-policies/"+policy, nil).expect(204)
}

// Templates that render hostile bytes (NUL, an escape, invalid UTF-8) in every templated text
// of a matching trigger fail no workflow: each execution is recorded, nothing with a NUL or
// an invalid byte reaches a row, and an agent's reply afterwards is stored once.
func TestInputHostileStoredTriggerThatMatches(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("hostile-")
	s.dropTriggersAfter(t, tag)
	nul, esc, bad := `{{printf "%c" 0}}`, `{{printf "%c" 27}}`, `{{"\xff\xed\xa0\x80"}}`
	tr := s.createTrigger(t, map[string]any{"name": tag, "events": []string{"ticket.created"},
		"condition": fmt.Sprintf("%q in ticket.tags", tag),
		"actions": []map[string]any{
			{"type": "set_subject", "subject": "S" + nul + esc + bad + "{{.subject}}"},
			{"type": "add_action", "actionType": "internal", "body": "note" + nul + esc + bad},
			{"type": "add_action", "actionType": "public", "body": "public" + nul + bad},
			{"type": "notify_agents", "agentIds": []string{p.agent}, "message": "m" + nul + bad},
			{"type": "create_child_ticket", "subject": "child" + nul + bad, "body": "b" + nul + esc},
			{"type": "add_tags", "tags": []string{"applied"}}}})
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "hostile " + tag, "tags": []string{tag},
		"clientIds": []string{p.customer}})
	s.waitExecution(t, tk.ID, tr.ID, "cannot be stored")
	eventually(t, 20*time.Second, func() bool {
		return contains(s.ticket(t, p.agentTok, tk.ID).Tags, "applied")
	}, "the trigger's last action applied")
	require.Equal(t, enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING, s.workflowStatus(t, tk.ID, ""))

	got := s.ticket(t, p.agentTok, tk.ID)
	require.NotContains(t, got.Subject, "\x00")
	for _, a := range got.Actions {
		require.NotContains(t, a.Body, "\x00", "action %d", a.ID)
		require.True(t, utf8.ValidString(a.Body), "action %d", a.ID)
	}
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/actions", tk.ID),
		map[string]any{"type": "internal", "body": "after the hostile trigger"}).expect(200)
	after := s.ticket(t, p.agentTok, tk.ID)
	require.Equal(t, got.ActionCount+1, after.ActionCount)
	var stored int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM ticket_actions WHERE ticket_id = ?", tk.ID).
		Scan(context.Background(), &stored))
	require.Equal(t, after.ActionCount, stored, "the count agrees with the rows")
}

func mustUnquote(t *testing.T, s string) string {
	t.Helper()
	v, err := strconv.Unquote(`"` + s + `"`)
	require.NoError(t, err)
	return v
}

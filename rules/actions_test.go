package rules

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestActionValidate(t *testing.T) {
	good := []Action{
		{Type: ActionSetStatus, Status: "Stopped", Justification: "waiting"},
		{Type: ActionChangeParentStatus, Status: "Resolved"},
		{Type: ActionSetUrgency, Urgency: "High"},
		{Type: ActionSetCategory, Category: "Billing"},
		{Type: ActionSetType, TicketType: "internal"},
		{Type: ActionSetType, TicketType: "public"},
		{Type: ActionSetSubject, Subject: "[VIP] {{.subject}}"},
		{Type: ActionAssignAgent, AgentID: "a-1"},
		{Type: ActionAssignTeam, TeamID: "t-1"},
		{Type: ActionAssignTeam, TeamID: "t-1", Distribution: "none"},
		{Type: ActionAssignTeam, TeamID: "t-1", Distribution: "round_robin"},
		{Type: ActionAssignTeam, TeamID: "t-1", Distribution: "least_loaded"},
		{Type: ActionAddTags, Tags: []string{"vip"}},
		{Type: ActionRemoveTags, Tags: []string{"vip", "old"}},
		{Type: ActionSetTags, Tags: []string{}}, // set_tags may clear the tags
		{Type: ActionSetTags, Tags: []string{"a"}},
		{Type: ActionSetCustomField, Field: "plan", Value: "gold"},
		{Type: ActionSetCustomField, Field: "plan"}, // no value: clears it
		{Type: ActionAddAction, ActionType: "internal", Body: "Escalated: {{.subject}} {{range .tags}}#{{.}} {{end}}"},
		{Type: ActionAddAction, ActionType: "public", Body: "{{if .ownerId}}{{.ownerId}}{{else}}nobody{{end}} {{.customFields.plan}}"},
		{Type: ActionNotifyAgents, Message: "Customer replied on #{{.id}}: {{.subject}}"},
		{Type: ActionNotifyAgents, Message: "hi", AgentIDs: []string{"a-1", "a-2"}},
		{Type: ActionCallWebhook, WebhookID: "w-1"},
		{Type: ActionCreateChildTicket, Subject: "Follow-up of {{.protocol}}", Body: "{{with .customFields}}{{.plan}}{{end}}"},
		{Type: ActionCreateChildTicket, Subject: "Follow-up"},
	}
	for _, a := range good {
		if bad := a.Validate(); len(bad) > 0 {
			t.Errorf("%+v: %v", a, bad)
		}
	}
	// Every type has a good case.
	for _, typ := range ActionTypes {
		if !slices.ContainsFunc(good, func(a Action) bool { return a.Type == typ }) {
			t.Errorf("no good case for %s", typ)
		}
	}

	bad := []struct {
		action Action
		field  string
		text   string
	}{
		{Action{Type: ActionSetStatus}, "status", "required"},
		{Action{Type: ActionSetStatus, Status: "  "}, "status", "required"},
		{Action{Type: ActionChangeParentStatus}, "status", "required"},
		{Action{Type: ActionSetUrgency}, "urgency", "required"},
		{Action{Type: ActionSetCategory}, "category", "required"},
		{Action{Type: ActionSetType}, "ticketType", "public or internal"},
		{Action{Type: ActionSetType, TicketType: "secret"}, "ticketType", "public or internal"},
		{Action{Type: ActionSetSubject}, "subject", "required"},
		{Action{Type: ActionSetSubject, Subject: "{{.subject"}, "subject", "not a valid template"},
		{Action{Type: ActionSetSubject, Subject: "{{.subjct}}"}, "subject", "no field .subjct"},
		{Action{Type: ActionAssignAgent}, "agentId", "required"},
		{Action{Type: ActionAssignTeam}, "teamId", "required"},
		{Action{Type: ActionAssignTeam, TeamID: "t", Distribution: "random"}, "distribution", "round_robin"},
		{Action{Type: ActionAddTags}, "tags", "at least one"},
		{Action{Type: ActionRemoveTags, Tags: []string{}}, "tags", "at least one"},
		{Action{Type: ActionAddTags, Tags: []string{"ok", " "}}, "tags[1]", "1 to 50"},
		{Action{Type: ActionSetTags, Tags: []string{strings.Repeat("x", 51)}}, "tags[0]", "1 to 50"},
		{Action{Type: ActionSetCustomField}, "field", "required"},
		{Action{Type: ActionAddAction, Body: "x"}, "actionType", "public or internal"},
		{Action{Type: ActionAddAction, ActionType: "internal"}, "body", "required"},
		{Action{Type: ActionAddAction, ActionType: "internal", Body: "{{end}}"}, "body", "not a valid template"},
		{Action{Type: ActionAddAction, ActionType: "internal", Body: "{{if .x}}y{{end}}"}, "body", "no field .x"},
		{Action{Type: ActionAddAction, ActionType: "internal", Body: "{{range .tags}}{{$.nope}}{{end}}"}, "body", "no field .nope"},
		{Action{Type: ActionNotifyAgents}, "message", "required"},
		{Action{Type: ActionNotifyAgents, Message: "{{.id"}, "message", "not a valid template"},
		{Action{Type: ActionCallWebhook}, "webhookId", "required"},
		{Action{Type: ActionCreateChildTicket}, "subject", "required"},
		{Action{Type: ActionCreateChildTicket, Subject: "x", Body: "{{"}, "body", "not a valid template"},
		{Action{Type: "send_email"}, "type", "unknown action type"},
		{Action{}, "type", "unknown action type"},
	}
	for _, c := range bad {
		got := c.action.Validate()
		msg, ok := got[c.field]
		if !ok || !strings.Contains(msg, c.text) {
			t.Errorf("%+v: got %v, want %s containing %q", c.action, got, c.field, c.text)
		}
	}
	// The unknown type's message lists the allowed ones.
	if msg := (Action{Type: "x"}).Validate()["type"]; !strings.Contains(msg, ActionSetStatus) || !strings.Contains(msg, ActionChangeParentStatus) {
		t.Errorf("unknown type message should list the types: %q", msg)
	}
	// An unknown template name's message lists the known ones.
	if msg := (Action{Type: ActionNotifyAgents, Message: "{{.subjct}}"}).Validate()["message"]; !strings.Contains(msg, ".subject") {
		t.Errorf("template message should list the fields: %q", msg)
	}
}

func TestRender(t *testing.T) {
	tk := Ticket{ID: 42, Protocol: "20261121-000042", Subject: "Printer", Urgency: "High", Status: "New",
		Tags: []string{"vip", "printer"}, CustomFields: map[string]any{"plan": "gold"}}
	cases := []struct{ template, want string }{
		{"Customer replied on #{{.id}}: {{.subject}}", "Customer replied on #42: Printer"},
		{"{{.protocol}} ({{.urgency}}, {{.status}})", "20261121-000042 (High, New)"},
		{"{{range .tags}}#{{.}} {{end}}", "#vip #printer "},
		{"plan={{.customFields.plan}}", "plan=gold"},
		{"seats={{.customFields.seats}}.", "seats=."}, // a missing custom field renders as nothing
		{"owner={{.ownerId}}", "owner="},
		{"{{if .ownerId}}owned{{else}}unowned{{end}}", "unowned"},
		{"no template at all", "no template at all"},
	}
	for _, c := range cases {
		got, err := Render(c.template, tk, MaxBody)
		if err != nil || got != c.want {
			t.Errorf("%q: got %q, %v; want %q", c.template, got, err, c.want)
		}
	}
	if _, err := Render("{{.subject", tk, MaxBody); err == nil {
		t.Error("a broken template is an error")
	}
	// Nil maps and slices render without error.
	if got, err := Render("{{.customFields.plan}}{{range .tags}}x{{end}}", Ticket{}, MaxBody); err != nil || got != "" {
		t.Errorf("zero ticket: %q %v", got, err)
	}
}

// A template's output and work are bounded: past the limit the render fails at once; the
// constructs that could loop without output are refused.
func TestRenderIsBounded(t *testing.T) {
	tags := make([]string, MaxTags)
	for i := range tags {
		tags[i] = strings.Repeat("t", 50)
	}
	tk := Ticket{Tags: tags, CustomFields: map[string]any{"big": make([]any, 5000)}}
	four := "{{range .tags}}{{range $.tags}}{{range $.tags}}{{range $.tags}}{{.}}{{end}}{{end}}{{end}}{{end}}"
	for _, tpl := range []string{
		"{{range .tags}}{{range $.tags}}{{.}}{{.}}{{.}}{{end}}{{end}}", // 375 KB
		four,
		"{{range 1000000000}}{{end}}",
		"{{range .id}}{{end}}",
		`{{define "x"}}{{template "x"}}{{end}}{{template "x"}}`,
		`{{printf "%099999999d" 1}}`,
		`{{printf "%*d" 1000000000 1}}`,
		"{{range .customFields.big}}{{range $.customFields.big}}{{end}}{{end}}",
	} {
		start := time.Now()
		out, err := Render(tpl, tk, MaxBody)
		if err == nil {
			t.Errorf("%s rendered %d bytes", tpl, len(out))
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("%s took %s", tpl, d)
		}
	}
	bad := map[string]string{}
	checkTemplate(bad, "body", four)
	if bad["body"] == "" {
		t.Error("four nested ranges pass validation")
	}
	if _, err := Render("{{range .tags}}{{.}}{{end}}", tk, MaxSubject); !errors.Is(err, ErrTooLong) {
		t.Errorf("a subject over %d characters: %v", MaxSubject, err)
	}
}

// What a template renders must be storable: a NUL, an escape or invalid UTF-8 made by printf or
// a quoted string is an error (the action fails, recorded), not text a write refuses for ever.
func TestRenderRefusesUnstorableOutput(t *testing.T) {
	for _, tpl := range []string{`{{printf "%c" 0}}`, `a{{printf "%c" 27}}b`, `{{"\xff"}}`, `{{"\xed\xa0\x80"}}`,
		`{{"\\u0000"}}`, `{{printf "%c" 0x85}}`} {
		if out, err := Render(tpl, Ticket{}, MaxBody); !errors.Is(err, ErrUnstorable) {
			t.Errorf("%s rendered %q, %v", tpl, out, err)
		}
		if _, err := RenderPlaceholders(tpl, Placeholders{}, MaxBody); !errors.Is(err, ErrUnstorable) {
			t.Errorf("placeholders %s: %v", tpl, err)
		}
	}
	if out, err := Render("tab\t{{.subject}}\r\n", Ticket{Subject: "é😀"}, MaxBody); err != nil || out != "tab\té😀\r\n" {
		t.Errorf("plain text: %q, %v", out, err)
	}
}

package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/triggers"
)

// TestOpenAPITriggerSchemas checks the triggers' answers against the document's schemas.
func TestOpenAPITriggerSchemas(t *testing.T) {
	doc, err := LoadOpenAPI()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	now := time.Date(2026, 11, 21, 9, 0, 0, 123456000, time.UTC)
	cur := "eyJpZCI6IjEifQ"
	full := schema.Trigger{ID: "tr-1", Name: "Everything", Enabled: true, Events: rules.Events,
		Condition: "ticket.urgency == 'Urgent'", Position: 3, StopProcessing: true, Version: 7, CreatedAt: now, UpdatedAt: now,
		Actions: []rules.Action{
			{Type: rules.ActionSetStatus, Status: "Stopped", Justification: "waiting"},
			{Type: rules.ActionSetUrgency, Urgency: "High"},
			{Type: rules.ActionSetCategory, Category: "Billing"},
			{Type: rules.ActionSetType, TicketType: "internal"},
			{Type: rules.ActionSetSubject, Subject: "[VIP] {{.subject}}"},
			{Type: rules.ActionAssignAgent, AgentID: "a-1"},
			{Type: rules.ActionAssignTeam, TeamID: "t-1", Distribution: "round_robin"},
			{Type: rules.ActionAddTags, Tags: []string{"vip"}},
			{Type: rules.ActionSetCustomField, Field: "plan", Value: map[string]any{"tier": 2}},
			{Type: rules.ActionAddAction, ActionType: "internal", Body: "note"},
			{Type: rules.ActionNotifyAgents, Message: "hi", AgentIDs: []string{"a-1"}},
			{Type: rules.ActionCallWebhook, WebhookID: "w-1"},
			{Type: rules.ActionCreateChildTicket, Subject: "child", Body: "body"},
		}}
	defaults := defaultTriggers()
	for i := range defaults {
		defaults[i].IsDefault, defaults[i].Version, defaults[i].CreatedAt, defaults[i].UpdatedAt = true, 1, now, now
	}
	timed := defaults[0]
	timed.Events, timed.Timer = []string{rules.EventTime}, &rules.Timer{After: "2h", From: rules.FromCreatedAt}
	ticketID, triggerID, msg := int64(42), "tr-1", "boom"
	execs := []schema.TriggerExecution{
		{ID: 2, TicketID: 42, TriggerID: "tr-1", TriggerVersion: 7, Event: rules.EventUpdated, Matched: true,
			Actions: full.Actions[:2], Chain: []string{"tr-0"}, TicketVersion: 5, At: now},
		{ID: 1, TicketID: 42, TriggerID: "tr-1", TriggerVersion: 7, Event: rules.EventCreated, Actions: []rules.Action{},
			Error: &msg, Chain: []string{}, TicketVersion: 1, At: now},
	}
	notes := []schema.Notification{
		{ID: 2, PersonID: "a-1", TicketID: &ticketID, TriggerID: &triggerID, Message: "Customer replied", CreatedAt: now, ReadAt: &now},
		{ID: 1, PersonID: "a-1", Message: "hello", CreatedAt: now},
	}
	cases := []struct {
		schema string
		value  any
	}{
		{"Trigger", full},
		{"Trigger", defaults[0]},
		{"Trigger", timed},
		{"TriggerPage", makePage(defaults, 2, func(tr schema.Trigger) cursor { return cursor{ID: tr.ID} })},
		{"TriggerPage", makePage([]schema.Trigger(nil), 25, func(tr schema.Trigger) cursor { return cursor{ID: tr.ID} })},
		{"TriggerDefaults", defaultsResult{Data: defaults, CreatedIDs: []string{}}},
		{"TriggerTestResult", triggerTestResult{Matched: true, Actions: full.Actions}},
		{"TriggerTestResult", triggerTestResult{Actions: []rules.Action{}, Error: &msg}},
		{"TriggerExecutionPage", page[schema.TriggerExecution]{Data: execs, NextCursor: &cur}},
		{"NotificationPage", page[schema.Notification]{Data: notes}},
		{"Notification", notes[0]},
		{"RuleValidation", map[string]any{"valid": true}},
	}
	checkSchemas(t, doc, cases)
	// The document's lists of events and action types are the rules package's.
	var events []string
	for _, e := range doc.Components.Schemas["TriggerEvent"].Value.Enum {
		events = append(events, e.(string))
	}
	if strings.Join(events, ",") != strings.Join(rules.Events, ",") {
		t.Errorf("TriggerEvent enum %v, want %v", events, rules.Events)
	}
	var types []string
	for _, e := range doc.Components.Schemas["TriggerAction"].Value.Properties["type"].Value.Enum {
		types = append(types, e.(string))
	}
	if strings.Join(types, ",") != strings.Join(rules.ActionTypes, ",") {
		t.Errorf("TriggerAction type enum %v, want %v", types, rules.ActionTypes)
	}
}

// TestDefaultTriggers checks the shipped defaults are valid triggers with distinct ids.
func TestDefaultTriggers(t *testing.T) {
	seen := map[string]bool{}
	for _, tr := range defaultTriggers() {
		if seen[tr.ID] || !strings.HasPrefix(tr.ID, "default-") {
			t.Errorf("id %q: duplicate or not a default-… id", tr.ID)
		}
		seen[tr.ID] = true
		if tr.Name == "" || len(tr.Events) == 0 || len(tr.Actions) == 0 {
			t.Errorf("%s: incomplete", tr.ID)
		}
		for _, e := range tr.Events {
			if !contains(rules.Events, e) {
				t.Errorf("%s: unknown event %s", tr.ID, e)
			}
		}
		if _, err := rules.Compile(tr.Condition); err != nil {
			t.Errorf("%s: condition: %v", tr.ID, err)
		}
		for i, a := range tr.Actions {
			if bad := a.Validate(); len(bad) > 0 {
				t.Errorf("%s: actions[%d]: %v", tr.ID, i, bad)
			}
		}
	}
	if len(seen) < 3 {
		t.Errorf("only %d defaults", len(seen))
	}
	// The urgent one matches an urgent ticket and is disabled.
	d := defaultTriggers()[0]
	p, _ := rules.Compile(d.Condition)
	env := rules.NewEnv(rules.Ticket{Urgency: "Urgent"}, rules.Event{Name: rules.EventCreated}, nil, rules.Actor{}, time.Now())
	if ok, err := rules.Eval(p, env); !ok || err != nil || d.Enabled {
		t.Errorf("%s: matched %v %v, enabled %v", d.ID, ok, err, d.Enabled)
	}
}

func TestDecodeActions(t *testing.T) {
	raw := func(s ...string) *[]json.RawMessage {
		out := make([]json.RawMessage, len(s))
		for i, v := range s {
			out[i] = json.RawMessage(v)
		}
		return &out
	}
	got, err := decodeActions(raw(`{"type":"add_tags","tags":["vip"]}`, `{"type":"set_status","status":"Stopped"}`))
	if err != nil || len(got) != 2 || got[0].Tags[0] != "vip" || got[1].Status != "Stopped" {
		t.Fatalf("good actions: %+v %v", got, err)
	}
	if got, err := decodeActions(nil); got != nil || err != nil {
		t.Fatalf("absent: %v %v", got, err)
	}
	cases := []struct {
		raw   *[]json.RawMessage
		field string
	}{
		{raw(`{"type":"add_tags","tagz":["vip"]}`), "actions[0].tagz"},
		{raw(`{"type":"add_tags","tags":["a"]}`, `{"type":"add_tags","tags":"vip"}`), "actions[1].tags"},
		{raw(`{"type":"set_status","status":3}`), "actions[0].status"},
		{raw(`"add_tags"`), "actions[0]"},
		{raw(`[1]`), "actions[0]"},
	}
	for _, c := range cases {
		_, err := decodeActions(c.raw)
		e, ok := err.(*Error)
		if !ok || e.Status != 422 || e.Fields[c.field] == "" {
			t.Errorf("%s: got %v (%+v), want a 422 naming %s", *c.raw, err, e, c.field)
		}
	}
}

func TestCopyName(t *testing.T) {
	if got := copyName("Tag urgent"); got != "Tag urgent (copy)" {
		t.Errorf("got %q", got)
	}
	long := strings.Repeat("é", triggers.MaxName)
	got := copyName(long)
	if n := utf8.RuneCountInString(got); n != triggers.MaxName || !strings.HasSuffix(got, " (copy)") {
		t.Errorf("long name: %d runes, %q", n, got[len(got)-10:])
	}
}

func TestTriggerContentIgnoresNilVersusEmpty(t *testing.T) {
	a := schema.Trigger{Name: "x", Events: []string{"ticket.created"}, Actions: []rules.Action{{Type: "add_tags", Tags: nil}}}
	b := a
	b.Actions = []rules.Action{{Type: "add_tags", Tags: []string{}}}
	if triggerContent(&a) != triggerContent(&b) {
		t.Error("nil and empty tags are the same content")
	}
	b.Version, b.UpdatedAt = 9, time.Now()
	if triggerContent(&a) != triggerContent(&b) {
		t.Error("version and times are not content")
	}
	b.Enabled = true
	if triggerContent(&a) == triggerContent(&b) {
		t.Error("enabled is content")
	}
}

func TestJSONPath(t *testing.T) {
	var v ticketView
	err := strictJSON([]byte(`{"id":"x"}`), &v)
	name, _ := jsonFieldError(err)
	if got := jsonPath(reflect.TypeFor[ticketView](), name); got != "id" {
		t.Errorf("%q -> %q, want id", name, got)
	}
	err = strictJSON([]byte(`{"workflow":{"id":3}}`), &v)
	name, _ = jsonFieldError(err)
	if got := jsonPath(reflect.TypeFor[ticketView](), name); got != "workflow.id" {
		t.Errorf("%q -> %q, want workflow.id", name, got)
	}
	err = strictJSON([]byte(`{"statusHistory":[{"seq":"x"}]}`), &v)
	name, _ = jsonFieldError(err)
	if got := jsonPath(reflect.TypeFor[ticketView](), name); got != "statusHistory.seq" {
		t.Errorf("%q -> %q, want statusHistory.seq", name, got)
	}
}

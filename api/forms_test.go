package api

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

func formRuleOf(t *testing.T, id, condition string, fields ...schema.DisplayRuleField) formRule {
	t.Helper()
	p, err := rules.Compile(condition)
	if err != nil {
		t.Fatalf("rule %s: %v", id, err)
	}
	return formRule{DisplayRule: schema.DisplayRule{ID: id, Condition: condition, Fields: fields, Enabled: true}, program: p}
}

func testFormConfig(t *testing.T) *formConfig {
	defs := []schema.CustomField{
		{Key: "plan", Label: "Plan", Type: schema.FieldSingleSelect, Options: []string{"gold", "silver"}, IsActive: true},
		{Key: "seats", Label: "Seats", Type: schema.FieldNumber, IsActive: true, Position: 1},
		{Key: "contract", Label: "Contract", Type: schema.FieldText, IsActive: true, Position: 2},
		{Key: "renewal", Label: "Renewal", Type: schema.FieldDate, IsActive: true, Position: 3},
	}
	show := func(key string, visible, required, readOnly bool) schema.DisplayRuleField {
		return schema.DisplayRuleField{Key: key, Visible: visible, Required: required, ReadOnly: readOnly}
	}
	rs := []formRule{
		// always: the contract is hidden
		formRuleOf(t, "r1", "", show("contract", false, false, false)),
		// billing: plan required, contract shown read-only, seats required
		formRuleOf(t, "r2", "ticket.category == 'Billing'", show("plan", true, true, false),
			show("contract", true, false, true), show("seats", true, true, false)),
		// gold billing: seats hidden again (overrides r2 for seats only)
		formRuleOf(t, "r3", "ticket.category == 'Billing' && ticket.customFields.plan == 'gold'", show("seats", false, false, false)),
		// a runtime error (a string compared with a number) counts as not matched
		formRuleOf(t, "r4", "ticket.customFields.seats > 10", show("renewal", true, true, false)),
		// a rule naming a field with no active definition changes nothing
		formRuleOf(t, "r5", "", show("gone", false, false, false)),
		// customers never see the renewal date
		formRuleOf(t, "r6", "actor.kind == 'customer'", show("renewal", false, false, false)),
	}
	return newFormConfig(defs, rs)
}

func layoutFor(cfg *formConfig, kind string, tk rules.Ticket) map[string]formField {
	if tk.CustomFields == nil {
		tk.CustomFields = map[string]any{}
	}
	env := rules.NewEnv(tk, rules.Event{Name: "form"}, nil, rules.Actor{ID: "p-1", Kind: kind}, time.Now())
	out := map[string]formField{}
	for _, f := range cfg.layout(env) {
		out[f.Key] = f
	}
	return out
}

func TestFormLayoutOverlappingRules(t *testing.T) {
	cfg := testFormConfig(t)
	type state struct{ visible, required, readOnly bool }
	get := func(l map[string]formField, key string) state {
		f, ok := l[key]
		if !ok {
			t.Fatalf("no field %s in the layout", key)
		}
		return state{f.Visible, f.Required, f.ReadOnly}
	}
	plain := layoutFor(cfg, "agent", rules.Ticket{Category: "Hardware"})
	if len(plain) != 4 {
		t.Fatalf("layout has %d fields, want the 4 active definitions", len(plain))
	}
	if got := get(plain, "plan"); got != (state{true, false, false}) {
		t.Errorf("plan by default: %+v", got)
	}
	if got := get(plain, "contract"); got != (state{false, false, false}) {
		t.Errorf("contract hidden by r1: %+v", got)
	}

	billing := layoutFor(cfg, "agent", rules.Ticket{Category: "Billing", CustomFields: map[string]any{"plan": "silver"}})
	if got := get(billing, "plan"); got != (state{true, true, false}) {
		t.Errorf("plan on billing: %+v", got)
	}
	if got := get(billing, "contract"); got != (state{true, false, true}) {
		t.Errorf("contract on billing (r2 overrides r1): %+v", got)
	}
	if got := get(billing, "seats"); got != (state{true, true, false}) {
		t.Errorf("seats on silver billing: %+v", got)
	}

	gold := layoutFor(cfg, "agent", rules.Ticket{Category: "Billing", CustomFields: map[string]any{"plan": "gold"}})
	if got := get(gold, "seats"); got != (state{false, false, false}) {
		t.Errorf("seats on gold billing (r3 overrides r2): %+v", got)
	}
	if got := get(gold, "plan"); got != (state{true, true, false}) {
		t.Errorf("plan on gold billing keeps r2: %+v", got)
	}

	if got := get(layoutFor(cfg, "agent", rules.Ticket{CustomFields: map[string]any{"seats": 20.0}}), "renewal"); got != (state{true, true, false}) {
		t.Errorf("renewal with 20 seats: %+v", got)
	}
	if got := get(layoutFor(cfg, "agent", rules.Ticket{CustomFields: map[string]any{"seats": "many"}}), "renewal"); got != (state{true, false, false}) {
		t.Errorf("a condition failing at run time must not match: %+v", got)
	}
	if got := get(layoutFor(cfg, "customer", rules.Ticket{CustomFields: map[string]any{"seats": 20.0}}), "renewal"); got != (state{false, false, false}) {
		t.Errorf("renewal for a customer (r6 after r4): %+v", got)
	}

	// Layout keeps the definitions' order.
	var keys []string
	for _, f := range cfg.layout(rules.NewEnv(rules.Ticket{CustomFields: map[string]any{}}, rules.Event{}, nil, rules.Actor{}, time.Now())) {
		keys = append(keys, f.Key)
	}
	if strings.Join(keys, ",") != "plan,seats,contract,renewal" {
		t.Errorf("order: %v", keys)
	}
}

func TestCheckFieldValue(t *testing.T) {
	def := func(typ string, options ...string) *schema.CustomField {
		return &schema.CustomField{Key: "f", Type: typ, Options: options}
	}
	cases := []struct {
		def     *schema.CustomField
		value   string // JSON
		ok      bool
		wantRef string
	}{
		{def(schema.FieldText), `"hello"`, true, ""},
		{def(schema.FieldText), `12`, false, ""},
		{def(schema.FieldNumber), `12.5`, true, ""},
		{def(schema.FieldNumber), `0`, true, ""},
		{def(schema.FieldNumber), `"12"`, false, ""},
		{def(schema.FieldNumber), `true`, false, ""},
		{def(schema.FieldBoolean), `false`, true, ""},
		{def(schema.FieldBoolean), `"true"`, false, ""},
		{def(schema.FieldBoolean), `1`, false, ""},
		{def(schema.FieldDate), `"2026-11-21"`, true, ""},
		{def(schema.FieldDate), `"2026-11-21T09:30:00-03:00"`, true, ""},
		{def(schema.FieldDate), `"21/11/2026"`, false, ""},
		{def(schema.FieldDate), `"2026-02-30"`, false, ""},
		{def(schema.FieldDate), `20261121`, false, ""},
		{def(schema.FieldSingleSelect, "gold", "silver"), `"gold"`, true, ""},
		{def(schema.FieldSingleSelect, "gold", "silver"), `"bronze"`, false, ""},
		{def(schema.FieldSingleSelect, "gold", "silver"), `["gold"]`, false, ""},
		{def(schema.FieldMultiSelect, "a", "b", "c"), `["a","c"]`, true, ""},
		{def(schema.FieldMultiSelect, "a", "b", "c"), `[]`, true, ""},
		{def(schema.FieldMultiSelect, "a", "b", "c"), `"a"`, false, ""},
		{def(schema.FieldMultiSelect, "a", "b", "c"), `["a","d"]`, false, ""},
		{def(schema.FieldMultiSelect, "a", "b", "c"), `["a","a"]`, false, ""},
		{def(schema.FieldMultiSelect, "a", "b", "c"), `["a",1]`, false, ""},
		{def(schema.FieldPerson), `"p-1"`, true, "p-1"},
		{def(schema.FieldPerson), `""`, false, ""},
		{def(schema.FieldPerson), `7`, false, ""},
		{def(schema.FieldTeam), `"t-1"`, true, "t-1"},
		{def(schema.FieldTeam), `{"id":"t-1"}`, false, ""},
	}
	for _, tc := range cases {
		var v any
		if err := json.Unmarshal([]byte(tc.value), &v); err != nil {
			t.Fatal(err)
		}
		msg, ref := checkFieldValue(tc.def, v)
		if (msg == "") != tc.ok || ref != tc.wantRef {
			t.Errorf("%s %s: message %q, ref %q; want ok=%v ref %q", tc.def.Type, tc.value, msg, ref, tc.ok, tc.wantRef)
		}
	}
}

func TestCheckForm(t *testing.T) {
	cfg := testFormConfig(t)
	billing := func(cf map[string]any) []formField {
		return cfg.layout(rules.NewEnv(rules.Ticket{Category: "Billing", CustomFields: cf}, rules.Event{}, nil,
			rules.Actor{Kind: "agent"}, time.Now()))
	}
	check := func(create bool, before, sent map[string]any) map[string]string {
		after := mergeCustomFields(before, sent)
		fields, _ := checkForm(cfg, billing(after), create, before, sent, after)
		return fields
	}
	expect := func(name string, got map[string]string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: got %v, want fields %v", name, got, want)
			return
		}
		for _, w := range want {
			if _, ok := got[w]; !ok {
				t.Errorf("%s: got %v, want field %s", name, got, w)
			}
		}
	}

	expect("valid create", check(true, nil, map[string]any{"plan": "silver", "seats": 3.0, "free": "anything"}))
	expect("required missing", check(true, nil, map[string]any{"seats": 3.0}), "customFields.plan")
	expect("required blank", check(true, nil, map[string]any{"plan": "", "seats": 3.0}), "customFields.plan")
	expect("hidden sent", check(true, nil, map[string]any{"plan": "gold", "seats": 3.0}), "customFields.seats")
	expect("hidden sent as null is fine", check(true, nil, map[string]any{"plan": "gold", "seats": nil}))
	expect("read-only sent on create", check(true, nil, map[string]any{"plan": "silver", "seats": 1.0, "contract": "x"}),
		"customFields.contract")
	expect("wrong type", check(true, nil, map[string]any{"plan": "silver", "seats": "three"}), "customFields.seats")
	expect("case typo", check(true, nil, map[string]any{"plan": "silver", "seats": 1.0, "Renewal": "2026-01-01"}),
		"customFields.Renewal")

	stored := map[string]any{"plan": "silver", "seats": 2.0, "contract": "C-1"}
	expect("patch same read-only value", check(false, stored, map[string]any{"contract": "C-1", "seats": 4.0}))
	expect("patch read-only changed", check(false, stored, map[string]any{"contract": "C-2"}), "customFields.contract")
	expect("patch read-only cleared", check(false, stored, map[string]any{"contract": nil}), "customFields.contract")
	expect("patch removing a required field", check(false, stored, map[string]any{"seats": nil}), "customFields.seats")
	expect("patch untouched", check(false, stored, nil))
}

// TestOpenAPIFormSchemas checks the form answers against the document's schemas.
func TestOpenAPIFormSchemas(t *testing.T) {
	doc, err := LoadOpenAPI()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	now := time.Date(2026, 11, 21, 9, 0, 0, 123456000, time.UTC)
	cur := "eyJpZCI6IjEifQ"
	f := schema.CustomField{ID: "cf-1", Entity: "ticket", Key: "plan", Label: "Plan", Type: schema.FieldSingleSelect,
		Options: []string{"gold"}, IsActive: true, CreatedAt: now, UpdatedAt: now}
	r := schema.DisplayRule{ID: "dr-1", Name: "Billing", Entity: "ticket", Condition: "ticket.category == 'Billing'",
		Fields: []schema.DisplayRuleField{{Key: "plan", Visible: true, Required: true}}, Enabled: true, Version: 2,
		CreatedAt: now, UpdatedAt: now}
	cfg := newFormConfig([]schema.CustomField{f}, nil)
	layout := formLayout{Fields: cfg.layout(rules.NewEnv(rules.Ticket{}, rules.Event{}, nil, rules.Actor{}, now))}
	cases := []struct {
		schema string
		value  any
	}{
		{"CustomField", f},
		{"CustomFieldPage", makePage([]schema.CustomField{f, f}, 1, func(schema.CustomField) cursor { return cursor{ID: "x"} })},
		{"DisplayRule", r},
		{"DisplayRulePage", page[schema.DisplayRule]{Data: []schema.DisplayRule{r}, NextCursor: &cur}},
		{"FormLayout", layout},
		{"FormLayout", formLayout{Fields: []formField{}}},
	}
	checkSchemas(t, doc, cases)
}

func TestCheckCustomField(t *testing.T) {
	ok := schema.CustomField{Entity: "ticket", Key: "plan_2", Label: "Plan", Type: schema.FieldMultiSelect, Options: []string{"a", "b"}}
	if f := checkCustomField(&ok, true); len(f) != 0 {
		t.Errorf("valid definition refused: %v", f)
	}
	cases := []struct {
		mut   func(*schema.CustomField)
		sent  bool
		field string
	}{
		{func(f *schema.CustomField) { f.Key = "2plan" }, true, "key"},
		{func(f *schema.CustomField) { f.Key = "plan-x" }, true, "key"},
		{func(f *schema.CustomField) { f.Key = strings.Repeat("a", 51) }, true, "key"},
		{func(f *schema.CustomField) { f.Entity = "org" }, true, "entity"},
		{func(f *schema.CustomField) { f.Type = "color" }, true, "type"},
		{func(f *schema.CustomField) { f.Options = []string{} }, true, "options"},
		{func(f *schema.CustomField) { f.Options = []string{"a", "a"} }, true, "options[1]"},
		{func(f *schema.CustomField) { f.Type = schema.FieldText }, true, "options"},
	}
	for i, tc := range cases {
		f := ok
		f.Options = append([]string{}, ok.Options...)
		tc.mut(&f)
		if got := checkCustomField(&f, tc.sent); got[tc.field] == "" {
			t.Errorf("case %d: want %s refused, got %v", i, tc.field, got)
		}
	}
}

package rules

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func formRuleOf(t *testing.T, id, condition string, fields ...FieldRule) FormRule {
	t.Helper()
	p, err := Compile(condition)
	if err != nil {
		t.Fatalf("rule %s: %v", id, err)
	}
	return FormRule{ID: id, Fields: fields, Program: p}
}

func testFormConfig(t *testing.T) *Form {
	defs := []FieldDef{
		{Key: "plan", Label: "Plan", Type: FieldSingleSelect, Options: []string{"gold", "silver"}},
		{Key: "seats", Label: "Seats", Type: FieldNumber},
		{Key: "contract", Label: "Contract", Type: FieldText},
		{Key: "renewal", Label: "Renewal", Type: FieldDate},
	}
	show := func(key string, visible, required, readOnly bool) FieldRule {
		return FieldRule{Key: key, Visible: visible, Required: required, ReadOnly: readOnly}
	}
	rs := []FormRule{
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
	return NewForm(defs, rs)
}

func layoutFor(cfg *Form, kind string, tk Ticket) map[string]FormField {
	if tk.CustomFields == nil {
		tk.CustomFields = map[string]any{}
	}
	env := NewEnv(tk, Event{Name: "form"}, nil, Actor{ID: "p-1", Kind: kind}, time.Now())
	out := map[string]FormField{}
	for _, f := range cfg.Layout(env) {
		out[f.Key] = f
	}
	return out
}

func TestFormLayoutOverlappingRules(t *testing.T) {
	cfg := testFormConfig(t)
	type state struct{ visible, required, readOnly bool }
	get := func(l map[string]FormField, key string) state {
		f, ok := l[key]
		if !ok {
			t.Fatalf("no field %s in the layout", key)
		}
		return state{f.Visible, f.Required, f.ReadOnly}
	}
	plain := layoutFor(cfg, "agent", Ticket{Category: "Hardware"})
	if len(plain) != 4 {
		t.Fatalf("layout has %d fields, want the 4 active definitions", len(plain))
	}
	if got := get(plain, "plan"); got != (state{true, false, false}) {
		t.Errorf("plan by default: %+v", got)
	}
	if got := get(plain, "contract"); got != (state{false, false, false}) {
		t.Errorf("contract hidden by r1: %+v", got)
	}

	billing := layoutFor(cfg, "agent", Ticket{Category: "Billing", CustomFields: map[string]any{"plan": "silver"}})
	if got := get(billing, "plan"); got != (state{true, true, false}) {
		t.Errorf("plan on billing: %+v", got)
	}
	if got := get(billing, "contract"); got != (state{true, false, true}) {
		t.Errorf("contract on billing (r2 overrides r1): %+v", got)
	}
	if got := get(billing, "seats"); got != (state{true, true, false}) {
		t.Errorf("seats on silver billing: %+v", got)
	}

	gold := layoutFor(cfg, "agent", Ticket{Category: "Billing", CustomFields: map[string]any{"plan": "gold"}})
	if got := get(gold, "seats"); got != (state{false, false, false}) {
		t.Errorf("seats on gold billing (r3 overrides r2): %+v", got)
	}
	if got := get(gold, "plan"); got != (state{true, true, false}) {
		t.Errorf("plan on gold billing keeps r2: %+v", got)
	}

	if got := get(layoutFor(cfg, "agent", Ticket{CustomFields: map[string]any{"seats": 20.0}}), "renewal"); got != (state{true, true, false}) {
		t.Errorf("renewal with 20 seats: %+v", got)
	}
	if got := get(layoutFor(cfg, "agent", Ticket{CustomFields: map[string]any{"seats": "many"}}), "renewal"); got != (state{true, false, false}) {
		t.Errorf("a condition failing at run time must not match: %+v", got)
	}
	if got := get(layoutFor(cfg, "customer", Ticket{CustomFields: map[string]any{"seats": 20.0}}), "renewal"); got != (state{false, false, false}) {
		t.Errorf("renewal for a customer (r6 after r4): %+v", got)
	}

	// Layout keeps the definitions' order.
	var keys []string
	for _, f := range cfg.Layout(NewEnv(Ticket{CustomFields: map[string]any{}}, Event{}, nil, Actor{}, time.Now())) {
		keys = append(keys, f.Key)
	}
	if strings.Join(keys, ",") != "plan,seats,contract,renewal" {
		t.Errorf("order: %v", keys)
	}
}

func TestCheckFieldValue(t *testing.T) {
	def := func(typ string, options ...string) *FieldDef {
		return &FieldDef{Key: "f", Type: typ, Options: options}
	}
	cases := []struct {
		def     *FieldDef
		value   string // JSON
		ok      bool
		wantRef string
	}{
		{def(FieldText), `"hello"`, true, ""},
		{def(FieldText), `12`, false, ""},
		{def(FieldNumber), `12.5`, true, ""},
		{def(FieldNumber), `0`, true, ""},
		{def(FieldNumber), `"12"`, false, ""},
		{def(FieldNumber), `true`, false, ""},
		{def(FieldBoolean), `false`, true, ""},
		{def(FieldBoolean), `"true"`, false, ""},
		{def(FieldBoolean), `1`, false, ""},
		{def(FieldDate), `"2026-11-21"`, true, ""},
		{def(FieldDate), `"2026-11-21T09:30:00-03:00"`, true, ""},
		{def(FieldDate), `"21/11/2026"`, false, ""},
		{def(FieldDate), `"2026-02-30"`, false, ""},
		{def(FieldDate), `20261121`, false, ""},
		{def(FieldSingleSelect, "gold", "silver"), `"gold"`, true, ""},
		{def(FieldSingleSelect, "gold", "silver"), `"bronze"`, false, ""},
		{def(FieldSingleSelect, "gold", "silver"), `["gold"]`, false, ""},
		{def(FieldMultiSelect, "a", "b", "c"), `["a","c"]`, true, ""},
		{def(FieldMultiSelect, "a", "b", "c"), `[]`, true, ""},
		{def(FieldMultiSelect, "a", "b", "c"), `"a"`, false, ""},
		{def(FieldMultiSelect, "a", "b", "c"), `["a","d"]`, false, ""},
		{def(FieldMultiSelect, "a", "b", "c"), `["a","a"]`, false, ""},
		{def(FieldMultiSelect, "a", "b", "c"), `["a",1]`, false, ""},
		{def(FieldPerson), `"p-1"`, true, "p-1"},
		{def(FieldPerson), `""`, false, ""},
		{def(FieldPerson), `7`, false, ""},
		{def(FieldTeam), `"t-1"`, true, "t-1"},
		{def(FieldTeam), `{"id":"t-1"}`, false, ""},
	}
	for _, tc := range cases {
		var v any
		if err := json.Unmarshal([]byte(tc.value), &v); err != nil {
			t.Fatal(err)
		}
		msg, ref := CheckFieldValue(tc.def, v)
		if (msg == "") != tc.ok || ref != tc.wantRef {
			t.Errorf("%s %s: message %q, ref %q; want ok=%v ref %q", tc.def.Type, tc.value, msg, ref, tc.ok, tc.wantRef)
		}
	}
}

func TestCheckForm(t *testing.T) {
	cfg := testFormConfig(t)
	billing := func(cf map[string]any) []FormField {
		return cfg.Layout(NewEnv(Ticket{Category: "Billing", CustomFields: cf}, Event{}, nil,
			Actor{Kind: "agent"}, time.Now()))
	}
	check := func(create bool, before, sent map[string]any) map[string]string {
		after := MergeCustomFields(before, sent)
		fields, _ := cfg.Check(billing(after), create, before, sent, after)
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

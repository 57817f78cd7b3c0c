package api

import (
	"strings"
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// rules names the custom field types itself (schema imports rules); they must stay schema's.
func TestFieldTypesMatchSchema(t *testing.T) {
	want := []string{rules.FieldText, rules.FieldNumber, rules.FieldDate, rules.FieldSingleSelect, rules.FieldMultiSelect,
		rules.FieldBoolean, rules.FieldPerson, rules.FieldTeam}
	if strings.Join(want, ",") != strings.Join(schema.FieldTypes, ",") {
		t.Fatalf("rules field types %v, schema %v", want, schema.FieldTypes)
	}
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
	cfg := newForm([]schema.CustomField{f}, nil, nil)
	layout := formLayout{Fields: cfg.Layout(rules.NewEnv(rules.Ticket{}, rules.Event{}, nil, rules.Actor{}, now))}
	cases := []struct {
		schema string
		value  any
	}{
		{"CustomField", f},
		{"CustomFieldPage", makePage([]schema.CustomField{f, f}, 1, func(schema.CustomField) cursor { return cursor{ID: "x"} })},
		{"DisplayRule", r},
		{"DisplayRulePage", page[schema.DisplayRule]{Data: []schema.DisplayRule{r}, NextCursor: &cur}},
		{"FormLayout", layout},
		{"FormLayout", formLayout{Fields: []rules.FormField{}}},
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

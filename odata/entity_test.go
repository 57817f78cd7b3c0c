package odata

import (
	"strings"
	"testing"
)

// col declares a column of the row alias.
func col(name string) func(string) string {
	return func(alias string) string { return alias + "." + name }
}

func prop(name string, t Type, column string, sortable bool) *Property {
	return &Property{Name: name, Type: t, SQL: col(column), Sortable: sortable}
}

func props(ps ...*Property) map[string]*Property {
	m := map[string]*Property{}
	for _, p := range ps {
		m[p.Name] = p
	}
	return m
}

// correlate returns a From function: "<table> AS elem WHERE <cond>" with
// {e} and {p} in cond standing for the element and parent aliases.
func correlate(table, cond string) func(parent, elem string) string {
	return func(parent, elem string) string {
		return table + " AS " + elem + " WHERE " + strings.NewReplacer("{e}", elem, "{p}", parent).Replace(cond)
	}
}

// The test model: a small part of Movidesk's Ticket and Person.
var (
	person = &Entity{
		Name: "Person",
		Properties: props(
			prop("id", String, "id", true),
			prop("businessName", String, "business_name", true),
			prop("isActive", Bool, "is_active", false),
		),
	}
	item = &Entity{
		Name: "CustomFieldValueItem",
		Properties: props(
			prop("personId", String, "person_id", false),
			prop("customFieldItem", String, "item", false),
		),
	}
	customFieldValue = &Entity{
		Name: "CustomFieldValue",
		Properties: props(
			prop("customFieldId", Int, "custom_field_id", true),
			prop("value", String, "value", false),
		),
		Collections: map[string]*Collection{
			"items": {Name: "items", Target: item, From: correlate("ticket_custom_field_value_items", "{e}.value_id = {p}.id")},
		},
	}
	attachment      = &Entity{Name: "Attachment", Properties: props(prop("fileName", String, "file_name", false))}
	timeAppointment = &Entity{Name: "TimeAppointment", Properties: props(prop("id", Int, "id", false))}
	action          = &Entity{
		Name: "Action",
		Properties: props(
			prop("id", Int, "id", true),
			prop("description", String, "description", false),
		),
		Collections: map[string]*Collection{
			"attachments":      {Name: "attachments", Target: attachment, From: correlate("ticket_action_attachments", "{e}.action_id = {p}.id")},
			"timeAppointments": {Name: "timeAppointments", Target: timeAppointment, From: correlate("ticket_time_appointments", "{e}.action_id = {p}.id")},
		},
	}
	ticket = &Entity{
		Name: "Ticket",
		Properties: props(
			prop("id", Int, "id", true),
			prop("subject", String, "subject", true),
			prop("createdDate", DateTime, "created_date", true),
			prop("isDeleted", Bool, "is_deleted", false),
			prop("timeSpent", Float, "time_spent", false),
		),
		Navigations: map[string]*Navigation{
			"owner": {Name: "owner", Target: person, From: correlate("persons", "{e}.id = {p}.owner_id"),
				Local: map[string]func(string) string{"id": col("owner_id")}},
			"createdBy": {Name: "createdBy", Target: person, From: correlate("persons", "{e}.id = {p}.created_by_id"),
				Local: map[string]func(string) string{"id": col("created_by_id")}},
		},
		Collections: map[string]*Collection{
			"clients":           {Name: "clients", Target: person, From: correlate("persons", "{e}.id = ANY({p}.client_ids)")},
			"customFieldValues": {Name: "customFieldValues", Target: customFieldValue, From: correlate("ticket_custom_field_values", "{e}.ticket_id = {p}.id")},
			"actions":           {Name: "actions", Target: action, From: correlate("ticket_actions", "{e}.ticket_id = {p}.id")},
		},
	}
)

func init() {
	// A cycle: a person's organization is a person.
	person.Navigations = map[string]*Navigation{
		"organization": {Name: "organization", Target: person, From: correlate("persons", "{e}.id = {p}.organization_id"),
			Local: map[string]func(string) string{"id": col("organization_id")}},
	}
}

func TestValidate(t *testing.T) {
	if err := ticket.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := []*Entity{
		{Name: ""},
		{Name: "X", Properties: map[string]*Property{"a": {Name: "b", Type: Int, SQL: col("a")}}},
		{Name: "X", Properties: map[string]*Property{"a": {Name: "a", SQL: col("a")}}},
		{Name: "X", Properties: map[string]*Property{"a": {Name: "a", Type: Int}}},
		{Name: "X", Properties: props(prop("id", Int, "id", false), prop("ID", Int, "id2", false))},
		{Name: "X", Properties: props(prop("a", Int, "a", false)),
			Collections: map[string]*Collection{"A": {Name: "A", Target: person, From: correlate("x", "true")}}},
		{Name: "X", Navigations: map[string]*Navigation{"n": {Name: "n", Target: person}}},
		{Name: "X", Navigations: map[string]*Navigation{"n": {Name: "n", Target: person, From: correlate("x", "true"),
			Local: map[string]func(string) string{"nope": col("x")}}}},
		{Name: "X", Collections: map[string]*Collection{"c": {Name: "c", From: correlate("x", "true")}}},
		{Name: "X", Collections: map[string]*Collection{"c": {Name: "c", Target: &Entity{}, From: correlate("x", "true")}}},
	}
	for i, e := range bad {
		if err := e.Validate(); err == nil {
			t.Errorf("bad[%d]: Validate succeeded", i)
		}
	}
}

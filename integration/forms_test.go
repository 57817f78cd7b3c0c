package integration

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The tests of this package share one database: every custom field here has a key of its own,
// and every display rule's condition matches only this file's tickets (a category of its own),
// so the other tests' tickets see no required or hidden fields.

type customFieldJSON struct {
	ID       string   `json:"id"`
	Entity   string   `json:"entity"`
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Options  []string `json:"options"`
	IsActive bool     `json:"isActive"`
	Position int      `json:"position"`
}

type displayRuleJSON struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Entity    string `json:"entity"`
	Condition string `json:"condition"`
	Fields    []struct {
		Key      string `json:"key"`
		Visible  bool   `json:"visible"`
		Required bool   `json:"required"`
		ReadOnly bool   `json:"readOnly"`
	} `json:"fields"`
	Position int  `json:"position"`
	Enabled  bool `json:"enabled"`
	Version  int  `json:"version"`
}

type formFieldJSON struct {
	Key      string   `json:"key"`
	Label    string   `json:"label"`
	Type     string   `json:"type"`
	Options  []string `json:"options"`
	Visible  bool     `json:"visible"`
	Required bool     `json:"required"`
	ReadOnly bool     `json:"readOnly"`
}

func (s *stack) defineField(t *testing.T, body map[string]any) customFieldJSON {
	t.Helper()
	var f customFieldJSON
	s.call(t, s.admin, "POST", "/api/v1/custom-fields", body).expect(201).decode(&f)
	t.Cleanup(func() { s.call(t, s.admin, "DELETE", "/api/v1/custom-fields/"+f.ID, nil) })
	return f
}

func (s *stack) defineRule(t *testing.T, body map[string]any) displayRuleJSON {
	t.Helper()
	var r displayRuleJSON
	s.call(t, s.admin, "POST", "/api/v1/display-rules", body).expect(201).decode(&r)
	t.Cleanup(func() { s.call(t, s.admin, "DELETE", "/api/v1/display-rules/"+r.ID, nil) })
	return r
}

// evaluate answers the form for a draft, keyed by field key.
func (s *stack) evaluate(t *testing.T, token string, body map[string]any) map[string]formFieldJSON {
	t.Helper()
	var out struct {
		Fields []formFieldJSON `json:"fields"`
	}
	s.call(t, token, "POST", "/api/v1/forms/ticket/evaluate", body).expect(200).decode(&out)
	m := map[string]formFieldJSON{}
	for _, f := range out.Fields {
		m[f.Key] = f
	}
	return m
}

func (s *stack) auditActions(t *testing.T, entity, id string) []string {
	t.Helper()
	var actions []string
	require.NoError(t, s.db.NewRaw("SELECT action FROM audit_log WHERE entity = ? AND entity_id = ? ORDER BY id", entity, id).
		Scan(context.Background(), &actions))
	return actions
}

func TestCustomFieldDefinitions(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")
	plan := s.defineField(t, map[string]any{"key": "cfPlan_" + tag, "label": "Plan", "type": "single_select",
		"options": []string{"gold", "silver"}, "position": 5})
	require.NotEmpty(t, plan.ID)
	require.Equal(t, "ticket", plan.Entity, "entity defaults to ticket")
	require.Equal(t, []string{"gold", "silver"}, plan.Options)
	require.True(t, plan.IsActive)
	require.Equal(t, 5, plan.Position)
	size := s.defineField(t, map[string]any{"entity": "person", "key": "cfSize_" + tag, "label": "Company size", "type": "number"})
	require.Equal(t, "person", size.Entity)
	require.Equal(t, []string{}, size.Options)

	var got customFieldJSON
	s.call(t, p.agentTok, "GET", "/api/v1/custom-fields/"+plan.ID, nil).expect(200).decode(&got)
	require.Equal(t, plan, got, "agents read configuration")

	// Lists filter by entity and page.
	var pg struct {
		Data       []customFieldJSON `json:"data"`
		NextCursor *string           `json:"next_cursor"`
	}
	s.call(t, s.admin, "GET", "/api/v1/custom-fields?entity=person&limit=100", nil).expect(200).decode(&pg)
	keys := map[string]bool{}
	for _, f := range pg.Data {
		require.Equal(t, "person", f.Entity)
		keys[f.Key] = true
	}
	require.True(t, keys[size.Key])
	require.False(t, keys[plan.Key])
	seen := map[string]bool{}
	path := "/api/v1/custom-fields?limit=1"
	for range 100 {
		pg.Data, pg.NextCursor = nil, nil
		s.call(t, s.admin, "GET", path, nil).expect(200).decode(&pg)
		require.LessOrEqual(t, len(pg.Data), 1)
		for _, f := range pg.Data {
			require.False(t, seen[f.ID], "a page repeats %s", f.ID)
			seen[f.ID] = true
		}
		if pg.NextCursor == nil {
			break
		}
		path = "/api/v1/custom-fields?limit=1&cursor=" + *pg.NextCursor
	}
	require.True(t, seen[plan.ID] && seen[size.ID], "paging reaches every definition")
	s.call(t, s.admin, "GET", "/api/v1/custom-fields?entity=org", nil).expectError(422, "validation_failed", "entity")

	// Update: label, options, position; the key and entity stay.
	var upd customFieldJSON
	s.call(t, s.admin, "PATCH", "/api/v1/custom-fields/"+plan.ID, map[string]any{"label": "Support plan",
		"options": []string{"gold", "silver", "bronze"}, "key": plan.Key}).expect(200).decode(&upd)
	require.Equal(t, "Support plan", upd.Label)
	require.Equal(t, []string{"gold", "silver", "bronze"}, upd.Options)
	require.Equal(t, plan.Key, upd.Key)
	s.call(t, s.admin, "PATCH", "/api/v1/custom-fields/"+plan.ID, map[string]any{"key": "other_" + tag}).
		expectError(422, "validation_failed", "key")
	s.call(t, s.admin, "PATCH", "/api/v1/custom-fields/"+plan.ID, map[string]any{"entity": "person"}).
		expectError(422, "validation_failed", "entity")
	s.call(t, s.admin, "PATCH", "/api/v1/custom-fields/"+size.ID, map[string]any{"options": []string{"a"}}).
		expectError(422, "validation_failed", "options")
	s.call(t, s.admin, "PATCH", "/api/v1/custom-fields/"+size.ID, map[string]any{"type": "multi_select"}).
		expectError(422, "validation_failed", "options")

	// Bad inputs name the field.
	bad := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"key": "9lives_" + tag, "label": "L", "type": "text"}, "key"},
		{map[string]any{"key": "has-dash" + tag, "label": "L", "type": "text"}, "key"},
		{map[string]any{"key": "k" + strings.Repeat("x", 50), "label": "L", "type": "text"}, "key"},
		{map[string]any{"label": "L", "type": "text"}, "key"},
		{map[string]any{"key": "k_" + tag, "type": "text"}, "label"},
		{map[string]any{"key": "k_" + tag, "label": "  ", "type": "text"}, "label"},
		{map[string]any{"key": "k_" + tag, "label": "L"}, "type"},
		{map[string]any{"key": "k_" + tag, "label": "L", "type": "color"}, "type"},
		{map[string]any{"key": "k_" + tag, "label": "L", "type": "single_select"}, "options"},
		{map[string]any{"key": "k_" + tag, "label": "L", "type": "multi_select", "options": []string{}}, "options"},
		{map[string]any{"key": "k_" + tag, "label": "L", "type": "single_select", "options": []string{"a", "a"}}, "options[1]"},
		{map[string]any{"key": "k_" + tag, "label": "L", "type": "single_select", "options": []string{"a", " "}}, "options[1]"},
		{map[string]any{"key": "k_" + tag, "label": "L", "type": "text", "options": []string{"a"}}, "options"},
		{map[string]any{"key": "k_" + tag, "label": "L", "type": "text", "entity": "organization"}, "entity"},
		{map[string]any{"key": "k_" + tag, "label": "L", "type": "text", "position": -1}, "position"},
		{map[string]any{"key": "k_" + tag, "label": "L", "type": "text", "colour": "red"}, "colour"},
		{map[string]any{"key": "k_" + tag, "label": "L", "type": "text", "isActive": "yes"}, "isActive"},
	}
	for _, b := range bad {
		s.call(t, s.admin, "POST", "/api/v1/custom-fields", b.body).expectError(422, "validation_failed", b.field)
	}
	// Keys are unique per entity, whatever their case; the same key on the other entity is fine.
	s.call(t, s.admin, "POST", "/api/v1/custom-fields", map[string]any{"key": strings.ToUpper(plan.Key), "label": "Dup",
		"type": "text"}).expectError(409, "conflict")
	s.defineField(t, map[string]any{"entity": "person", "key": plan.Key, "label": "Plan", "type": "text"})

	// Access: agents read but do not write; customers do neither.
	s.call(t, p.agentTok, "POST", "/api/v1/custom-fields", map[string]any{"key": "a_" + tag, "label": "A", "type": "text"}).
		expectError(403, "forbidden")
	s.call(t, p.customerTok, "GET", "/api/v1/custom-fields", nil).expectError(403, "forbidden")
	s.call(t, s.admin, "GET", "/api/v1/custom-fields/nope", nil).expectError(404, "not_found")

	// Delete deactivates.
	var off customFieldJSON
	s.call(t, s.admin, "DELETE", "/api/v1/custom-fields/"+size.ID, nil).expect(200).decode(&off)
	require.False(t, off.IsActive)
	s.call(t, s.admin, "GET", "/api/v1/custom-fields/"+size.ID, nil).expect(200).decode(&off)
	require.False(t, off.IsActive)
	require.Equal(t, []string{"create", "update"}, s.auditActions(t, "custom_field", plan.ID))
	require.Equal(t, []string{"create", "deactivate"}, s.auditActions(t, "custom_field", size.ID))
}

func TestDisplayRuleCRUD(t *testing.T) {
	s := env(t)
	tag := randomName("")
	plan := s.defineField(t, map[string]any{"key": "drPlan_" + tag, "label": "Plan", "type": "single_select", "options": []string{"gold"}})
	notes := s.defineField(t, map[string]any{"key": "drNotes_" + tag, "label": "Notes", "type": "text"})
	person := s.defineField(t, map[string]any{"entity": "person", "key": "drPerson_" + tag, "label": "P", "type": "text"})
	gone := s.defineField(t, map[string]any{"key": "drGone_" + tag, "label": "Gone", "type": "text"})
	s.call(t, s.admin, "DELETE", "/api/v1/custom-fields/"+gone.ID, nil).expect(200)
	cond := fmt.Sprintf("ticket.category == 'DR %s'", tag)

	r := s.defineRule(t, map[string]any{"name": "Billing " + tag, "condition": cond, "position": 3,
		"fields": []map[string]any{{"key": plan.Key, "required": true}, {"key": notes.Key, "visible": false}}})
	require.Equal(t, "ticket", r.Entity)
	require.True(t, r.Enabled)
	require.Equal(t, 1, r.Version)
	require.Equal(t, cond, r.Condition)
	require.Len(t, r.Fields, 2)
	require.Equal(t, plan.Key, r.Fields[0].Key)
	require.True(t, r.Fields[0].Visible && r.Fields[0].Required && !r.Fields[0].ReadOnly, "absent flags take their defaults")
	require.False(t, r.Fields[1].Visible || r.Fields[1].Required || r.Fields[1].ReadOnly)

	var got displayRuleJSON
	s.call(t, s.admin, "GET", "/api/v1/display-rules/"+r.ID, nil).expect(200).decode(&got)
	require.Equal(t, r, got)
	var upd displayRuleJSON
	s.call(t, s.admin, "PATCH", "/api/v1/display-rules/"+r.ID, map[string]any{"enabled": false,
		"fields": []map[string]any{{"key": notes.Key, "readOnly": true}}}).expect(200).decode(&upd)
	require.False(t, upd.Enabled)
	require.Equal(t, 2, upd.Version)
	require.Equal(t, cond, upd.Condition)
	require.Len(t, upd.Fields, 1)
	require.True(t, upd.Fields[0].ReadOnly)

	var pg struct {
		Data       []displayRuleJSON `json:"data"`
		NextCursor *string           `json:"next_cursor"`
	}
	s.call(t, s.admin, "GET", "/api/v1/display-rules?fieldKey="+notes.Key, nil).expect(200).decode(&pg)
	require.Len(t, pg.Data, 1)
	require.Equal(t, r.ID, pg.Data[0].ID)

	// A bad condition is a 422 on condition with the compiler's position.
	res := s.call(t, s.admin, "POST", "/api/v1/display-rules", map[string]any{"name": "Bad", "condition": "ticket.category ==",
		"fields": []map[string]any{{"key": plan.Key}}})
	res.expectError(422, "validation_failed", "condition")
	_, fields := res.apiError()
	require.Contains(t, fields["condition"], "line 1, column")
	res = s.call(t, s.admin, "POST", "/api/v1/display-rules", map[string]any{"name": "Bad", "condition": "ticket.nope == 1",
		"fields": []map[string]any{{"key": plan.Key}}})
	res.expectError(422, "validation_failed", "condition")
	s.call(t, s.admin, "POST", "/api/v1/display-rules", map[string]any{"name": "Bad", "condition": "ticket.subject",
		"fields": []map[string]any{{"key": plan.Key}}}).expectError(422, "validation_failed", "condition")
	s.call(t, s.admin, "PATCH", "/api/v1/display-rules/"+r.ID, map[string]any{"condition": "ticket.tags +"}).
		expectError(422, "validation_failed", "condition")

	bad := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"fields": []map[string]any{{"key": plan.Key}}}, "name"},
		{map[string]any{"name": "X"}, "fields"},
		{map[string]any{"name": "X", "fields": []map[string]any{}}, "fields"},
		{map[string]any{"name": "X", "fields": []map[string]any{{"key": "nope_" + tag}}}, "fields[0].key"},
		{map[string]any{"name": "X", "fields": []map[string]any{{"key": plan.Key}, {"key": person.Key}}}, "fields[1].key"},
		{map[string]any{"name": "X", "fields": []map[string]any{{"key": gone.Key}}}, "fields[0].key"},
		{map[string]any{"name": "X", "fields": []map[string]any{{"key": plan.Key}, {"key": plan.Key}}}, "fields[1].key"},
		{map[string]any{"name": "X", "fields": []map[string]any{{"visible": true}}}, "fields[0].key"},
		{map[string]any{"name": "X", "fields": []map[string]any{{"key": plan.Key, "visible": false, "required": true}}}, "fields[0].required"},
		{map[string]any{"name": "X", "fields": []map[string]any{{"key": plan.Key, "readOnly": true, "required": true}}}, "fields[0].required"},
		{map[string]any{"name": "X", "fields": []map[string]any{{"key": plan.Key, "hidden": true}}}, "hidden"},
		{map[string]any{"name": "X", "entity": "person", "fields": []map[string]any{{"key": person.Key}}}, "entity"},
	}
	for _, b := range bad {
		s.call(t, s.admin, "POST", "/api/v1/display-rules", b.body).expectError(422, "validation_failed", b.field)
	}

	s.call(t, s.admin, "DELETE", "/api/v1/display-rules/"+r.ID, nil).expect(204)
	s.call(t, s.admin, "GET", "/api/v1/display-rules/"+r.ID, nil).expectError(404, "not_found")
	require.Equal(t, []string{"create", "update", "delete"}, s.auditActions(t, "display_rule", r.ID))
}

func TestFormEvaluateAndEnforcement(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tag := randomName("")
	k := func(name string) string { return name + "_" + tag }
	def := func(name, typ string, options ...string) {
		body := map[string]any{"key": k(name), "label": name, "type": typ}
		if len(options) > 0 {
			body["options"] = options
		}
		s.defineField(t, body)
	}
	def("plan", "single_select", "gold", "silver")
	def("seats", "number")
	def("contract", "text")
	def("secret", "text")
	def("renewal", "date")
	def("flags", "multi_select", "a", "b")
	def("vip", "boolean")
	def("manager", "person")
	def("squad", "team")
	cat := "Forms " + tag
	onCat := fmt.Sprintf("ticket.category == '%s'", cat)
	base := s.defineRule(t, map[string]any{"name": "base " + tag, "condition": onCat, "position": 10, "fields": []map[string]any{
		{"key": k("plan"), "required": true}, {"key": k("contract"), "readOnly": true}, {"key": k("secret"), "visible": false}}})
	s.defineRule(t, map[string]any{"name": "gold " + tag, "position": 20,
		"condition": fmt.Sprintf("%s && ticket.customFields.%s == 'gold'", onCat, k("plan")),
		"fields":    []map[string]any{{"key": k("seats"), "required": true}, {"key": k("secret"), "visible": true}}})
	// A condition that fails at run time (a string compared with a number) never matches.
	s.defineRule(t, map[string]any{"name": "broken " + tag, "position": 30,
		"condition": fmt.Sprintf("%s && ticket.customFields.%s > 1", onCat, k("plan")),
		"fields":    []map[string]any{{"key": k("vip"), "required": true}}})

	// --- evaluate
	form := s.evaluate(t, p.agentTok, map[string]any{"ticket": map[string]any{"subject": "x", "category": cat}})
	require.Equal(t, formFieldJSON{Key: k("plan"), Label: "plan", Type: "single_select", Options: []string{"gold", "silver"},
		Visible: true, Required: true}, form[k("plan")])
	require.True(t, form[k("contract")].ReadOnly && form[k("contract")].Visible)
	require.False(t, form[k("secret")].Visible)
	require.False(t, form[k("seats")].Required)
	require.False(t, form[k("vip")].Required, "a condition failing at run time does not match")
	require.Equal(t, []string{}, form[k("seats")].Options)

	gold := s.evaluate(t, p.agentTok, map[string]any{"ticket": map[string]any{"category": cat,
		"customFields": map[string]any{k("plan"): "gold"}}})
	require.True(t, gold[k("seats")].Required && gold[k("seats")].Visible)
	require.True(t, gold[k("secret")].Visible, "the later rule overrides the earlier one")
	require.True(t, gold[k("plan")].Required, "fields the later rule does not name keep the earlier rule's setting")

	other := s.evaluate(t, p.customerTok, map[string]any{"ticket": map[string]any{"category": "Hardware"}})
	for _, name := range []string{"plan", "seats", "contract", "secret"} {
		f := other[k(name)]
		require.True(t, f.Visible && !f.Required && !f.ReadOnly, "%s defaults to visible, optional, editable: %+v", name, f)
	}
	s.call(t, p.agentTok, "POST", "/api/v1/forms/ticket/evaluate", map[string]any{"ticket": map[string]any{"colour": 1}}).
		expectError(422, "validation_failed", "colour")
	s.call(t, p.agentTok, "POST", "/api/v1/forms/ticket/evaluate", map[string]any{"ticketId": 1}).expectError(404, "not_found")

	// --- enforcement on create
	create := func(token string, cf map[string]any) *resp {
		return s.call(t, token, "POST", "/api/v1/tickets", map[string]any{"subject": "Form " + tag, "category": cat,
			"clientIds": []string{p.customer}, "customFields": cf})
	}
	create(p.agentTok, nil).expectError(422, "validation_failed", "customFields."+k("plan"))
	create(p.agentTok, map[string]any{k("plan"): ""}).expectError(422, "validation_failed", "customFields."+k("plan"))
	create(p.agentTok, map[string]any{k("plan"): "gold"}).expectError(422, "validation_failed", "customFields."+k("seats"))
	create(p.agentTok, map[string]any{k("plan"): "silver", k("secret"): "psst"}).
		expectError(422, "validation_failed", "customFields."+k("secret"))
	create(p.agentTok, map[string]any{k("plan"): "silver", k("contract"): "C-1"}).
		expectError(422, "validation_failed", "customFields."+k("contract"))
	wrong := map[string]any{"seats": "three", "plan": "bronze", "renewal": "tomorrow", "flags": []string{"a", "z"},
		"vip": "yes", "manager": "no-such-person", "squad": p.agent}
	for name, v := range wrong {
		cf := map[string]any{k("plan"): "silver", k(name): v}
		create(p.agentTok, cf).expectError(422, "validation_failed", "customFields."+k(name))
	}
	res := create(p.agentTok, map[string]any{k("plan"): "gold", k("seats"): "3", k("secret"): 1})
	res.expectError(422, "validation_failed", "customFields."+k("seats"), "customFields."+k("secret"))
	// Customers get the same form.
	s.call(t, p.customerTok, "POST", "/api/v1/tickets", map[string]any{"subject": "Mine", "category": cat}).
		expectError(422, "validation_failed", "customFields."+k("plan"))

	valid := map[string]any{k("plan"): "silver", k("seats"): 3, k("renewal"): "2026-12-01", k("flags"): []string{"a", "b"},
		k("vip"): false, k("manager"): p.agent2, k("squad"): p.team, k("contract"): nil, "freeForm_" + tag: map[string]any{"any": 1}}
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Form " + tag, "category": cat,
		"clientIds": []string{p.customer}, "customFields": valid})
	require.Equal(t, "silver", tk.CustomFields[k("plan")])
	require.EqualValues(t, 3, tk.CustomFields[k("seats")])
	require.Contains(t, tk.CustomFields, "freeForm_"+tag, "keys with no definition are free-form")
	s.createTicket(t, p.customerTok, map[string]any{"subject": "Mine", "category": cat,
		"customFields": map[string]any{k("plan"): "gold", k("seats"): 1, k("renewal"): "2026-12-01T10:00:00Z"}})
	// Tickets outside the rules' category need nothing.
	s.createTicket(t, p.agentTok, map[string]any{"subject": "Plain " + tag})

	// --- evaluate against a stored ticket
	stored := s.evaluate(t, p.agentTok, map[string]any{"ticketId": tk.ID, "ticket": map[string]any{
		"customFields": map[string]any{k("plan"): "gold"}}})
	require.True(t, stored[k("seats")].Required)
	s.call(t, p.otherTok, "POST", "/api/v1/forms/ticket/evaluate", map[string]any{"ticketId": tk.ID}).
		expectError(404, "not_found")

	// --- enforcement on PATCH
	patch := func(body map[string]any) *resp {
		return s.call(t, p.agentTok, "PATCH", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), body)
	}
	cf := func(m map[string]any) map[string]any { return map[string]any{"customFields": m} }
	patch(cf(map[string]any{k("plan"): nil})).expectError(422, "validation_failed", "customFields."+k("plan"))
	patch(cf(map[string]any{k("plan"): "gold", k("seats"): nil})).expectError(422, "validation_failed", "customFields."+k("seats"))
	patch(cf(map[string]any{k("secret"): "psst"})).expectError(422, "validation_failed", "customFields."+k("secret"))
	patch(cf(map[string]any{k("contract"): "C-9"})).expectError(422, "validation_failed", "customFields."+k("contract"))
	patch(cf(map[string]any{k("seats"): true})).expectError(422, "validation_failed", "customFields."+k("seats"))
	patch(cf(map[string]any{k("flags"): "a"})).expectError(422, "validation_failed", "customFields."+k("flags"))
	patch(cf(map[string]any{k("squad"): "no-such-team"})).expectError(422, "validation_failed", "customFields."+k("squad"))
	patch(cf(map[string]any{strings.ToUpper(k("plan")): "gold"})).
		expectError(422, "validation_failed", "customFields."+strings.ToUpper(k("plan")))

	var after ticket
	patch(cf(map[string]any{k("plan"): "gold", k("secret"): "now visible"})).expect(200).decode(&after)
	require.Equal(t, "gold", after.CustomFields[k("plan")])
	require.Equal(t, "now visible", after.CustomFields[k("secret")])
	// Out of the category the contract is editable; back in it, sending it unchanged is fine.
	patch(map[string]any{"category": "Elsewhere", "customFields": map[string]any{k("contract"): "C-1"}}).expect(200)
	patch(map[string]any{"category": cat, "subject": "Renamed", "customFields": map[string]any{k("contract"): "C-1"}}).
		expect(200).decode(&after)
	require.Equal(t, "C-1", after.CustomFields[k("contract")])
	patch(cf(map[string]any{k("contract"): "C-2"})).expectError(422, "validation_failed", "customFields."+k("contract"))
	patch(cf(map[string]any{k("contract"): nil})).expectError(422, "validation_failed", "customFields."+k("contract"))
	// A patch that does not touch custom fields still answers for the required ones.
	patch(map[string]any{"category": cat, "subject": "Again"}).expect(200)

	// Configuration changes through this instance apply at once: with the base rule disabled
	// the plan is no longer required.
	s.call(t, s.admin, "PATCH", "/api/v1/display-rules/"+base.ID, map[string]any{"enabled": false}).expect(200)
	s.createTicket(t, p.agentTok, map[string]any{"subject": "No plan " + tag, "category": cat})
	s.call(t, s.admin, "PATCH", "/api/v1/display-rules/"+base.ID, map[string]any{"enabled": true}).expect(200)
	create(p.agentTok, nil).expectError(422, "validation_failed", "customFields."+k("plan"))
}

package api

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gofiber/fiber/v2"

	"github.com/switchboardhq/switchboard/schema"
)

var fiberParam = regexp.MustCompile(`:(\w+)`)

// TestOpenAPI checks that the embedded document is valid OpenAPI and that it describes every
// route the app registers, and nothing else.
func TestOpenAPI(t *testing.T) {
	doc, err := LoadOpenAPI()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}

	// With no database or Temporal client, New only registers the routes.
	app := New(nil, nil, DefaultConfig(), slog.New(slog.DiscardHandler), nil)
	routes := map[string]bool{} // "METHOD /path/{param}"
	for _, r := range app.GetRoutes(true) {
		if r.Method == http.MethodHead || r.Path == "/" || r.Path == "/api/v1" || strings.HasSuffix(r.Path, "*") {
			continue
		}
		path := fiberParam.ReplaceAllString(r.Path, "{$1}")
		key := r.Method + " " + path
		if routes[key] {
			continue
		}
		routes[key] = true
		item := doc.Paths.Find(path)
		if item == nil {
			t.Errorf("%s: path %s is not in openapi.yaml", key, path)
			continue
		}
		if item.GetOperation(r.Method) == nil {
			t.Errorf("%s: openapi.yaml has no %s operation for %s", key, r.Method, path)
		}
	}
	if len(routes) == 0 {
		t.Fatal("the app registered no routes")
	}

	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !routes[method+" "+path] {
				t.Errorf("openapi.yaml describes %s %s, which the app does not route", method, path)
			}
		}
	}
}

// TestOpenAPIResponseSchemas marshals the values the handlers answer with and checks them
// against the document's schemas: each must validate, and each JSON property must be listed.
func TestOpenAPIResponseSchemas(t *testing.T) {
	doc, err := LoadOpenAPI()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	now := time.Date(2026, 11, 21, 9, 0, 0, 123456000, time.UTC)
	later := now.Add(90 * time.Minute)
	org, boss, ext, owner, team := "org-1", "boss-1", "204", "agent-1", "team-1"
	cur := "eyJpZCI6IjEifQ"

	bare := schema.Person{ID: "p-1", Kind: "person", Profile: "customer", Role: "customer", Name: "Ana",
		Emails: []string{}, Phones: []string{}, DepartmentIDs: []string{}, CustomFields: map[string]any{},
		IsActive: true, CreatedAt: now, UpdatedAt: now}
	full := bare
	full.Emails, full.Phones, full.DepartmentIDs = []string{"ana@example.com"}, []string{"+55 11 5555"}, []string{"dep-1"}
	full.OrganizationID, full.BossID, full.Extension = &org, &boss, &ext
	full.CustomFields = map[string]any{"plan": "gold", "seats": 3}
	tm := schema.Team{ID: "team-1", Name: "Support", IsActive: true, MemberIDs: []string{"agent-1"}, CreatedAt: now, UpdatedAt: now}
	st := schema.Status{Name: "Waiting", BaseStatus: schema.BaseStopped, RequiresJustification: true, Position: 35,
		IsActive: true, CreatedAt: now, UpdatedAt: now}

	tk := schema.Ticket{ID: 42, Protocol: "20261121-000042", Type: "public", Subject: "Printer", Status: "New",
		BaseStatus: schema.BaseNew, Origin: schema.OriginAPI, ClientIDs: []string{"p-1"}, Tags: []string{},
		CustomFields: map[string]any{}, CreatedBy: "agent-1", CreatedAt: now, UpdatedAt: now, Seq: 1}
	closed := tk
	closed.ID, closed.OwnerID, closed.TeamID, closed.ResolvedAt, closed.ClosedAt = 43, &owner, &team, &later, &later
	closed.BaseStatus, closed.Status, closed.ActionCount, closed.Seq, closed.RunID = schema.BaseClosed, "Closed", 1, 7, "run-1"
	s := &Server{cfg: DefaultConfig()}
	view := s.view(&schema.TicketDetail{Ticket: closed,
		Actions: []schema.Action{{TicketID: 43, ID: 1, Type: "internal", Body: "note", AuthorID: owner,
			Origin: schema.OriginWebAgent, CreatedAt: now}},
		StatusHistory: []schema.StatusChange{
			{TicketID: 43, Seq: 1, Status: "New", BaseStatus: schema.BaseNew, ChangedBy: owner, StartedAt: now, EndedAt: &later},
			{TicketID: 43, Seq: 2, Status: "Closed", BaseStatus: schema.BaseClosed, ChangedBy: owner, StartedAt: later}},
		OwnerHistory: []schema.OwnerChange{
			{TicketID: 43, Seq: 1, ChangedBy: owner, StartedAt: now, EndedAt: &later},
			{TicketID: 43, Seq: 2, OwnerID: &owner, TeamID: &team, ChangedBy: owner, StartedAt: later}}})
	empty := s.view(&schema.TicketDetail{Ticket: tk})
	customer := s.view(&schema.TicketDetail{Ticket: closed, Actions: []schema.Action{}})
	customer.forCustomer()
	summaries := []ticketSummary{s.summary(tk, now), view.ticketSummary, customer.ticketSummary}

	cases := []struct {
		schema string
		value  any
	}{
		{"Person", bare},
		{"Person", full},
		{"PersonPage", makePage([]schema.Person{bare, full}, 1, func(p schema.Person) cursor { return cursor{ID: p.ID} })},
		{"PersonPage", makePage([]schema.Person(nil), 25, func(p schema.Person) cursor { return cursor{ID: p.ID} })},
		{"Team", tm},
		{"TeamPage", page[schema.Team]{Data: []schema.Team{tm}, NextCursor: &cur}},
		{"Status", st},
		{"StatusPage", page[schema.Status]{Data: []schema.Status{st}}},
		{"Ticket", summaries[0]},
		{"Ticket", summaries[1]},
		{"TicketPage", makePage(summaries, 1, func(ticketSummary) cursor { return cursor{ID: "42"} })},
		{"TicketDetail", view},
		{"TicketDetail", customer},
		{"TicketDetail", empty},
		{"Error", fiber.Map{"error": errInvalid(map[string]string{"subject": "is required"})}},
		{"Error", fiber.Map{"error": errNotFound("no ticket %d", 7)}},
		{"Error", fiber.Map{"error": errUnavailable("Temporal")}},
	}
	checkSchemas(t, doc, cases)
}

// schemaCase is a Go value and the OpenAPI component schema its JSON must match.
type schemaCase = struct {
	schema string
	value  any
}

// checkSchemas marshals each value and checks it against its schema, and that it has no
// property the schema does not list.
func checkSchemas(t *testing.T, doc *openapi3.T, cases []schemaCase) {
	t.Helper()
	for _, tc := range cases {
		ref := doc.Components.Schemas[tc.schema]
		if ref == nil || ref.Value == nil {
			t.Errorf("no schema %s", tc.schema)
			continue
		}
		b, err := json.Marshal(tc.value)
		if err != nil {
			t.Fatal(err)
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatal(err)
		}
		if err := ref.Value.VisitJSON(v); err != nil {
			t.Errorf("%s does not match %s: %v", b, tc.schema, err)
		}
		for _, p := range unlisted(ref.Value, v, tc.schema) {
			t.Errorf("%s: property %s is not in the schema", tc.schema, p)
		}
	}
}

// unlisted returns the paths of the object properties in v that s does not list, where s does
// not allow arbitrary properties.
func unlisted(s *openapi3.Schema, v any, at string) []string {
	var out []string
	switch v := v.(type) {
	case map[string]any:
		props := map[string]*openapi3.SchemaRef{}
		var collect func(s *openapi3.Schema)
		collect = func(s *openapi3.Schema) {
			for name, p := range s.Properties {
				props[name] = p
			}
			for _, sub := range s.AllOf {
				collect(sub.Value)
			}
		}
		collect(s)
		if s.AdditionalProperties.Has != nil && *s.AdditionalProperties.Has || s.AdditionalProperties.Schema != nil {
			return nil
		}
		for name, val := range v {
			p, ok := props[name]
			if !ok {
				out = append(out, at+"."+name)
				continue
			}
			out = append(out, unlisted(p.Value, val, at+"."+name)...)
		}
	case []any:
		if s.Items != nil {
			for _, item := range v {
				out = append(out, unlisted(s.Items.Value, item, at+"[]")...)
			}
		}
	}
	return out
}

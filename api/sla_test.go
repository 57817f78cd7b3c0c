package api

import (
	"encoding/json"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/sla"
)

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSLAPolicyInputApply(t *testing.T) {
	empty := ""
	// apply trims and drops an empty calendar id.
	var in slaPolicyInput
	if err := json.Unmarshal([]byte(`{"name":"  Gold  ","rules":[{}],"pauseStatuses":["Stopped","Stopped"]}`), &in); err != nil {
		t.Fatal(err)
	}
	got := schema.SLAPolicy{}
	in.apply(&got, []schema.SLARule{{Condition: "  ", Hours: " calendar ", CalendarID: &empty, ResolutionMinutes: 60}})
	if got.Name != "Gold" || got.Rules[0].Condition != "" || got.Rules[0].Hours != "calendar" || got.Rules[0].CalendarID != nil ||
		len(got.PauseStatuses) != 1 {
		t.Errorf("apply: %+v", got)
	}
}

func ptr[T any](v T) *T { return &v }

func TestDecodeSLARules(t *testing.T) {
	raw := []json.RawMessage{
		json.RawMessage(`{"condition":"","firstResponseMinutes":60,"resolutionMinutes":480,"hours":"business","calendarId":"c"}`),
		json.RawMessage(`{"hours":"calendar","resolutionMinutes":60,"sla":1}`),
		json.RawMessage(`{"hours":"calendar","resolutionMinutes":"soon"}`),
	}
	_, err := decodeSLARules(&raw)
	e := toAPIError(err)
	if e.Status != 422 || e.Fields["rules[1].sla"] == "" || e.Fields["rules[2].resolutionMinutes"] == "" || len(e.Fields) != 2 {
		t.Fatalf("decode: %v %v", err, e.Fields)
	}
	raw = raw[:1]
	rs, err := decodeSLARules(&raw)
	if err != nil || len(rs) != 1 || rs[0].FirstResponseMinutes != 60 || *rs[0].CalendarID != "c" {
		t.Fatalf("decode: %v %+v", err, rs)
	}
	if rs, err := decodeSLARules(nil); rs != nil || err != nil {
		t.Fatal("no rules given")
	}
}

func TestParseManualDues(t *testing.T) {
	created := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	now := time.Date(2026, 11, 21, 10, 0, 0, 0, time.UTC)
	s := func(v string) *string { return &v }
	cases := []struct {
		name   string
		in     slaDueInput
		fields []string
	}{
		{"nothing", slaDueInput{Reason: "why"}, []string{"solutionDue"}},
		{"not a time", slaDueInput{SolutionDue: s("tomorrow")}, []string{"solutionDue"}},
		{"before creation", slaDueInput{ResponseDue: s("2026-11-01T11:59:59Z")}, []string{"responseDue"}},
		{"over a year ahead", slaDueInput{SolutionDue: s("2027-11-23T10:00:00Z")}, []string{"solutionDue"}},
		{"both wrong", slaDueInput{ResponseDue: s("x"), SolutionDue: s("2020-01-01T00:00:00Z")}, []string{"responseDue", "solutionDue"}},
		{"in the past is allowed", slaDueInput{SolutionDue: s("2026-11-10T09:00:00-03:00")}, nil},
		{"at creation", slaDueInput{ResponseDue: s("2026-11-01T12:00:00Z")}, nil},
		{"both", slaDueInput{ResponseDue: s("2026-11-22T09:00:00Z"), SolutionDue: s("2027-11-20T09:00:00Z")}, nil},
	}
	for _, tc := range cases {
		resp, sol, err := parseManualDues(&tc.in, created, now)
		if tc.fields == nil {
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
			}
			if (tc.in.ResponseDue != nil) != (resp != nil) || (tc.in.SolutionDue != nil) != (sol != nil) {
				t.Errorf("%s: got %v %v", tc.name, resp, sol)
			}
			continue
		}
		e := toAPIError(err)
		if got := keys(e.Fields); e.Status != 422 || strings.Join(got, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%s: %v, want fields %v", tc.name, err, tc.fields)
		}
	}
	_, sol, _ := parseManualDues(&slaDueInput{SolutionDue: s("2026-11-10T09:00:00-03:00")}, created, now)
	if !sol.Equal(time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC)) || sol.Location() != time.UTC {
		t.Errorf("the due is kept in UTC: %v", sol)
	}
}

// TestOpenAPISLASchemas checks the SLA answers against the document's schemas.
func TestOpenAPISLASchemas(t *testing.T) {
	doc, err := LoadOpenAPI()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	now := time.Date(2026, 11, 21, 9, 0, 0, 123456000, time.UTC)
	cal, cur, actor, target := "cal-1", "eyJpZCI6IjEifQ", "agent-1", schema.TargetResolution
	pol := schema.SLAPolicy{ID: "p-1", Name: "Standard", IsDefault: true, PauseStatuses: []string{"Stopped"}, WarningMinutes: 30,
		Version: 2, CreatedAt: now, UpdatedAt: now, Rules: []schema.SLARule{
			{Condition: "ticket.urgency == 'Urgent'", FirstResponseMinutes: 30, ResolutionMinutes: 240, Hours: "business", CalendarID: &cal},
			{ResolutionMinutes: 480, Hours: "calendar"}}}
	bare := schema.SLAPolicy{ID: "p-2", Name: "Bare", CreatedAt: now, UpdatedAt: now}
	normalizeSLAPolicy(&bare)
	withSLA := ticketSLA{State: sla.StateOverdue, ResponseDue: &now, SolutionDue: &now, IsPaused: true, RealResponseDate: &now,
		PolicyID: &pol.ID, ManualBy: &actor, Events: []schema.SLAEvent{
			{ID: 1, TicketID: 7, Type: schema.SLAApplied, At: now, DueAt: &now, Target: &target, DedupeKey: "k"},
			{ID: 2, TicketID: 7, Type: schema.SLAManual, At: now, Reason: "customer asked", ActorID: &actor, DedupeKey: "k2"}}}
	none := ticketSLA{State: sla.StateNone, Events: []schema.SLAEvent{}}
	tk := schema.Ticket{ID: 42, Protocol: "20261121-000042", Type: "public", Subject: "Printer", Status: "New",
		BaseStatus: schema.BaseNew, Origin: schema.OriginAPI, ClientIDs: []string{}, Tags: []string{},
		CustomFields: map[string]any{}, CreatedBy: "agent-1", CreatedAt: now, UpdatedAt: now, Seq: 1,
		SLAPolicyID: &pol.ID, SLAResponseDue: &now, SLASolutionDue: &now, SLARealResponseDate: &now, SLAManualBy: &actor}
	s := &Server{cfg: DefaultConfig()}
	cases := []struct {
		schema string
		value  any
	}{
		{"SLAPolicy", pol},
		{"SLAPolicy", bare},
		{"SLAPolicyPage", makePage([]schema.SLAPolicy{pol, bare}, 1, func(p schema.SLAPolicy) cursor { return cursor{ID: p.ID} })},
		{"SLAPolicyPage", page[schema.SLAPolicy]{Data: []schema.SLAPolicy{}, NextCursor: &cur}},
		{"TicketSLA", withSLA},
		{"TicketSLA", none},
		{"Ticket", func() ticketSummary { v := s.summary(tk, time.Now()); v.Overdue = true; return v }()},
		{"TicketDetail", s.view(&schema.TicketDetail{Ticket: tk})},
	}
	checkSchemas(t, doc, cases)
}

func TestCheckDueOrder(t *testing.T) {
	at := func(h int) *time.Time { v := time.Date(2026, 12, 1, h, 0, 0, 0, time.UTC); return &v }
	stored := &schema.Ticket{SLAResponseDue: at(10), SLASolutionDue: at(18)}
	answered := &schema.Ticket{SLAResponseDue: at(10), SLASolutionDue: at(18), SLARealResponseDate: at(9)}
	cases := []struct {
		name               string
		t                  *schema.Ticket
		response, solution *time.Time
		field              string // "" = accepted
	}{
		{"both, in order", stored, at(11), at(12), ""},
		{"both, equal", stored, at(12), at(12), ""},
		{"both, response after solution", stored, at(13), at(12), "responseDue"},
		{"response after the stored solution", stored, at(19), nil, "responseDue"},
		{"solution alone, before the stored response", stored, nil, at(9), ""},
		{"response after the solution, already answered", answered, at(19), nil, "responseDue"},
		{"no stored deadlines", &schema.Ticket{}, at(9), nil, ""},
	}
	for _, tc := range cases {
		err := checkDueOrder(tc.t, tc.response, tc.solution)
		if tc.field == "" {
			require.NoError(t, err, tc.name)
			continue
		}
		var e *Error
		require.ErrorAs(t, err, &e, tc.name)
		require.Equal(t, 422, e.Status, tc.name)
		require.Contains(t, e.Fields, tc.field, tc.name)
	}
}

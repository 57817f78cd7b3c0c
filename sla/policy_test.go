package sla

import (
	"sort"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/schema"
)

func keys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestSLAPolicyValidation(t *testing.T) {
	cal := "cal-1"
	gone := "cal-gone"
	refs := Refs{Calendars: map[string]bool{cal: true}, Statuses: map[string]bool{"Waiting on customer": true}}
	good := func() schema.SLAPolicy {
		return schema.SLAPolicy{Name: "Standard", PauseStatuses: []string{"Stopped", "Waiting on customer"}, WarningMinutes: 30,
			Rules: []schema.SLARule{
				{Condition: "ticket.urgency == 'Urgent'", FirstResponseMinutes: 30, ResolutionMinutes: 240, Hours: schema.HoursBusiness, CalendarID: &cal},
				{FirstResponseMinutes: 0, ResolutionMinutes: 480, Hours: schema.HoursCalendar},
			}}
	}
	if f := Problems(&[]schema.SLAPolicy{good()}[0], AllChecks, refs); len(f) > 0 {
		t.Fatalf("a good policy: %v", f)
	}
	cases := []struct {
		name   string
		mut    func(p *schema.SLAPolicy)
		fields []string
	}{
		{"no name", func(p *schema.SLAPolicy) { p.Name = "" }, []string{"name"}},
		{"long name", func(p *schema.SLAPolicy) { p.Name = strings.Repeat("x", MaxName+1) }, []string{"name"}},
		{"no rules", func(p *schema.SLAPolicy) { p.Rules = nil }, []string{"rules"}},
		{"bad condition", func(p *schema.SLAPolicy) { p.Rules[1].Condition = "ticket.urgency ==" }, []string{"rules[1].condition"}},
		{"condition not boolean", func(p *schema.SLAPolicy) { p.Rules[0].Condition = "ticket.urgency" }, []string{"rules[0].condition"}},
		{"negative response", func(p *schema.SLAPolicy) { p.Rules[0].FirstResponseMinutes = -1 }, []string{"rules[0].firstResponseMinutes"}},
		{"negative resolution", func(p *schema.SLAPolicy) { p.Rules[1].ResolutionMinutes = -5 }, []string{"rules[1].resolutionMinutes"}},
		{"too long", func(p *schema.SLAPolicy) { p.Rules[1].ResolutionMinutes = MaxMinutes + 1 }, []string{"rules[1].resolutionMinutes"}},
		{"no target", func(p *schema.SLAPolicy) { p.Rules[1].ResolutionMinutes = 0 }, []string{"rules[1]"}},
		{"no hours", func(p *schema.SLAPolicy) { p.Rules[1].Hours = "" }, []string{"rules[1].hours"}},
		{"bad hours", func(p *schema.SLAPolicy) { p.Rules[1].Hours = "weekdays" }, []string{"rules[1].hours"}},
		{"business without calendar", func(p *schema.SLAPolicy) { p.Rules[0].CalendarID = nil }, []string{"rules[0].calendarId"}},
		{"unknown calendar", func(p *schema.SLAPolicy) { p.Rules[0].CalendarID = &gone }, []string{"rules[0].calendarId"}},
		{"calendar hours, unknown calendar", func(p *schema.SLAPolicy) { p.Rules[1].CalendarID = &gone }, []string{"rules[1].calendarId"}},
		{"unknown pause status", func(p *schema.SLAPolicy) { p.PauseStatuses = []string{"Stopped", "Nope"} }, []string{"pauseStatuses[1]"}},
		{"negative warning", func(p *schema.SLAPolicy) { p.WarningMinutes = -1 }, []string{"warningMinutes"}},
		{"warning over a week", func(p *schema.SLAPolicy) { p.WarningMinutes = MaxWarning + 1 }, []string{"warningMinutes"}},
		{"everything at once", func(p *schema.SLAPolicy) {
			p.Name, p.WarningMinutes, p.Rules[0].Hours = "", 20000, "x"
		}, []string{"name", "rules[0].hours", "warningMinutes"}},
	}
	for _, tc := range cases {
		p := good()
		p.Rules = append([]schema.SLARule(nil), p.Rules...)
		tc.mut(&p)
		f := Problems(&p, AllChecks, refs)
		if got := keys(f); strings.Join(got, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%s: fields %v, want %v (%v)", tc.name, got, tc.fields, f)
		}
	}

	// The condition's message says where it went wrong.
	p := good()
	p.Rules[0].Condition = "ticket.urgency == 'High' &&"
	if msg := Problems(&p, AllChecks, refs)["rules[0].condition"]; !strings.Contains(msg, "line 1, column") {
		t.Errorf("condition message without position: %q", msg)
	}

	// Boundaries pass: 0 warning, the largest target, calendar hours with a known calendar.
	p = good()
	p.WarningMinutes, p.Rules[1].ResolutionMinutes, p.Rules[1].CalendarID = 0, MaxMinutes, &cal
	if f := Problems(&p, AllChecks, refs); len(f) > 0 {
		t.Errorf("boundaries: %v", f)
	}

	// On update only what was given is checked.
	p = good()
	p.Rules[0].CalendarID = &gone
	if f := Problems(&p, Checks{Name: true}, refs); len(f) > 0 {
		t.Errorf("a rename checks only the name: %v", f)
	}
}

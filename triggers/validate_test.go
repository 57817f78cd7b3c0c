package triggers

import (
	"sort"
	"strings"
	"testing"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

func TestProblems(t *testing.T) {
	good := func() schema.Trigger {
		return schema.Trigger{Name: "Urgent to Tier 2", Events: []string{rules.EventTime}, Condition: "ticket.urgency == 'Urgent'",
			Timer: &rules.Timer{After: "2h", From: rules.FromCreatedAt}, Position: 10}
	}
	if f := Problems(&[]schema.Trigger{good()}[0], AllChecks); len(f) > 0 {
		t.Fatalf("a good trigger: %v", f)
	}
	cases := []struct {
		name   string
		mut    func(tr *schema.Trigger)
		what   Checks
		fields []string
	}{
		{"no name", func(tr *schema.Trigger) { tr.Name = "" }, AllChecks, []string{"name"}},
		{"long name", func(tr *schema.Trigger) { tr.Name = strings.Repeat("é", MaxName+1) }, AllChecks, []string{"name"}},
		{"no events", func(tr *schema.Trigger) { tr.Events, tr.Timer = nil, nil }, AllChecks, []string{"events"}},
		{"unknown event", func(tr *schema.Trigger) { tr.Events = append(tr.Events, "ticket.eaten") }, AllChecks, []string{"events[1]"}},
		{"bad condition", func(tr *schema.Trigger) { tr.Condition = "ticket.urgency ==" }, AllChecks, []string{"condition"}},
		{"time event without timer", func(tr *schema.Trigger) { tr.Timer = nil }, AllChecks, []string{"timer"}},
		{"timer without time event", func(tr *schema.Trigger) { tr.Events = []string{rules.Events[0]} }, AllChecks, []string{"timer"}},
		{"position", func(tr *schema.Trigger) { tr.Position = MaxPosition + 1 }, AllChecks, []string{"position"}},
		{"negative position", func(tr *schema.Trigger) { tr.Position = -1 }, AllChecks, []string{"position"}},
		{"a rename checks only the name", func(tr *schema.Trigger) { tr.Condition, tr.Position = "((", -1 }, Checks{Name: true}, nil},
	}
	for _, tc := range cases {
		tr := good()
		tc.mut(&tr)
		f := Problems(&tr, tc.what)
		got := make([]string, 0, len(f))
		for k := range f {
			got = append(got, k)
		}
		sort.Strings(got)
		if strings.Join(got, ",") != strings.Join(tc.fields, ",") {
			t.Errorf("%s: fields %v, want %v (%v)", tc.name, got, tc.fields, f)
		}
	}
}

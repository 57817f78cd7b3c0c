package api

import (
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/internal/calendar"
	"github.com/switchboardhq/switchboard/schema"
)

// TestOpenAPICalendarSchemas checks the calendar answers against the document's schemas.
func TestOpenAPICalendarSchemas(t *testing.T) {
	doc, err := LoadOpenAPI()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	now := time.Date(2026, 11, 21, 9, 0, 0, 123456000, time.UTC)
	cur := "eyJpZCI6IjEifQ"
	empty := schema.Calendar{ID: "cal-1", Name: "Closed", Timezone: "UTC", CreatedAt: now, UpdatedAt: now}
	normalizeCalendar(&empty)
	full := schema.Calendar{ID: "cal-2", Name: "Office", Timezone: "America/Sao_Paulo",
		Week: map[string][]calendar.Interval{
			"monday":   {{Start: "09:00", End: "12:00"}, {Start: "13:00", End: "18:00"}},
			"friday":   {{Start: "22:00", End: "02:00"}},
			"saturday": {{Start: "10:00", End: "24:00"}},
			"sunday":   nil,
		},
		Holidays: []calendar.Holiday{{Date: "2026-12-25", Name: "Christmas", Recurring: true}, {Date: "2026-11-20"}},
		Exceptions: []calendar.Exception{
			{Date: "2026-12-24", Name: "Christmas Eve", Intervals: []calendar.Interval{{Start: "09:00", End: "13:00"}}},
			{Date: "2026-11-21", Name: "Launch", Intervals: []calendar.Interval{{Start: "10:00", End: "16:00"}, {Start: "22:00", End: "01:00"}}},
			{Date: "2026-12-25", Name: "Open on Christmas morning", Intervals: []calendar.Interval{{Start: "09:00", End: "12:00"}}},
			{Date: "2026-12-31"}, // closed; answered with intervals []
		},
		CreatedAt: now, UpdatedAt: now}
	normalizeCalendar(&full)
	if f := full.Spec().Validate(); len(f) > 0 {
		t.Fatalf("fixture is invalid: %v", f)
	}
	if empty.Exceptions == nil || full.Exceptions[3].Intervals == nil {
		t.Fatal("normalizeCalendar leaves null exceptions or intervals")
	}
	cases := []struct {
		schema string
		value  any
	}{
		{"Calendar", empty},
		{"Calendar", full},
		{"CalendarPage", makePage([]schema.Calendar{empty, full}, 1, func(c schema.Calendar) cursor { return cursor{ID: c.ID} })},
		{"CalendarPage", page[schema.Calendar]{Data: []schema.Calendar{full}, NextCursor: &cur}},
		{"CalendarPage", makePage([]schema.Calendar(nil), 25, func(c schema.Calendar) cursor { return cursor{ID: c.ID} })},
		{"CalendarCreate", map[string]any{"name": "Office", "timezone": "UTC", "week": full.Week, "holidays": full.Holidays,
			"exceptions": full.Exceptions}},
		{"CalendarCreate", map[string]any{"name": "Office", "timezone": "UTC", "exceptions": []map[string]any{{"date": "2026-12-31"}}}},
		{"CalendarUpdate", map[string]any{"week": map[string]any{}}},
		{"CalendarUpdate", map[string]any{"exceptions": []any{}}},
	}
	checkSchemas(t, doc, cases)
	// The document's interval patterns refuse what calendar.Spec.Validate refuses.
	interval := doc.Components.Schemas["CalendarInterval"].Value
	for _, bad := range []map[string]any{{"start": "24:00", "end": "10:00"}, {"start": "9:00", "end": "10:00"},
		{"start": "09:00", "end": "24:01"}, {"start": "09:00"}} {
		if interval.VisitJSON(bad) == nil {
			t.Errorf("CalendarInterval accepts %v", bad)
		}
	}
	exception := doc.Components.Schemas["CalendarException"].Value
	for _, bad := range []map[string]any{{"name": "no date"}, {"date": "2026-12-24", "intervals": "09:00-13:00"},
		{"date": "2026-12-24", "closed": true}, {"date": "2026-12-24", "intervals": []any{map[string]any{"start": "09:00"}}}} {
		if exception.VisitJSON(bad) == nil {
			t.Errorf("CalendarException accepts %v", bad)
		}
	}
}

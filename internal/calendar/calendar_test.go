package calendar

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

func mustCompile(t *testing.T, s Spec) *Calendar {
	t.Helper()
	c, err := s.Compile()
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return c
}

// local parses "2006-01-02 15:04[:05]" as wall-clock time in loc.
func local(t *testing.T, loc *time.Location, s string) time.Time {
	t.Helper()
	layout := "2006-01-02 15:04"
	if len(s) == len("2006-01-02 15:04:05") {
		layout = "2006-01-02 15:04:05"
	}
	v, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func iv(start, end string) Interval { return Interval{Start: start, End: end} }

var office = Spec{
	Timezone: "America/Sao_Paulo", // UTC-3 all year
	Week: map[string][]Interval{
		"monday":    {iv("09:00", "12:00"), iv("13:00", "18:00")},
		"tuesday":   {iv("09:00", "12:00"), iv("13:00", "18:00")},
		"wednesday": {iv("13:00", "18:00"), iv("09:00", "12:00")}, // order does not matter
		"thursday":  {iv("09:00", "12:00"), iv("13:00", "18:00"), iv("22:00", "02:00")},
		"friday":    {iv("09:00", "12:00"), iv("13:00", "18:00"), iv("20:00", "24:00")},
		"saturday":  {iv("00:00", "01:00"), iv("09:00", "13:00")},
	},
	Holidays: []Holiday{
		{Date: "2026-11-27", Name: "Company day"},
		{Date: "2020-12-25", Name: "Christmas", Recurring: true},
		{Date: "2026-12-31", Name: "New Year's Eve"},
		{Date: "2024-02-29", Name: "Leap day", Recurring: true},
	},
}

func TestIsOpen(t *testing.T) {
	c := mustCompile(t, office)
	loc := c.Location()
	cases := []struct {
		at   string // wall clock in America/Sao_Paulo
		open bool
		why  string
	}{
		{"2026-11-23 08:59:59", false, "Monday before opening"},
		{"2026-11-23 09:00", true, "Monday opening minute"},
		{"2026-11-23 11:59:59", true, "Monday last second of the morning"},
		{"2026-11-23 12:00", false, "lunch starts at the interval's end"},
		{"2026-11-23 12:30", false, "lunch"},
		{"2026-11-23 13:00", true, "afternoon"},
		{"2026-11-23 17:59", true, "last minute"},
		{"2026-11-23 18:00", false, "end is exclusive"},
		{"2026-11-23 23:00", false, "Monday night"},
		{"2026-11-25 09:30", true, "Wednesday, intervals listed out of order"},
		{"2026-11-25 12:15", false, "Wednesday lunch"},
		{"2026-11-21 09:00", true, "Saturday morning"},
		{"2026-11-21 13:00", false, "Saturday afternoon"},
		{"2026-11-22 10:00", false, "Sunday is missing: closed"},
		{"2026-11-22 00:30", false, "Sunday night after Saturday"},

		{"2026-11-19 21:59", false, "Thursday before the night shift"},
		{"2026-11-19 22:00", true, "Thursday night shift"},
		{"2026-11-19 23:59:59", true, "Thursday night shift before midnight"},
		{"2026-11-20 00:00", true, "night shift after midnight, on Friday"},
		{"2026-11-20 01:59:59", true, "night shift's last second"},
		{"2026-11-20 02:00", false, "night shift over"},
		{"2026-11-20 20:00", true, "Friday evening"},
		{"2026-11-20 23:59:59", true, "Friday evening until 24:00"},
		{"2026-11-21 00:00", true, "Saturday's own 00:00-01:00"},
		{"2026-11-21 00:59:59", true, "Saturday's own 00:00-01:00, last second"},
		{"2026-11-21 01:00", false, "after Saturday's 00:00-01:00"},

		{"2026-11-26 23:00", true, "night shift starting the evening before a holiday"},
		{"2026-11-27 01:00", false, "a holiday closes its whole date, the spill of the night shift too"},
		{"2026-11-27 10:00", false, "holiday (one-off)"},
		{"2026-11-27 21:00", false, "holiday evening"},
		{"2026-11-28 00:30", true, "the day after a holiday opens as usual"},
		{"2027-11-26 10:00", true, "a one-off holiday does not recur"},

		{"2026-12-24 23:00", true, "Christmas Eve night shift"},
		{"2026-12-25 01:00", false, "recurring Christmas closes the spill"},
		{"2026-12-25 10:00", false, "recurring Christmas 2026"},
		{"2027-12-25 10:00", false, "recurring Christmas 2027 (Saturday)"},
		{"2019-12-25 10:00", false, "recurring holidays recur before the year written too"},
		{"2026-12-31 10:00", false, "New Year's Eve"},
		{"2026-12-31 23:00", false, "a shift starting on a holiday does not happen"},
		{"2027-01-01 01:00", false, "nor its part after midnight, though Jan 1 is no holiday here"},
		{"2027-01-01 10:00", true, "Jan 1 is a working day in this calendar"},
		{"2028-02-29 10:00", false, "recurring leap day"},
		{"2027-03-01 10:00", true, "no Feb 29 in 2027: Mar 1 is not the leap-day holiday"},
	}
	for _, tc := range cases {
		at := local(t, loc, tc.at)
		if got := c.IsOpen(at); got != tc.open {
			t.Errorf("%s (%s, %s): open = %v, want %v", tc.at, at.Weekday(), tc.why, got, tc.open)
		}
	}
}

func TestIsOpenWithExceptions(t *testing.T) {
	c := mustCompile(t, seasonal)
	loc := c.Location()
	cases := []struct {
		at   string // wall clock in America/Sao_Paulo
		open bool
		why  string
	}{
		{"2026-11-19 23:00", true, "Thursday night shift"},
		{"2026-11-20 01:00", false, "a date with an exception takes no part after midnight of the night before"},
		{"2026-11-20 08:59:59", false, "exception on a holiday, before its opening"},
		{"2026-11-20 09:00", true, "exception on a holiday: the exception wins"},
		{"2026-11-20 11:59:59", true, "exception on a holiday, last second"},
		{"2026-11-20 12:00", false, "exception on a holiday, end is exclusive"},
		{"2026-11-20 14:00", false, "the exception replaces the weekday's afternoon"},
		{"2026-11-21 09:59:59", false, "Saturday opening, before it"},
		{"2026-11-21 10:00", true, "Saturday opening"},
		{"2026-11-21 15:59:59", true, "Saturday opening, last second"},
		{"2026-11-21 16:00", false, "Saturday opening over"},
		{"2026-11-28 10:00", false, "the next Saturday is closed as usual"},
		{"2026-11-23 09:00", true, "the Monday after follows its weekday"},

		{"2026-11-26 10:00", true, "Thursday exception, morning"},
		{"2026-11-26 14:00", false, "Thursday exception has no afternoon"},
		{"2026-11-26 20:59", false, "Thursday exception, before its night"},
		{"2026-11-26 21:00", true, "Thursday exception's night, earlier than the weekday's"},
		{"2026-11-27 02:59:59", true, "an exception's night runs past midnight into a regular date"},
		{"2026-11-27 03:00", false, "and ends as written"},
		{"2026-11-27 09:00", true, "Friday as usual"},

		{"2026-12-03 23:00", true, "Thursday night shift before a Friday with an exception"},
		{"2026-12-04 01:00", false, "the exception decides all of its date: no night shift after midnight"},
		{"2026-12-04 09:30", false, "late start"},
		{"2026-12-04 10:00", true, "late start opening"},
		{"2026-12-04 13:59", true, "late start, over lunch"},
		{"2026-12-04 14:00", false, "late start, early end"},
		{"2026-12-04 17:00", false, "no weekday afternoon"},

		{"2026-12-23 10:00", false, "Wednesday exception opens at 13:00"},
		{"2026-12-23 13:00", true, "Wednesday exception"},
		{"2026-12-23 23:59:59", true, "Wednesday exception before midnight"},
		{"2026-12-24 00:30", false, "its part after midnight falls on another exception's date: it does not happen"},
		{"2026-12-24 09:00", true, "short Christmas Eve"},
		{"2026-12-24 12:59:59", true, "short Christmas Eve, last second"},
		{"2026-12-24 13:00", false, "short Christmas Eve is over"},
		{"2026-12-24 15:00", false, "no Christmas Eve afternoon"},
		{"2026-12-24 22:30", false, "no Thursday night shift on Christmas Eve"},
		{"2026-12-25 01:00", false, "nor its part after midnight"},
		{"2026-12-25 10:00", false, "Christmas, a holiday"},
		{"2026-12-26 22:00", true, "Saturday night exception"},
		{"2026-12-27 01:59", true, "its part after midnight, on a Sunday"},
		{"2026-12-27 02:00", false, "over"},
		{"2027-12-24 10:00", true, "a one-off exception does not recur"},
		{"2027-12-24 14:00", true, "a one-off exception does not recur (afternoon)"},

		{"2026-12-30 10:00", true, "Wednesday before a closing exception"},
		{"2026-12-31 10:00", false, "closing exception"},
		{"2026-12-31 23:00", false, "closing exception: no night shift"},
		{"2027-01-01 01:00", false, "nor after midnight on the holiday"},
		{"2027-01-02 19:59", false, "Saturday inventory, before"},
		{"2027-01-02 20:00", true, "Saturday inventory"},
		{"2027-01-03 03:59:59", true, "Saturday inventory, into Sunday"},
		{"2027-01-03 04:00", false, "Saturday inventory over"},
	}
	for _, tc := range cases {
		at := local(t, loc, tc.at)
		if got := c.IsOpen(at); got != tc.open {
			t.Errorf("%s (%s, %s): open = %v, want %v", tc.at, at.Weekday(), tc.why, got, tc.open)
		}
	}
	// The exception on a holiday wins: the date is not a holiday any more.
	if name, ok := c.Holiday(local(t, loc, "2026-11-20 10:00")); ok {
		t.Errorf("2026-11-20 has an exception, but is holiday %q", name)
	}
	if name, ok := c.Holiday(local(t, loc, "2026-12-25 10:00")); !ok || name != "Natal" {
		t.Errorf("2026-12-25: holiday %q %v, want Natal", name, ok)
	}
	if c.IsHoliday(local(t, loc, "2026-12-31 10:00")) {
		t.Error("a closing exception is not a holiday")
	}
}

func TestIsOpenUsesTheCalendarsZone(t *testing.T) {
	c := mustCompile(t, office)
	cases := []struct {
		at   string
		open bool
	}{
		{"2026-11-23T11:59:00Z", false}, // 08:59 in São Paulo
		{"2026-11-23T12:00:00Z", true},  // 09:00
		{"2026-11-23T20:59:00Z", true},  // 17:59
		{"2026-11-23T21:00:00Z", false}, // 18:00
		{"2026-11-23T13:30:00+01:00", true},
	}
	for _, tc := range cases {
		if got := c.IsOpen(utc(t, tc.at)); got != tc.open {
			t.Errorf("%s: open = %v, want %v", tc.at, got, tc.open)
		}
	}
}

func TestIsHoliday(t *testing.T) {
	c := mustCompile(t, office)
	cases := []struct {
		at      string
		holiday bool
		name    string
	}{
		{"2026-11-27T03:00:00Z", true, "Company day"}, // 00:00 local
		{"2026-11-27T02:59:59Z", false, ""},           // 23:59:59 on the 26th, local
		{"2026-11-28T02:30:00Z", true, "Company day"}, // 23:30 on the 27th, local
		{"2026-11-28T03:00:00Z", false, ""},           // the 28th
		{"2031-12-25T15:00:00Z", true, "Christmas"},   // recurring
		{"2026-12-31T12:00:00Z", true, "New Year's Eve"},
		{"2027-12-31T12:00:00Z", false, ""}, // one-off
		{"2032-02-29T12:00:00Z", true, "Leap day"},
	}
	for _, tc := range cases {
		at := utc(t, tc.at)
		if got := c.IsHoliday(at); got != tc.holiday {
			t.Errorf("%s: holiday = %v, want %v", tc.at, got, tc.holiday)
		}
		if name, _ := c.Holiday(at); name != tc.name {
			t.Errorf("%s: holiday name = %q, want %q", tc.at, name, tc.name)
		}
	}
}

// openMinutes counts the minutes from..to (UTC instants, one a minute) at which c is open.
func openMinutes(c *Calendar, from, to time.Time) int {
	n := 0
	for at := from; at.Before(to); at = at.Add(time.Minute) {
		if c.IsOpen(at) {
			n++
		}
	}
	return n
}

func TestDaylightSavingNewYork(t *testing.T) {
	// 2026-03-08: 02:00 EST (07:00Z) jumps to 03:00 EDT. 2026-11-01: 02:00 EDT (06:00Z) falls back
	// to 01:00 EST. Both are Sundays.
	c := mustCompile(t, Spec{Timezone: "America/New_York", Week: map[string][]Interval{
		"sunday": {iv("01:00", "01:30"), iv("02:10", "02:50"), iv("03:00", "04:00")},
		"monday": {iv("09:00", "17:00")},
		"friday": {iv("09:00", "17:00")},
	}})
	cases := []struct {
		at   string
		open bool
		why  string
	}{
		{"2026-03-08T06:15:00Z", true, "01:15 EST"},
		{"2026-03-08T06:30:00Z", false, "01:30 EST"},
		{"2026-03-08T06:59:59Z", false, "01:59:59 EST; 02:10-02:50 never happens"},
		{"2026-03-08T07:00:00Z", true, "03:00 EDT, right after the jump"},
		{"2026-03-08T07:59:59Z", true, "03:59:59 EDT"},
		{"2026-03-08T08:00:00Z", false, "04:00 EDT"},
		{"2026-03-06T13:59:00Z", false, "Friday 08:59 EST"},
		{"2026-03-06T14:00:00Z", true, "Friday 09:00 EST"},
		{"2026-03-06T21:59:00Z", true, "Friday 16:59 EST"},
		{"2026-03-06T22:00:00Z", false, "Friday 17:00 EST"},
		{"2026-03-09T12:59:00Z", false, "Monday 08:59 EDT"},
		{"2026-03-09T13:00:00Z", true, "Monday 09:00 EDT: same wall clock, an hour earlier in UTC"},
		{"2026-03-09T20:59:00Z", true, "Monday 16:59 EDT"},
		{"2026-03-09T21:00:00Z", false, "Monday 17:00 EDT"},

		{"2026-11-01T05:15:00Z", true, "01:15 EDT, the first time"},
		{"2026-11-01T05:45:00Z", false, "01:45 EDT"},
		{"2026-11-01T06:15:00Z", true, "01:15 EST, the second time"},
		{"2026-11-01T06:45:00Z", false, "01:45 EST"},
		{"2026-11-01T07:10:00Z", true, "02:10 EST"},
		{"2026-11-01T07:50:00Z", false, "02:50 EST"},
		{"2026-11-01T08:00:00Z", true, "03:00 EST"},
		{"2026-11-01T09:00:00Z", false, "04:00 EST"},
		{"2026-11-02T13:59:00Z", false, "Monday 08:59 EST"},
		{"2026-11-02T14:00:00Z", true, "Monday 09:00 EST"},
	}
	for _, tc := range cases {
		if got := c.IsOpen(utc(t, tc.at)); got != tc.open {
			t.Errorf("%s (%s): open = %v, want %v", tc.at, tc.why, got, tc.open)
		}
	}
	// Whole days in real minutes: spring-forward loses 02:10-02:50; fall-back repeats 01:00-01:30.
	if n := openMinutes(c, utc(t, "2026-03-08T05:00:00Z"), utc(t, "2026-03-09T04:00:00Z")); n != 30+60 {
		t.Errorf("2026-03-08 open minutes = %d, want 90", n)
	}
	if n := openMinutes(c, utc(t, "2026-11-01T04:00:00Z"), utc(t, "2026-11-02T05:00:00Z")); n != 30+30+40+60 {
		t.Errorf("2026-11-01 open minutes = %d, want 160", n)
	}
}

func TestDaylightSavingLisbon(t *testing.T) {
	// 2026-03-29: 01:00 WET (01:00Z) jumps to 02:00 WEST. 2026-10-25: 02:00 WEST (01:00Z) falls
	// back to 01:00 WET.
	c := mustCompile(t, Spec{Timezone: "Europe/Lisbon", Week: map[string][]Interval{
		"saturday": {iv("23:00", "03:00")},
		"monday":   {iv("09:00", "18:00")},
	}})
	cases := []struct {
		at   string
		open bool
		why  string
	}{
		{"2026-03-28T22:59:00Z", false, "Saturday 22:59 WET"},
		{"2026-03-28T23:00:00Z", true, "Saturday 23:00 WET"},
		{"2026-03-29T00:59:59Z", true, "Sunday 00:59:59 WET"},
		{"2026-03-29T01:00:00Z", true, "Sunday 02:00 WEST, right after the jump"},
		{"2026-03-29T01:59:59Z", true, "Sunday 02:59:59 WEST"},
		{"2026-03-29T02:00:00Z", false, "Sunday 03:00 WEST"},
		{"2026-03-30T07:59:00Z", false, "Monday 08:59 WEST"},
		{"2026-03-30T08:00:00Z", true, "Monday 09:00 WEST"},
		{"2026-03-30T16:59:00Z", true, "Monday 17:59 WEST"},
		{"2026-03-30T17:00:00Z", false, "Monday 18:00 WEST"},
		{"2026-03-23T08:59:00Z", false, "Monday 08:59 WET, a week before"},
		{"2026-03-23T09:00:00Z", true, "Monday 09:00 WET, a week before"},

		{"2026-10-24T21:59:00Z", false, "Saturday 22:59 WEST"},
		{"2026-10-24T22:00:00Z", true, "Saturday 23:00 WEST"},
		{"2026-10-25T00:30:00Z", true, "Sunday 01:30 WEST"},
		{"2026-10-25T01:30:00Z", true, "Sunday 01:30 WET, the second time"},
		{"2026-10-25T02:59:59Z", true, "Sunday 02:59:59 WET"},
		{"2026-10-25T03:00:00Z", false, "Sunday 03:00 WET"},
	}
	for _, tc := range cases {
		if got := c.IsOpen(utc(t, tc.at)); got != tc.open {
			t.Errorf("%s (%s): open = %v, want %v", tc.at, tc.why, got, tc.open)
		}
	}
	// The 23:00-03:00 shift lasts 3 real hours in spring and 5 in autumn.
	if n := openMinutes(c, utc(t, "2026-03-28T12:00:00Z"), utc(t, "2026-03-29T12:00:00Z")); n != 3*60 {
		t.Errorf("spring-forward shift = %d minutes, want 180", n)
	}
	if n := openMinutes(c, utc(t, "2026-10-24T12:00:00Z"), utc(t, "2026-10-25T12:00:00Z")); n != 5*60 {
		t.Errorf("fall-back shift = %d minutes, want 300", n)
	}
}

func TestAllDayAndAlwaysOpen(t *testing.T) {
	week := map[string][]Interval{}
	for _, d := range Days {
		week[d] = []Interval{iv("00:00", "24:00")}
	}
	c := mustCompile(t, Spec{Timezone: "America/New_York", Week: week,
		Holidays: []Holiday{{Date: "2026-07-04", Name: "Independence Day", Recurring: true}}})
	// Real minutes in the spring-forward day: 23 hours.
	if n := openMinutes(c, utc(t, "2026-03-08T05:00:00Z"), utc(t, "2026-03-09T04:00:00Z")); n != 23*60 {
		t.Errorf("open minutes on 2026-03-08 = %d, want %d", n, 23*60)
	}
	if n := openMinutes(c, utc(t, "2026-11-01T04:00:00Z"), utc(t, "2026-11-02T05:00:00Z")); n != 25*60 {
		t.Errorf("open minutes on 2026-11-01 = %d, want %d", n, 25*60)
	}
	loc := c.Location()
	for _, at := range []string{"2026-07-03 23:59:59", "2026-07-05 00:00"} {
		if !c.IsOpen(local(t, loc, at)) {
			t.Errorf("%s: closed, want open", at)
		}
	}
	for _, at := range []string{"2026-07-04 00:00", "2026-07-04 12:00", "2026-07-04 23:59:59", "2030-07-04 12:00"} {
		if c.IsOpen(local(t, loc, at)) {
			t.Errorf("%s: open on a holiday", at)
		}
	}
}

func TestMidnightEdges(t *testing.T) {
	c := mustCompile(t, Spec{Timezone: "UTC", Week: map[string][]Interval{
		"monday":    {iv("22:00", "00:00")}, // until midnight, nothing after
		"tuesday":   {iv("23:00", "22:00")}, // 23 hours
		"wednesday": {iv("22:00", "23:00")},
		"sunday":    {iv("20:00", "02:00")},
	}})
	cases := []struct {
		at   string
		open bool
	}{
		{"2026-11-22T19:59:59Z", false}, // Sunday
		{"2026-11-22T20:00:00Z", true},
		{"2026-11-23T01:59:00Z", true}, // Monday, Sunday's spill
		{"2026-11-23T02:00:00Z", false},
		{"2026-11-23T21:59:00Z", false},
		{"2026-11-23T22:00:00Z", true},
		{"2026-11-23T23:59:59Z", true},
		{"2026-11-24T00:00:00Z", false}, // Tuesday: 22:00-00:00 left nothing
		{"2026-11-24T22:59:00Z", false},
		{"2026-11-24T23:00:00Z", true},
		{"2026-11-25T00:00:00Z", true}, // Wednesday, Tuesday's spill
		{"2026-11-25T21:59:59Z", true},
		{"2026-11-25T22:00:00Z", true}, // Wednesday's own 22:00-23:00 follows without a gap
		{"2026-11-25T22:59:59Z", true},
		{"2026-11-25T23:00:00Z", false},
	}
	for _, tc := range cases {
		if got := c.IsOpen(utc(t, tc.at)); got != tc.open {
			t.Errorf("%s (%s): open = %v, want %v", tc.at, utc(t, tc.at).Weekday(), got, tc.open)
		}
	}
}

func TestValidSpecs(t *testing.T) {
	cases := map[string]Spec{
		"closed all week":         {Timezone: "UTC"},
		"empty maps":              {Timezone: "Europe/Lisbon", Week: map[string][]Interval{}, Holidays: []Holiday{}},
		"null day":                {Timezone: "UTC", Week: map[string][]Interval{"monday": nil}},
		"whole day":               {Timezone: "UTC", Week: map[string][]Interval{"monday": {iv("00:00", "24:00")}}},
		"touching":                {Timezone: "UTC", Week: map[string][]Interval{"monday": {iv("09:00", "12:00"), iv("12:00", "13:00")}}},
		"until midnight as 00:00": {Timezone: "UTC", Week: map[string][]Interval{"monday": {iv("22:00", "00:00")}, "tuesday": {iv("00:00", "01:00")}}},
		"spill touching next day": {Timezone: "UTC", Week: map[string][]Interval{"sunday": {iv("22:00", "02:00")}, "monday": {iv("02:00", "05:00")}}},
		"23 hours":                {Timezone: "UTC", Week: map[string][]Interval{"monday": {iv("23:00", "22:00")}, "tuesday": {iv("22:00", "23:00")}}},
		"twelve a day":            {Timezone: "UTC", Week: map[string][]Interval{"friday": hourly(12)}},
		"one-off on a recurring day": {Timezone: "UTC", Holidays: []Holiday{
			{Date: "2020-12-25", Recurring: true}, {Date: "2026-12-25"}}},
		"leap day":        {Timezone: "UTC", Holidays: []Holiday{{Date: "2028-02-29", Name: "Leap", Recurring: true}}},
		"500 holidays":    {Timezone: "UTC", Holidays: holidays(500)},
		"IANA link":       {Timezone: "US/Eastern"},
		"Sao Paulo":       {Timezone: "America/Sao_Paulo"},
		"unnamed holiday": {Timezone: "UTC", Holidays: []Holiday{{Date: "2026-01-01"}}},
		"exceptions":      seasonal,
		"closing exceptions": {Timezone: "UTC", Exceptions: []Exception{
			{Date: "2026-12-24"}, {Date: "2026-12-31", Intervals: []Interval{}}}},
		"exception on a holiday": {Timezone: "UTC", Holidays: []Holiday{{Date: "2020-12-25", Recurring: true}},
			Exceptions: []Exception{{Date: "2026-12-25", Intervals: []Interval{iv("10:00", "12:00")}}}},
		"exception whole day":   {Timezone: "UTC", Exceptions: []Exception{{Date: "2026-11-21", Intervals: []Interval{iv("00:00", "24:00")}}}},
		"exception twelve":      {Timezone: "UTC", Exceptions: []Exception{{Date: "2026-11-21", Intervals: hourly(12)}}},
		"500 exceptions":        {Timezone: "UTC", Exceptions: exceptions(500)},
		"exception on leap day": {Timezone: "UTC", Exceptions: []Exception{{Date: "2028-02-29", Intervals: []Interval{iv("09:00", "10:00")}}}},
		// The part after midnight of an exception's interval does not happen on a next date that
		// is a holiday or has an exception itself: it cannot overlap that date's hours.
		"exception night into a holiday": {Timezone: "UTC", Week: map[string][]Interval{"monday": {iv("09:00", "17:00")}},
			Holidays:   []Holiday{{Date: "2026-11-23"}},
			Exceptions: []Exception{{Date: "2026-11-22", Intervals: []Interval{iv("22:00", "10:00")}}}},
		"exception night into a recurring holiday": {Timezone: "UTC", Week: map[string][]Interval{"monday": {iv("09:00", "17:00")}},
			Holidays:   []Holiday{{Date: "2020-11-23", Recurring: true}},
			Exceptions: []Exception{{Date: "2026-11-22", Intervals: []Interval{iv("22:00", "10:00")}}}},
		"exception night into an exception": {Timezone: "UTC", Week: map[string][]Interval{"monday": {iv("09:00", "17:00")}},
			Exceptions: []Exception{{Date: "2026-11-22", Intervals: []Interval{iv("22:00", "10:00")}},
				{Date: "2026-11-23", Intervals: []Interval{iv("09:00", "17:00")}}}},
		"exception night touching next day": {Timezone: "UTC", Week: map[string][]Interval{"monday": {iv("09:00", "17:00")}},
			Exceptions: []Exception{{Date: "2026-11-22", Intervals: []Interval{iv("22:00", "09:00")}}}},
		"weekday night into an exception": {Timezone: "UTC", Week: map[string][]Interval{"sunday": {iv("22:00", "02:00")}},
			Exceptions: []Exception{{Date: "2026-11-23", Intervals: []Interval{iv("01:00", "05:00")}}}},
	}
	for name, s := range cases {
		if f := s.Validate(); len(f) != 0 {
			t.Errorf("%s: %v", name, f)
		}
		if _, err := s.Compile(); err != nil {
			t.Errorf("%s: compile: %v", name, err)
		}
	}
}

func hourly(n int) []Interval {
	out := make([]Interval, n)
	for i := range out {
		out[i] = iv(fmt.Sprintf("%02d:00", i), fmt.Sprintf("%02d:30", i))
	}
	return out
}

func holidays(n int) []Holiday {
	out := make([]Holiday, n)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = Holiday{Date: start.AddDate(0, 0, i).Format(time.DateOnly), Name: "h"}
	}
	return out
}

func exceptions(n int) []Exception {
	out := make([]Exception, n)
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range out {
		out[i] = Exception{Date: start.AddDate(0, 0, i).Format(time.DateOnly), Name: "x", Intervals: []Interval{iv("10:00", "12:00")}}
	}
	return out
}

func TestInvalidSpecs(t *testing.T) {
	week := func(day string, ivs ...Interval) map[string][]Interval { return map[string][]Interval{day: ivs} }
	cases := []struct {
		name  string
		spec  Spec
		field string
		msg   string // a part of the message
	}{
		{"unknown zone", Spec{Timezone: "Mars/Base"}, "timezone", `unknown time zone "Mars/Base"; use an IANA name such as America/Sao_Paulo`},
		{"no zone", Spec{}, "timezone", "is required"},
		{"blank zone", Spec{Timezone: "  "}, "timezone", "is required"},
		{"Local zone", Spec{Timezone: "Local"}, "timezone", "IANA"},
		{"lower-case zone", Spec{Timezone: "america/new_york"}, "timezone", "unknown time zone"},
		{"unknown day", Spec{Timezone: "UTC", Week: week("funday", iv("09:00", "10:00"))}, "week.funday", "unknown day; use monday..sunday"},
		{"capitalised day", Spec{Timezone: "UTC", Week: week("Monday")}, "week.Monday", "unknown day"},
		{"short hour", Spec{Timezone: "UTC", Week: week("monday", iv("9:00", "10:00"))}, "week.monday[0].start", "must be HH:MM"},
		{"start 24:00", Spec{Timezone: "UTC", Week: week("monday", iv("24:00", "10:00"))}, "week.monday[0].start", "00:00 to 23:59"},
		{"end 24:01", Spec{Timezone: "UTC", Week: week("monday", iv("09:00", "24:01"))}, "week.monday[0].end", "00:00 to 24:00"},
		{"end 25:00", Spec{Timezone: "UTC", Week: week("monday", iv("09:00", "25:00"))}, "week.monday[0].end", "must be HH:MM"},
		{"minute 60", Spec{Timezone: "UTC", Week: week("monday", iv("09:00", "12:60"))}, "week.monday[0].end", "must be HH:MM"},
		{"letters", Spec{Timezone: "UTC", Week: week("monday", iv("ab:cd", "12:00"))}, "week.monday[0].start", "must be HH:MM"},
		{"seconds", Spec{Timezone: "UTC", Week: week("monday", iv("09:00:00", "12:00"))}, "week.monday[0].start", "must be HH:MM"},
		{"empty end", Spec{Timezone: "UTC", Week: week("monday", iv("09:00", ""))}, "week.monday[0].end", "must be HH:MM"},
		{"zero length", Spec{Timezone: "UTC", Week: week("monday", iv("09:00", "09:00"))}, "week.monday[0]", "at least a minute"},
		{"zero length midnight", Spec{Timezone: "UTC", Week: week("monday", iv("00:00", "00:00"))}, "week.monday[0]", "00:00-24:00"},
		{"overlap", Spec{Timezone: "UTC", Week: week("monday", iv("09:00", "12:00"), iv("11:00", "13:00"))}, "week.monday[1]", "overlaps 09:00-12:00"},
		{"overlap listed first", Spec{Timezone: "UTC", Week: week("monday", iv("11:00", "13:00"), iv("09:00", "12:00"))}, "week.monday[1]", "overlaps 11:00-13:00"},
		{"contained", Spec{Timezone: "UTC", Week: week("tuesday", iv("08:00", "18:00"), iv("10:00", "11:00"))}, "week.tuesday[1]", "overlaps 08:00-18:00"},
		{"duplicate", Spec{Timezone: "UTC", Week: week("tuesday", iv("08:00", "18:00"), iv("08:00", "18:00"))}, "week.tuesday[1]", "overlaps 08:00-18:00"},
		{"overlap before midnight", Spec{Timezone: "UTC", Week: week("friday", iv("22:00", "02:00"), iv("23:00", "23:30"))}, "week.friday[1]", "overlaps 22:00-02:00"},
		{"inverted spills into next day's hours", Spec{Timezone: "UTC", Week: map[string][]Interval{
			"monday": {iv("18:00", "10:00")}, "tuesday": {iv("09:00", "17:00")}}},
			"week.monday[0]", "runs past midnight into tuesday and overlaps tuesday's 09:00-17:00"},
		{"spill of sunday into monday", Spec{Timezone: "UTC", Week: map[string][]Interval{
			"sunday": {iv("22:00", "02:00")}, "monday": {iv("01:00", "05:00")}}},
			"week.sunday[0]", "runs past midnight into monday and overlaps monday's 01:00-05:00"},
		{"too many intervals", Spec{Timezone: "UTC", Week: week("monday", hourly(13)...)}, "week.monday", "at most 12"},
		{"too many holidays", Spec{Timezone: "UTC", Holidays: holidays(501)}, "holidays", "at most 500"},
		{"bad month", Spec{Timezone: "UTC", Holidays: []Holiday{{Date: "2026-13-01"}}}, "holidays[0].date", "must be YYYY-MM-DD"},
		{"no such day", Spec{Timezone: "UTC", Holidays: []Holiday{{Date: "2026-02-30"}}}, "holidays[0].date", "must be YYYY-MM-DD"},
		{"not leap", Spec{Timezone: "UTC", Holidays: []Holiday{{Date: "2027-02-29", Recurring: true}}}, "holidays[0].date", "must be YYYY-MM-DD"},
		{"other format", Spec{Timezone: "UTC", Holidays: []Holiday{{Date: "25/12/2026"}}}, "holidays[0].date", "must be YYYY-MM-DD"},
		{"timestamp", Spec{Timezone: "UTC", Holidays: []Holiday{{Date: "2026-12-25T00:00:00Z"}}}, "holidays[0].date", "must be YYYY-MM-DD"},
		{"no date", Spec{Timezone: "UTC", Holidays: []Holiday{{Name: "x"}}}, "holidays[0].date", "must be YYYY-MM-DD"},
		{"year 0", Spec{Timezone: "UTC", Holidays: []Holiday{{Date: "0000-12-25", Recurring: true}}}, "holidays[0].date", "from 1970 to 2100"},
		{"year 9999", Spec{Timezone: "UTC", Holidays: []Holiday{{Date: "9999-12-25"}}}, "holidays[0].date", "from 1970 to 2100"},
		{"duplicate date", Spec{Timezone: "UTC", Holidays: []Holiday{{Date: "2026-12-25"}, {Date: "2026-01-01"}, {Date: "2026-12-25"}}},
			"holidays[2].date", "repeats holidays[0] (2026-12-25)"},
		{"duplicate recurring", Spec{Timezone: "UTC", Holidays: []Holiday{{Date: "2020-12-25", Recurring: true}, {Date: "2026-12-25", Recurring: true}}},
			"holidays[1].date", "repeats holidays[0] (every 12-25)"},
		{"long name", Spec{Timezone: "UTC", Holidays: []Holiday{{Date: "2026-12-25", Name: strings.Repeat("x", 201)}}}, "holidays[0].name", "at most 200"},

		{"exception bad date", exc(Exception{Date: "2026-02-30"}), "exceptions[0].date", "must be YYYY-MM-DD, a real date"},
		{"exception in year 9999", exc(Exception{Date: "9999-01-01"}), "exceptions[0].date", "from 1970 to 2100"},
		{"exception other format", exc(Exception{Date: "24/12/2026"}), "exceptions[0].date", "must be YYYY-MM-DD"},
		{"exception short date", exc(Exception{Date: "2026-12-4"}), "exceptions[0].date", "must be YYYY-MM-DD"},
		{"exception no date", exc(Exception{Name: "x"}), "exceptions[0].date", "must be YYYY-MM-DD"},
		{"exception duplicate date", exc(Exception{Date: "2026-12-24"}, Exception{Date: "2026-12-31"}, Exception{Date: "2026-12-24"}),
			"exceptions[2].date", "repeats exceptions[0] (2026-12-24)"},
		{"exception long name", exc(Exception{Date: "2026-12-24", Name: strings.Repeat("x", 201)}), "exceptions[0].name", "at most 200"},
		{"exception bad start", exc(Exception{Date: "2026-12-24", Intervals: []Interval{iv("9:00", "13:00")}}),
			"exceptions[0].intervals[0].start", "must be HH:MM"},
		{"exception bad end", exc(Exception{Date: "2026-12-24"}, Exception{Date: "2026-12-23", Intervals: []Interval{iv("09:00", "12:00"), iv("13:00", "24:01")}}),
			"exceptions[1].intervals[1].end", "00:00 to 24:00"},
		{"exception zero length", exc(Exception{Date: "2026-12-24", Intervals: []Interval{iv("09:00", "09:00")}}),
			"exceptions[0].intervals[0]", "at least a minute"},
		{"exception overlap", exc(Exception{Date: "2026-12-24", Intervals: []Interval{iv("09:00", "13:00"), iv("12:00", "14:00")}}),
			"exceptions[0].intervals[1]", "overlaps 09:00-13:00"},
		{"exception overlap before midnight", exc(Exception{Date: "2026-12-24", Intervals: []Interval{iv("22:00", "02:00"), iv("23:00", "23:30")}}),
			"exceptions[0].intervals[1]", "overlaps 22:00-02:00"},
		{"exception too many intervals", exc(Exception{Date: "2026-12-24", Intervals: hourly(13)}), "exceptions[0].intervals", "at most 12"},
		{"too many exceptions", Spec{Timezone: "UTC", Exceptions: exceptions(501)}, "exceptions", "at most 500"},
		{"exception night into the next day's hours", Spec{Timezone: "UTC", Week: map[string][]Interval{"monday": {iv("09:00", "17:00")}},
			Exceptions: []Exception{{Date: "2026-11-22", Intervals: []Interval{iv("22:00", "10:00")}}}},
			"exceptions[0].intervals[0]", "runs past midnight into 2026-11-23 (a monday) and overlaps monday's 09:00-17:00"},
		{"exception night into a day a holiday does not close", Spec{Timezone: "UTC", Week: map[string][]Interval{"monday": {iv("09:00", "17:00")}},
			Holidays:   []Holiday{{Date: "2026-11-30"}},
			Exceptions: []Exception{{Date: "2026-11-22", Intervals: []Interval{iv("08:00", "12:00"), iv("20:00", "09:30")}}}},
			"exceptions[0].intervals[1]", "runs past midnight into 2026-11-23 (a monday)"},
	}
	for _, tc := range cases {
		f := tc.spec.Validate()
		msg, ok := f[tc.field]
		if !ok {
			t.Errorf("%s: no message for %s: %v", tc.name, tc.field, f)
			continue
		}
		if !strings.Contains(msg, tc.msg) {
			t.Errorf("%s: %s = %q, want it to contain %q", tc.name, tc.field, msg, tc.msg)
		}
		if len(f) != 1 {
			t.Errorf("%s: want only %s, got %v", tc.name, tc.field, f)
		}
		_, err := tc.spec.Compile()
		var inv *InvalidError
		if !errors.As(err, &inv) || inv.Fields[tc.field] != msg {
			t.Errorf("%s: compile error = %v, want an *InvalidError naming %s", tc.name, err, tc.field)
		}
	}
}

// exc is a UTC spec with the exceptions.
func exc(es ...Exception) Spec { return Spec{Timezone: "UTC", Exceptions: es} }

func TestEveryErrorAtOnce(t *testing.T) {
	s := Spec{Timezone: "Nowhere/City", Week: map[string][]Interval{
		"funday":  {iv("09:00", "10:00")},
		"monday":  {iv("9", "10:00"), iv("09:00", "09:00")},
		"tuesday": {iv("09:00", "12:00"), iv("10:00", "11:00")},
	}, Holidays: []Holiday{{Date: "2026-12-25"}, {Date: "12/25"}, {Date: "2026-12-25"}},
		Exceptions: []Exception{{Date: "2026-12-24", Intervals: []Interval{iv("09:00", "13:00"), iv("12:00", "25:00")}},
			{Date: "2026-12-24", Intervals: []Interval{iv("09:00", "12:00"), iv("10:00", "11:00")}}}}
	f := s.Validate()
	for _, k := range []string{"timezone", "week.funday", "week.monday[0].start", "week.monday[1]", "week.tuesday[1]",
		"holidays[1].date", "holidays[2].date", "exceptions[0].intervals[1].end", "exceptions[1].date", "exceptions[1].intervals[1]"} {
		if _, ok := f[k]; !ok {
			t.Errorf("no message for %s: %v", k, f)
		}
	}
	if len(f) != 10 {
		t.Errorf("want 10 messages, got %d: %v", len(f), f)
	}
	_, err := s.Compile()
	if err == nil || !strings.Contains(err.Error(), "timezone: unknown time zone") {
		t.Errorf("compile error = %v", err)
	}
}

func TestSpecJSON(t *testing.T) {
	raw := `{"timezone":"Europe/Lisbon","week":{"monday":[{"start":"09:00","end":"18:00"}]},` +
		`"holidays":[{"date":"2026-06-13","name":"Santo António","recurring":true}]}`
	var s Spec
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	c := mustCompile(t, s)
	b, _ := json.Marshal(c.Spec())
	if string(b) != raw {
		t.Errorf("round trip:\n got %s\nwant %s", b, raw)
	}
	// The compiled calendar keeps its own copy of the spec.
	s.Week["monday"][0].End = "10:00"
	if got := c.Spec().Week["monday"][0].End; got != "18:00" {
		t.Errorf("the calendar shares the caller's slices: end = %s", got)
	}
	if !c.IsOpen(time.Date(2026, 6, 15, 17, 0, 0, 0, c.Location())) {
		t.Error("Monday 17:00 should be open")
	}
	if c.IsOpen(time.Date(2022, 6, 13, 10, 0, 0, 0, c.Location())) { // a Monday
		t.Error("Santo António (recurring) should be closed")
	}
	if c.Spec().Exceptions != nil {
		t.Errorf("a spec without exceptions has %v", c.Spec().Exceptions)
	}

	// With exceptions.
	raw = `{"timezone":"Europe/Lisbon","week":{"monday":[{"start":"09:00","end":"18:00"}]},"holidays":[],` +
		`"exceptions":[{"date":"2026-12-24","name":"Christmas Eve","intervals":[{"start":"09:00","end":"13:00"}]},` +
		`{"date":"2026-12-31","name":"Closed","intervals":[]}]}`
	s = Spec{}
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		t.Fatal(err)
	}
	c = mustCompile(t, s)
	b, _ = json.Marshal(c.Spec())
	if string(b) != raw {
		t.Errorf("round trip:\n got %s\nwant %s", b, raw)
	}
	s.Exceptions[0].Intervals[0].End = "18:00"
	if got := c.Spec().Exceptions[0].Intervals[0].End; got != "13:00" {
		t.Errorf("the calendar shares the caller's exception intervals: end = %s", got)
	}
	if c.IsOpen(time.Date(2026, 12, 24, 14, 0, 0, 0, c.Location())) {
		t.Error("Christmas Eve 14:00 should be closed")
	}
}

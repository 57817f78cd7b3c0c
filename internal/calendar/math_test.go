package calendar

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// nineToSix is Monday to Friday 09:00-18:00 in tz, with the holidays given.
func nineToSix(tz string, hs ...Holiday) Spec {
	week := map[string][]Interval{}
	for _, d := range Days[:5] {
		week[d] = []Interval{iv("09:00", "18:00")}
	}
	return Spec{Timezone: tz, Week: week, Holidays: hs}
}

// everyDay is the same intervals on all seven days.
func everyDay(tz string, ivs ...Interval) Spec {
	week := map[string][]Interval{}
	for _, d := range Days {
		week[d] = ivs
	}
	return Spec{Timezone: tz, Week: week}
}

var (
	lunch = Spec{Timezone: "UTC", Week: map[string][]Interval{
		"monday": {iv("09:00", "12:00"), iv("13:00", "18:00")}, "tuesday": {iv("09:00", "12:00"), iv("13:00", "18:00")},
		"wednesday": {iv("09:00", "12:00"), iv("13:00", "18:00")}, "thursday": {iv("09:00", "12:00"), iv("13:00", "18:00")},
		"friday": {iv("09:00", "12:00"), iv("13:00", "18:00")},
	}}
	// nightShift runs 22:00-06:00 from Monday night to Friday night; Friday 2026-11-27 is a
	// holiday, which closes Thursday's shift after midnight and Friday's shift altogether.
	nightShift = Spec{Timezone: "UTC", Week: map[string][]Interval{
		"monday": {iv("22:00", "06:00")}, "tuesday": {iv("22:00", "06:00")}, "wednesday": {iv("22:00", "06:00")},
		"thursday": {iv("22:00", "06:00")}, "friday": {iv("22:00", "06:00")},
	}, Holidays: []Holiday{{Date: "2026-11-27", Name: "Company day"}}}
	// lisbonNights has a Saturday shift over the daylight-saving changes (last Sundays of March
	// and October), weekday nights and days, and holidays.
	lisbonNights = Spec{Timezone: "Europe/Lisbon", Week: map[string][]Interval{
		"monday":    {iv("09:00", "18:00")},
		"tuesday":   {iv("09:00", "12:00"), iv("13:00", "18:00"), iv("22:00", "06:00")},
		"wednesday": {iv("09:00", "18:00")},
		"friday":    {iv("00:30", "01:30"), iv("22:00", "06:00")},
		"saturday":  {iv("23:00", "03:00")},
	}, Holidays: []Holiday{
		{Date: "2020-06-13", Name: "Santo António", Recurring: true},
		{Date: "2026-10-23", Name: "one-off Friday"},
		{Date: "2020-12-25", Name: "Natal", Recurring: true},
	}}
	// newYork has the hours that daylight saving skips and repeats on every day, office hours on
	// weekdays, and holidays.
	newYork = Spec{Timezone: "America/New_York", Week: map[string][]Interval{
		"monday":   {iv("01:00", "03:00"), iv("09:00", "17:00")},
		"tuesday":  {iv("01:00", "03:00"), iv("09:00", "17:00")},
		"thursday": {iv("01:00", "03:00"), iv("09:00", "17:00"), iv("23:30", "01:30")},
		"friday":   {iv("02:00", "03:00"), iv("09:00", "17:00")},
		"saturday": {iv("01:00", "03:00"), iv("23:00", "02:30")},
		"sunday":   {iv("02:30", "24:00")},
	}, Holidays: []Holiday{
		{Date: "2020-07-04", Name: "Independence Day", Recurring: true},
		{Date: "2026-11-26", Name: "Thanksgiving"},
		{Date: "2024-02-29", Name: "Leap day", Recurring: true},
	}}
)

var (
	// seasonal is São Paulo office hours with lunch and a Thursday night shift, holidays, and
	// exceptions: a Saturday opening, a short Christmas Eve (no night shift), a morning on a
	// holiday, a closed Thursday, exceptions that run past midnight into a regular date, a
	// Sunday and another exception, and one after a night shift.
	seasonal = Spec{Timezone: "America/Sao_Paulo", Week: map[string][]Interval{
		"monday": {iv("09:00", "12:00"), iv("13:00", "18:00")}, "tuesday": {iv("09:00", "12:00"), iv("13:00", "18:00")},
		"wednesday": {iv("09:00", "12:00"), iv("13:00", "18:00")},
		"thursday":  {iv("09:00", "12:00"), iv("13:00", "18:00"), iv("22:00", "02:00")},
		"friday":    {iv("09:00", "12:00"), iv("13:00", "18:00")},
	}, Holidays: []Holiday{
		{Date: "2020-12-25", Name: "Natal", Recurring: true},
		{Date: "2026-11-20", Name: "Consciência Negra"},
		{Date: "2027-01-01", Name: "Ano Novo"},
	}, Exceptions: []Exception{
		{Date: "2026-11-21", Name: "Launch", Intervals: []Interval{iv("10:00", "16:00")}},                             // Saturday
		{Date: "2026-12-24", Name: "Christmas Eve", Intervals: []Interval{iv("09:00", "13:00")}},                      // Thursday
		{Date: "2026-11-20", Name: "Open in the morning", Intervals: []Interval{iv("09:00", "12:00")}},                // holiday Friday
		{Date: "2026-12-31", Name: "Closed", Intervals: []Interval{}},                                                 // Thursday
		{Date: "2026-12-04", Name: "Late start", Intervals: []Interval{iv("10:00", "14:00")}},                         // Friday
		{Date: "2026-11-26", Name: "Longer night", Intervals: []Interval{iv("09:00", "12:00"), iv("21:00", "03:00")}}, // Thursday
		{Date: "2027-01-02", Name: "Inventory", Intervals: []Interval{iv("20:00", "04:00")}},                          // Saturday
		{Date: "2026-12-23", Name: "Afternoon and night", Intervals: []Interval{iv("13:00", "01:00")}},                // into Christmas Eve
		{Date: "2026-12-26", Name: "Night after Christmas", Intervals: []Interval{iv("22:00", "02:00")}},              // Saturday
	}}
	// nyExceptions has exceptions on the daylight-saving days of New York, one on a holiday, one
	// running into another, and a closed Friday.
	nyExceptions = Spec{Timezone: "America/New_York", Week: map[string][]Interval{
		"monday": {iv("09:00", "18:00")}, "tuesday": {iv("09:00", "18:00")}, "wednesday": {iv("09:00", "18:00")},
		"thursday": {iv("09:00", "18:00")}, "friday": {iv("09:00", "18:00")}, "sunday": {iv("12:00", "14:00"), iv("23:00", "01:00")},
	}, Holidays: []Holiday{{Date: "2026-11-26", Name: "Thanksgiving"}, {Date: "2020-07-04", Name: "Independence Day", Recurring: true}},
		Exceptions: []Exception{
			{Date: "2026-03-07", Name: "Saturday night", Intervals: []Interval{iv("22:00", "03:00")}},
			{Date: "2026-03-08", Name: "Spring forward", Intervals: []Interval{iv("00:30", "03:30"), iv("23:00", "01:00")}},
			{Date: "2026-11-01", Name: "Fall back", Intervals: []Interval{iv("00:30", "02:30")}},
			{Date: "2026-11-26", Name: "Thanksgiving morning", Intervals: []Interval{iv("10:00", "14:00")}},
			{Date: "2026-11-27", Name: "Black Friday off"},
			{Date: "2028-03-12", Name: "Spring forward", Intervals: []Interval{iv("01:00", "04:00")}},
			{Date: "2025-11-02", Name: "Fall back", Intervals: []Interval{iv("01:00", "02:00"), iv("20:00", "08:00")}},
			{Date: "2027-07-04", Name: "Open on the Fourth", Intervals: []Interval{iv("00:00", "24:00")}},
		}}
)

// fuzzCalendars are the calendars of the fuzz test and of the check against IsOpen.
func fuzzCalendars(t testing.TB) []*Calendar {
	t.Helper()
	specs := []Spec{
		nineToSix("UTC"),
		office, // America/Sao_Paulo: lunch, a night shift, an evening until 24:00, holidays
		newYork,
		everyDay("America/New_York", iv("00:00", "24:00")),
		lisbonNights,
		nightShift,
		{Timezone: "Australia/Lord_Howe", Week: map[string][]Interval{ // half-hour DST changes
			"sunday": {iv("01:00", "03:00"), iv("23:45", "02:15")}, "monday": {iv("09:00", "17:00")},
			"saturday": {iv("00:00", "24:00")}}},
		{Timezone: "America/New_York", Week: map[string][]Interval{"sunday": {iv("01:30", "02:30")}}}, // sparse
		seasonal,     // exceptions
		nyExceptions, // exceptions over daylight saving
	}
	cals := make([]*Calendar, 0, len(specs)+1)
	for _, s := range specs {
		c, err := s.Compile()
		if err != nil {
			t.Fatalf("compile: %v", err)
		}
		cals = append(cals, c)
	}
	return append(cals, Always())
}

func TestAddBusinessMinutes(t *testing.T) {
	utcNine := mustCompile(t, nineToSix("UTC"))
	sp := mustCompile(t, nineToSix("America/Sao_Paulo"))
	spLoc := sp.Location()
	ny := mustCompile(t, nineToSix("America/New_York"))
	nyLoc := ny.Location()
	lisbon := mustCompile(t, nineToSix("Europe/Lisbon"))
	lunchCal := mustCompile(t, lunch)
	mondayOff := mustCompile(t, nineToSix("UTC", Holiday{Date: "2026-11-23", Name: "Monday off"}))
	christmas := mustCompile(t, nineToSix("UTC", Holiday{Date: "2020-12-25", Name: "Christmas", Recurring: true}))
	allDayNY := mustCompile(t, everyDay("America/New_York", iv("00:00", "24:00")))
	nightNY := mustCompile(t, everyDay("America/New_York", iv("01:00", "03:00")))
	saturdayLisbon := mustCompile(t, Spec{Timezone: "Europe/Lisbon", Week: map[string][]Interval{"saturday": {iv("23:00", "03:00")}}})
	night := mustCompile(t, nightShift)
	closed := mustCompile(t, Spec{Timezone: "UTC"})
	U := func(s string) time.Time { return utc(t, s) }

	cases := []struct {
		name    string
		c       *Calendar
		from    time.Time
		minutes int
		want    time.Time
	}{
		{"Friday 17:50 + 30 is Monday 09:20 (UTC)", utcNine, U("2026-11-20T17:50:00Z"), 30, U("2026-11-23T09:20:00Z")},
		{"Friday 17:50 + 30 is Monday 09:20 (Sao Paulo)", sp, local(t, spLoc, "2026-11-20 17:50"), 30, local(t, spLoc, "2026-11-23 09:20")},
		{"Sao Paulo hours are UTC-3", sp, U("2026-11-20T20:50:00Z"), 30, U("2026-11-23T12:20:00Z")},
		{"the deadline may be an interval's end", utcNine, U("2026-11-20T17:30:00Z"), 30, U("2026-11-20T18:00:00Z")},
		{"one more minute is Monday", utcNine, U("2026-11-20T17:30:00Z"), 31, U("2026-11-23T09:01:00Z")},
		{"inside the day", utcNine, U("2026-11-23T10:00:00Z"), 90, U("2026-11-23T11:30:00Z")},
		{"before opening counts from the opening", utcNine, U("2026-11-23T07:13:14Z"), 1, U("2026-11-23T09:01:00Z")},
		{"Saturday counts from Monday", utcNine, U("2026-11-21T12:00:00Z"), 60, U("2026-11-23T10:00:00Z")},
		{"a whole week", utcNine, U("2026-11-23T09:00:00Z"), 5 * 540, U("2026-11-27T18:00:00Z")},
		{"a week and a minute", utcNine, U("2026-11-23T09:00:00Z"), 5*540 + 1, U("2026-11-30T09:01:00Z")},
		{"keeps seconds", utcNine, U("2026-11-23T09:00:30Z"), 1, U("2026-11-23T09:01:30Z")},
		{"keeps nanoseconds", utcNine, U("2026-11-23T09:00:00.123456789Z"), 2, U("2026-11-23T09:02:00.123456789Z")},
		{"seconds across the weekend", utcNine, U("2026-11-20T17:59:30Z"), 1, U("2026-11-23T09:00:30Z")},
		{"closed seconds count from the opening", utcNine, U("2026-11-20T18:00:30Z"), 1, U("2026-11-23T09:01:00Z")},
		{"zero is from, open", utcNine, U("2026-11-23T10:00:00Z"), 0, U("2026-11-23T10:00:00Z")},
		{"zero is from, even closed", utcNine, U("2026-11-21T12:00:00Z"), 0, U("2026-11-21T12:00:00Z")},
		{"negative is zero", utcNine, U("2026-11-21T12:00:00Z"), -5, U("2026-11-21T12:00:00Z")},

		{"lunch break is skipped", lunchCal, U("2026-11-23T11:50:00Z"), 20, U("2026-11-23T13:10:00Z")},
		{"until lunch", lunchCal, U("2026-11-23T11:50:00Z"), 10, U("2026-11-23T12:00:00Z")},
		{"during lunch", lunchCal, U("2026-11-23T12:30:00Z"), 10, U("2026-11-23T13:10:00Z")},
		{"a day with lunch", lunchCal, U("2026-11-23T09:00:00Z"), 480, U("2026-11-23T18:00:00Z")},

		{"holiday Monday: Tuesday", mondayOff, U("2026-11-20T17:50:00Z"), 30, U("2026-11-24T09:20:00Z")},
		{"on the holiday", mondayOff, U("2026-11-23T10:00:00Z"), 30, U("2026-11-24T09:30:00Z")},
		{"recurring Christmas on a Friday", christmas, U("2026-12-24T17:50:00Z"), 30, U("2026-12-28T09:20:00Z")},
		{"recurring Christmas on a Monday", christmas, U("2028-12-22T17:50:00Z"), 30, U("2028-12-26T09:20:00Z")},
		{"recurring Christmas before the year written", christmas, U("2017-12-22T17:50:00Z"), 30, U("2017-12-26T09:20:00Z")},

		{"New York: weekend over spring forward", ny, local(t, nyLoc, "2026-03-06 17:50"), 30, local(t, nyLoc, "2026-03-09 09:20")},
		{"New York: EST to EDT in UTC", ny, U("2026-03-06T22:50:00Z"), 30, U("2026-03-09T13:20:00Z")},
		{"New York: weekend over fall back", ny, U("2026-10-30T21:50:00Z"), 30, U("2026-11-02T14:20:00Z")},
		{"Lisbon: weekend over fall back", lisbon, U("2026-10-23T16:50:00Z"), 30, U("2026-10-26T09:20:00Z")},

		{"00:00-24:00, spring forward: 2 real hours over the jump", allDayNY, U("2026-03-08T05:30:00Z"), 120, U("2026-03-08T07:30:00Z")},
		{"00:00-24:00, spring forward: the day lasts 23 hours", allDayNY, U("2026-03-08T05:00:00Z"), 23 * 60, U("2026-03-09T04:00:00Z")},
		{"00:00-24:00, fall back: 2 real hours over the repeat", allDayNY, U("2026-11-01T04:30:00Z"), 120, U("2026-11-01T06:30:00Z")},
		{"00:00-24:00, fall back: the day lasts 25 hours", allDayNY, U("2026-11-01T04:00:00Z"), 25 * 60, U("2026-11-02T05:00:00Z")},
		{"01:00-03:00, spring forward: one real hour", nightNY, U("2026-03-08T06:00:00Z"), 60, U("2026-03-08T07:00:00Z")},
		{"01:00-03:00, spring forward: then the next night", nightNY, U("2026-03-08T06:00:00Z"), 61, U("2026-03-09T05:01:00Z")},
		{"01:00-03:00, spring forward: from the missing hour", nightNY, U("2026-03-08T06:59:00Z"), 2, U("2026-03-09T05:01:00Z")},
		{"01:00-03:00, fall back: three real hours", nightNY, U("2026-11-01T05:00:00Z"), 180, U("2026-11-01T08:00:00Z")},
		{"01:00-03:00, fall back: then the next night", nightNY, U("2026-11-01T05:00:00Z"), 181, U("2026-11-02T06:01:00Z")},
		{"01:00-03:00, fall back: across the repeat", nightNY, U("2026-11-01T05:50:00Z"), 20, U("2026-11-01T06:10:00Z")},
		{"Lisbon 23:00-03:00, spring forward: 3 hours", saturdayLisbon, U("2026-03-28T23:00:00Z"), 180, U("2026-03-29T02:00:00Z")},
		{"Lisbon 23:00-03:00, fall back: 5 hours", saturdayLisbon, U("2026-10-24T22:00:00Z"), 300, U("2026-10-25T03:00:00Z")},
		{"Lisbon 23:00-03:00, fall back: then next Saturday", saturdayLisbon, U("2026-10-24T22:00:00Z"), 301, U("2026-10-31T23:01:00Z")},

		{"22:00-06:00: a shift", night, U("2026-11-16T22:00:00Z"), 480, U("2026-11-17T06:00:00Z")},
		{"22:00-06:00: across midnight", night, U("2026-11-16T23:30:00Z"), 60, U("2026-11-17T00:30:00Z")},
		{"22:00-06:00: Friday's shift ends Saturday", night, U("2026-11-21T05:00:00Z"), 60, U("2026-11-21T06:00:00Z")},
		{"22:00-06:00: then Monday night (Sunday has none)", night, U("2026-11-21T05:00:00Z"), 120, U("2026-11-23T23:00:00Z")},
		{"22:00-06:00: Monday morning is closed", night, U("2026-11-23T03:00:00Z"), 1, U("2026-11-23T22:01:00Z")},
		{"22:00-06:00: a holiday closes the spill of the night before", night, U("2026-11-26T22:00:00Z"), 120, U("2026-11-27T00:00:00Z")},
		{"22:00-06:00: and the holiday's own shift", night, U("2026-11-26T22:00:00Z"), 121, U("2026-11-30T22:01:00Z")},

		{"Always: a day", Always(), U("2026-03-07T12:00:00Z"), 1440, U("2026-03-08T12:00:00Z")},
		{"Always: 100000 minutes", Always(), U("2026-11-20T17:50:00Z"), 100000, U("2026-11-20T17:50:00Z").Add(100000 * time.Minute)},
		{"Always: seconds", Always(), U("2026-11-21T23:59:59.5Z"), 1, U("2026-11-22T00:00:59.5Z")},

		{"never open", closed, U("2026-11-20T17:50:00Z"), 1, Never()},
		{"never open, zero", closed, U("2026-11-20T17:50:00Z"), 0, U("2026-11-20T17:50:00Z")},
		{"beyond SearchYears", Always(), U("2026-11-20T17:50:00Z"), 500 * 366 * 1440, Never()},
		{"huge count", Always(), U("2026-11-20T17:50:00Z"), int(^uint(0) >> 1), Never()},
	}
	for _, tc := range cases {
		got := tc.c.AddBusinessMinutes(tc.from, tc.minutes)
		if !got.Equal(tc.want) {
			t.Errorf("%s: %s + %d = %s, want %s", tc.name, tc.from.Format(time.RFC3339Nano), tc.minutes,
				got.Format(time.RFC3339Nano), tc.want.Format(time.RFC3339Nano))
			continue
		}
		if tc.minutes > 0 && !got.Equal(Never()) && got.Location() != tc.from.Location() {
			t.Errorf("%s: result in %s, want from's location %s", tc.name, got.Location(), tc.from.Location())
		}
		if tc.minutes > 0 && !got.Equal(Never()) {
			// The deadline and the count agree.
			if n := tc.c.BusinessMinutesBetween(tc.from, got); n != tc.minutes {
				t.Errorf("%s: between %s and %s = %d, want %d", tc.name, tc.from, got, n, tc.minutes)
			}
		}
	}
}

func TestAddBusinessMinutesWithExceptions(t *testing.T) {
	withExceptions := func(s Spec, es ...Exception) *Calendar {
		s.Exceptions = es
		return mustCompile(t, s)
	}
	launch := withExceptions(nineToSix("UTC"), Exception{Date: "2026-11-21", Name: "Launch", Intervals: []Interval{iv("10:00", "16:00")}})
	christmasEve := withExceptions(nineToSix("UTC", Holiday{Date: "2020-12-25", Name: "Christmas", Recurring: true}),
		Exception{Date: "2026-12-24", Name: "Christmas Eve", Intervals: []Interval{iv("09:00", "13:00")}})
	holidayMorning := withExceptions(nineToSix("UTC", Holiday{Date: "2026-11-23", Name: "Monday off"}),
		Exception{Date: "2026-11-23", Name: "Open in the morning", Intervals: []Interval{iv("09:00", "12:00")}})
	closedTuesday := withExceptions(nineToSix("UTC"), Exception{Date: "2026-11-24", Name: "Closed"})
	sp := mustCompile(t, seasonal)
	spLoc := sp.Location()
	ny := mustCompile(t, nyExceptions)
	U := func(s string) time.Time { return utc(t, s) }
	L := func(s string) time.Time { return local(t, spLoc, s) }

	cases := []struct {
		name    string
		c       *Calendar
		from    time.Time
		minutes int
		want    time.Time
	}{
		{"Saturday opening is counted", launch, U("2026-11-20T17:50:00Z"), 30, U("2026-11-21T10:20:00Z")},
		{"Saturday opening, to its end", launch, U("2026-11-20T17:50:00Z"), 10 + 360, U("2026-11-21T16:00:00Z")},
		{"Saturday opening, then Monday", launch, U("2026-11-20T17:50:00Z"), 10 + 360 + 1, U("2026-11-23T09:01:00Z")},
		{"from the Saturday opening", launch, U("2026-11-21T08:00:00Z"), 60, U("2026-11-21T11:00:00Z")},
		{"the next Saturday is closed", launch, U("2026-11-27T17:50:00Z"), 30, U("2026-11-30T09:20:00Z")},

		{"short Christmas Eve, then Christmas, then Monday", christmasEve, U("2026-12-24T12:30:00Z"), 60, U("2026-12-28T09:30:00Z")},
		{"into a short Christmas Eve", christmasEve, U("2026-12-23T17:00:00Z"), 120, U("2026-12-24T10:00:00Z")},
		{"the deadline may be the exception's end", christmasEve, U("2026-12-24T08:00:00Z"), 240, U("2026-12-24T13:00:00Z")},
		{"Christmas Eve afternoon counts from Monday", christmasEve, U("2026-12-24T15:00:00Z"), 1, U("2026-12-28T09:01:00Z")},
		{"a one-off exception does not recur", christmasEve, U("2027-12-24T12:30:00Z"), 60, U("2027-12-24T13:30:00Z")},

		{"an exception on a holiday opens it", holidayMorning, U("2026-11-20T17:50:00Z"), 30, U("2026-11-23T09:20:00Z")},
		{"an exception on a holiday, to its end", holidayMorning, U("2026-11-20T17:50:00Z"), 10 + 180, U("2026-11-23T12:00:00Z")},
		{"an exception on a holiday, then Tuesday", holidayMorning, U("2026-11-20T17:50:00Z"), 10 + 180 + 1, U("2026-11-24T09:01:00Z")},

		{"a closing exception", closedTuesday, U("2026-11-23T17:50:00Z"), 30, U("2026-11-25T09:20:00Z")},

		{"Sao Paulo: holiday morning, Saturday launch", sp, L("2026-11-20 11:50"), 20, L("2026-11-21 10:10")},
		{"Sao Paulo: an exception's night into a regular Friday", sp, L("2026-11-26 20:00"), 300, L("2026-11-27 02:00")},
		{"Sao Paulo: and then Friday morning", sp, L("2026-11-26 20:00"), 361, L("2026-11-27 09:01")},
		{"Sao Paulo: a night shift cut by an exception on the next date", sp, L("2026-12-03 21:00"), 180, L("2026-12-04 11:00")},
		{"Sao Paulo: into a short Christmas Eve, then a Saturday night", sp, L("2026-12-23 23:00"), 60 + 240 + 30, L("2026-12-26 22:30")},
		{"Sao Paulo: closed Thursday, holiday, Saturday inventory", sp, L("2026-12-30 17:00"), 60 + 480, L("2027-01-03 04:00")},

		{"New York: exceptions over spring forward", ny, U("2026-03-08T05:00:00Z"), 60, U("2026-03-08T05:30:00Z").Add(60 * time.Minute)},
		{"New York: spring-forward exception lasts 2 real hours", ny, U("2026-03-08T05:30:00Z"), 120, U("2026-03-08T07:30:00Z")},
		{"New York: fall-back exception lasts 3 real hours", ny, U("2026-11-01T04:30:00Z"), 180, U("2026-11-01T07:30:00Z")},
		{"New York: Thanksgiving morning, Black Friday off", ny, U("2026-11-25T22:50:00Z"), 30, U("2026-11-26T15:20:00Z")},
		{"New York: after Thanksgiving morning, Sunday", ny, U("2026-11-26T18:50:00Z"), 30, U("2026-11-29T17:20:00Z")},
	}
	for _, tc := range cases {
		got := tc.c.AddBusinessMinutes(tc.from, tc.minutes)
		if !got.Equal(tc.want) {
			t.Errorf("%s: %s + %d = %s, want %s", tc.name, tc.from.Format(time.RFC3339Nano), tc.minutes,
				got.Format(time.RFC3339Nano), tc.want.Format(time.RFC3339Nano))
			continue
		}
		if n := tc.c.BusinessMinutesBetween(tc.from, got); n != tc.minutes {
			t.Errorf("%s: between %s and %s = %d, want %d", tc.name, tc.from, got, n, tc.minutes)
		}
		if want, ok := bruteAdd(tc.c, tc.from, tc.minutes, 20*1440); ok && !got.Equal(want) {
			t.Errorf("%s: IsOpen minute by minute says %s", tc.name, want)
		}
	}
	// A week of exceptions in São Paulo: Monday to Wednesday as usual, Thursday with its night
	// shift until midnight, the holiday Friday's morning and the Saturday opening.
	if got := sp.BusinessMinutesBetween(L("2026-11-16 00:00"), L("2026-11-23 00:00")); got != 3*480+480+120+180+360 {
		t.Errorf("week of 2026-11-16 = %d, want %d", got, 3*480+480+120+180+360)
	}
}

func TestOnlyExceptions(t *testing.T) {
	// No weekday intervals: the calendar opens on its exceptions only, and the arithmetic jumps
	// from one to the next.
	c := mustCompile(t, Spec{Timezone: "America/New_York", Exceptions: []Exception{
		{Date: "2026-03-08", Intervals: []Interval{iv("01:00", "04:00")}}, // spring forward: 2 real hours
		{Date: "2026-11-21", Intervals: []Interval{iv("10:00", "16:00")}},
		{Date: "2026-11-22", Intervals: []Interval{}},
		{Date: "2026-12-31", Intervals: []Interval{iv("22:00", "02:00")}}, // into 2027
		{Date: "2100-12-31", Intervals: []Interval{iv("09:00", "10:00")}}, // the last date a calendar may name
	}})
	U := func(s string) time.Time { return utc(t, s) }
	cases := []struct {
		from    time.Time
		minutes int
		want    time.Time
	}{
		{U("2026-01-01T00:00:00Z"), 60, U("2026-03-08T07:00:00Z")},
		{U("2026-01-01T00:00:00Z"), 120, U("2026-03-08T08:00:00Z")},
		{U("2026-01-01T00:00:00Z"), 121, U("2026-11-21T15:01:00Z")},
		{U("2026-11-21T15:00:00Z"), 360, U("2026-11-21T21:00:00Z")},
		{U("2026-11-21T15:00:00Z"), 361, U("2027-01-01T03:01:00Z")},
		{U("2026-11-21T15:00:00Z"), 600, U("2027-01-01T07:00:00Z")},
		{U("2026-11-21T15:00:00Z"), 601, U("2100-12-31T14:01:00Z")},
		{U("2027-01-01T06:59:00Z"), 1, U("2027-01-01T07:00:00Z")},
		{U("2027-01-01T07:00:00Z"), 1, U("2100-12-31T14:01:00Z")},
		{U("2100-12-31T15:00:00Z"), 1, Never()},
		{U("2100-01-01T00:00:00Z"), 60, U("2100-12-31T15:00:00Z")},
	}
	for _, tc := range cases {
		if got := c.AddBusinessMinutes(tc.from, tc.minutes); !got.Equal(tc.want) {
			t.Errorf("%s + %d = %s, want %s", tc.from, tc.minutes, got.UTC(), tc.want)
		}
	}
	if got, ok := c.NextOpen(U("2026-03-09T00:00:00Z")); !ok || !got.Equal(U("2026-11-21T15:00:00Z")) {
		t.Errorf("next open = %s %v", got, ok)
	}
	if got, ok := c.NextOpen(U("2027-01-02T00:00:00Z")); !ok || !got.Equal(U("2100-12-31T14:00:00Z")) {
		t.Errorf("next open = %s %v, want the last exception", got, ok)
	}
	if got, ok := c.NextOpen(U("2101-01-01T00:00:00Z")); ok || !got.Equal(Never()) {
		t.Errorf("next open after the last exception = %s %v, want Never", got, ok)
	}
	if got := c.BusinessMinutesBetween(U("2026-01-01T00:00:00Z"), U("2028-01-01T00:00:00Z")); got != 120+360+240 {
		t.Errorf("between = %d, want %d", got, 120+360+240)
	}
	if got := openMinutes(c, U("2026-12-31T12:00:00Z"), U("2027-01-01T12:00:00Z")); got != 240 {
		t.Errorf("IsOpen minutes over New Year's Eve = %d, want 240", got)
	}
	closed := mustCompile(t, Spec{Timezone: "UTC", Exceptions: []Exception{{Date: "2026-12-24"}}})
	if got, ok := closed.NextOpen(U("2020-01-01T00:00:00Z")); ok || !got.Equal(Never()) {
		t.Errorf("closing exceptions only: next open = %s %v, want Never", got, ok)
	}
}

func TestAddZeroIsFromUnchanged(t *testing.T) {
	c := mustCompile(t, nineToSix("America/Sao_Paulo"))
	now := time.Now() // with a monotonic clock reading
	if got := c.AddBusinessMinutes(now, 0); got != now {
		t.Errorf("Add(now, 0) = %v, want now unchanged %v", got, now)
	}
	if got := c.AddBusinessMinutes(now, 1); got.Location() != now.Location() || got.Round(0) != got {
		t.Errorf("Add(now, 1) = %#v: want now's location, no monotonic reading", got)
	}
}

func TestBusinessMinutesBetween(t *testing.T) {
	utcNine := mustCompile(t, nineToSix("UTC"))
	lunchCal := mustCompile(t, lunch)
	ny := mustCompile(t, nineToSix("America/New_York"))
	lisbon := mustCompile(t, nineToSix("Europe/Lisbon"))
	allDayNY := mustCompile(t, everyDay("America/New_York", iv("00:00", "24:00")))
	nightNY := mustCompile(t, everyDay("America/New_York", iv("01:00", "03:00")))
	night := mustCompile(t, nightShift)
	of := mustCompile(t, office)
	closed := mustCompile(t, Spec{Timezone: "UTC"})
	U := func(s string) time.Time { return utc(t, s) }

	cases := []struct {
		name string
		c    *Calendar
		a, b time.Time
		want int
	}{
		{"empty window", utcNine, U("2026-11-23T10:00:00Z"), U("2026-11-23T10:00:00Z"), 0},
		{"negative window", utcNine, U("2026-11-23T12:00:00Z"), U("2026-11-23T10:00:00Z"), 0},
		{"negative window over days", utcNine, U("2026-11-30T12:00:00Z"), U("2026-11-23T10:00:00Z"), 0},
		{"closed window", utcNine, U("2026-11-21T10:00:00Z"), U("2026-11-22T23:00:00Z"), 0},
		{"inside", utcNine, U("2026-11-23T10:00:00Z"), U("2026-11-23T11:30:00Z"), 90},
		{"a week", utcNine, U("2026-11-22T00:00:00Z"), U("2026-11-29T00:00:00Z"), 5 * 540},
		{"a week from Wednesday noon", utcNine, U("2026-11-25T12:00:00Z"), U("2026-12-02T12:00:00Z"), 5 * 540},
		{"a week with lunch", lunchCal, U("2026-11-22T00:00:00Z"), U("2026-11-29T00:00:00Z"), 5 * 480},
		{"over the weekend", utcNine, U("2026-11-20T17:50:00Z"), U("2026-11-23T09:20:00Z"), 30},
		{"seconds: 30 + 30 is one minute", utcNine, U("2026-11-20T17:59:30Z"), U("2026-11-23T09:00:30Z"), 1},
		{"seconds: 30 + 29 rounds down", utcNine, U("2026-11-20T17:59:30Z"), U("2026-11-23T09:00:29Z"), 0},
		{"seconds: 59.9 rounds down", utcNine, U("2026-11-23T09:00:00Z"), U("2026-11-23T09:00:59.9Z"), 0},
		{"never open", closed, U("2026-01-01T00:00:00Z"), U("2027-01-01T00:00:00Z"), 0},
		{"Always: a year", Always(), U("2026-01-01T00:00:00Z"), U("2027-01-01T00:00:00Z"), 365 * 1440},
		{"Always: 500 years", Always(), U("2000-01-01T00:00:00Z"), U("2500-01-01T00:00:00Z"), 182622 * 1440},

		{"New York week over spring forward", ny, U("2026-03-02T00:00:00Z"), U("2026-03-14T00:00:00Z"), 10 * 540},
		{"Friday to Monday over spring forward", ny, U("2026-03-06T14:00:00Z"), U("2026-03-09T21:00:00Z"), 540 + 480},
		{"Lisbon Friday to Monday over fall back", lisbon, U("2026-10-23T11:00:00Z"), U("2026-10-26T12:00:00Z"), 360 + 180},
		{"00:00-24:00 spring-forward day", allDayNY, U("2026-03-08T05:00:00Z"), U("2026-03-09T04:00:00Z"), 23 * 60},
		{"00:00-24:00 fall-back day", allDayNY, U("2026-11-01T04:00:00Z"), U("2026-11-02T05:00:00Z"), 25 * 60},
		{"00:00-24:00 a normal day", allDayNY, U("2026-11-03T05:00:00Z"), U("2026-11-04T05:00:00Z"), 24 * 60},
		{"01:00-03:00 spring-forward day", nightNY, U("2026-03-08T05:00:00Z"), U("2026-03-09T04:00:00Z"), 60},
		{"01:00-03:00 fall-back day", nightNY, U("2026-11-01T04:00:00Z"), U("2026-11-02T05:00:00Z"), 180},
		{"01:00-03:00 fall-back, the repeated hour only", nightNY, U("2026-11-01T06:00:00Z"), U("2026-11-01T07:00:00Z"), 60},
		{"22:00-06:00 week with a Friday holiday", night, U("2026-11-22T00:00:00Z"), U("2026-11-29T00:00:00Z"), 3*480 + 120},
		{"22:00-06:00 a normal week", night, U("2026-11-15T00:00:00Z"), U("2026-11-22T00:00:00Z"), 5 * 480},
		// office: 8 hours Monday to Friday, Thursday 22:00-02:00, Friday 20:00-24:00, Saturday
		// 00:00-01:00 and 09:00-13:00.
		{"office week", of, local(t, of.Location(), "2026-11-16 00:00"), local(t, of.Location(), "2026-11-23 00:00"), 5*480 + 240 + 240 + 60 + 240},
		{"office week with the company day", of, local(t, of.Location(), "2026-11-23 00:00"), local(t, of.Location(), "2026-11-30 00:00"),
			4*480 + 120 /* Thursday night until midnight */ + 60 + 240},
	}
	for _, tc := range cases {
		if got := tc.c.BusinessMinutesBetween(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: between %s and %s = %d, want %d", tc.name, tc.a.Format(time.RFC3339Nano), tc.b.Format(time.RFC3339Nano), got, tc.want)
		}
	}
}

// Business time to the second: the seconds that the minute forms round away count in full.
func TestAddBusinessAndBetweenAreExact(t *testing.T) {
	utcNine := mustCompile(t, nineToSix("UTC"))
	ny := mustCompile(t, nineToSix("America/New_York"))
	U := func(s string) time.Time { return utc(t, s) }
	adds := []struct {
		name string
		c    *Calendar
		from time.Time
		d    time.Duration
		want time.Time
	}{
		{"30 s inside", utcNine, U("2026-11-23T10:00:00Z"), 30 * time.Second, U("2026-11-23T10:00:30Z")},
		{"90 s across the weekend", utcNine, U("2026-11-20T17:59:30Z"), 90 * time.Second, U("2026-11-23T09:01:00Z")},
		{"1 ns before the close", utcNine, U("2026-11-20T17:59:59.999999999Z"), time.Nanosecond, U("2026-11-20T18:00:00Z")},
		{"from a closed instant", utcNine, U("2026-11-21T12:00:00Z"), 7 * time.Second, U("2026-11-23T09:00:07Z")},
		{"spring forward in New York", ny, U("2026-03-06T22:59:50Z"), 20 * time.Second, U("2026-03-09T13:00:10Z")},
		{"Always", Always(), U("2026-11-21T12:00:00Z"), 61*time.Minute + 500*time.Millisecond, U("2026-11-21T13:01:00.5Z")},
		{"zero", utcNine, U("2026-11-21T12:00:00Z"), 0, U("2026-11-21T12:00:00Z")},
		{"negative", utcNine, U("2026-11-21T12:00:00Z"), -time.Second, U("2026-11-21T12:00:00Z")},
	}
	for _, tc := range adds {
		if got := tc.c.AddBusiness(tc.from, tc.d); !got.Equal(tc.want) {
			t.Errorf("%s: %s + %s = %s, want %s", tc.name, tc.from, tc.d, got, tc.want)
		}
	}
	betweens := []struct {
		name string
		c    *Calendar
		a, b time.Time
		want time.Duration
	}{
		{"30 s + 29 s across the weekend", utcNine, U("2026-11-20T17:59:30Z"), U("2026-11-23T09:00:29Z"), 59 * time.Second},
		{"59.9 s", utcNine, U("2026-11-23T09:00:00Z"), U("2026-11-23T09:00:59.9Z"), 59900 * time.Millisecond},
		{"a pause over the close of business", utcNine, U("2026-11-23T17:59:50Z"), U("2026-11-24T09:00:05Z"), 15 * time.Second},
		{"negative window", utcNine, U("2026-11-23T12:00:00Z"), U("2026-11-23T10:00:00Z"), 0},
		{"Always: a year", Always(), U("2026-01-01T00:00:00Z"), U("2027-01-01T00:00:00Z"), 365 * 24 * time.Hour},
		{"Always: 500 years does not fit a Duration", Always(), U("2000-01-01T00:00:00Z"), U("2500-01-01T00:00:00Z"), math.MaxInt64},
	}
	for _, tc := range betweens {
		if got := tc.c.BusinessBetween(tc.a, tc.b); got != tc.want {
			t.Errorf("%s: between %s and %s = %s, want %s", tc.name, tc.a, tc.b, got, tc.want)
		}
	}
	// 20 pauses of 7 s, one after another, are 140 s, not 20 x 0 minutes.
	var sum time.Duration
	from := U("2026-11-23T17:58:00Z")
	for i := range 20 {
		a := from.Add(time.Duration(i) * 10 * time.Second)
		sum += utcNine.BusinessBetween(a, a.Add(7*time.Second))
	}
	if sum != 84*time.Second { // 12 pauses before 18:00 (17:58:00..17:59:57), 8 after
		t.Errorf("20 pauses of 7 s around the close = %s, want 84s", sum)
	}
}

func TestBetweenIsTheSumOfOpenMinutes(t *testing.T) {
	// Over weeks around the daylight-saving changes and holidays, Between equals the minutes at
	// which IsOpen is true, whole and split at every day boundary.
	windows := []string{"2026-03-02T00:00:00Z", "2026-03-23T00:00:00Z", "2026-10-19T00:00:00Z", "2026-10-26T00:00:00Z",
		"2026-11-23T00:00:00Z", "2026-12-21T00:00:00Z", "2028-02-24T00:00:00Z", "2026-06-29T00:00:00Z", "2026-04-01T00:00:00Z",
		// Past the zones' explicit transitions, where Go follows their TZ rule (and its
		// ZoneBounds ends leap years a day early, golang/go#81583).
		"2040-12-27T00:00:00Z", "2096-12-28T00:00:00Z", "2100-03-08T00:00:00Z", "2100-10-28T00:00:00Z",
		// Exceptions.
		"2026-11-16T00:00:00Z", "2026-11-30T00:00:00Z", "2026-12-28T00:00:00Z", "2026-03-05T00:00:00Z",
		"2025-10-30T00:00:00Z", "2027-07-01T00:00:00Z"}
	for ci, c := range fuzzCalendars(t) {
		for _, w := range windows {
			a := utc(t, w)
			b := a.Add(7 * 24 * time.Hour)
			want := openMinutes(c, a, b)
			if got := c.BusinessMinutesBetween(a, b); got != want {
				t.Errorf("calendar %d (%s), week of %s: between = %d, open minutes = %d", ci, c.Location(), w, got, want)
			}
			sum := 0
			for d := a; d.Before(b); d = d.Add(24 * time.Hour) {
				sum += c.BusinessMinutesBetween(d, d.Add(24*time.Hour))
			}
			if sum != want {
				t.Errorf("calendar %d (%s), week of %s: sum of days = %d, open minutes = %d", ci, c.Location(), w, sum, want)
			}
		}
	}
}

// bruteAdd adds minutes by walking minute by minute with IsOpen, from a minute-aligned instant;
// ok=false when it takes more than maxSteps minutes.
func bruteAdd(c *Calendar, from time.Time, minutes, maxSteps int) (time.Time, bool) {
	at := from
	for n, steps := 0, 0; n < minutes; steps++ {
		if steps > maxSteps {
			return time.Time{}, false
		}
		if c.IsOpen(at) {
			n++
		}
		at = at.Add(time.Minute)
	}
	return at, true
}

func bruteNextOpen(c *Calendar, from time.Time, maxSteps int) (time.Time, bool) {
	for at, steps := from, 0; steps <= maxSteps; at, steps = at.Add(time.Minute), steps+1 {
		if c.IsOpen(at) {
			return at, true
		}
	}
	return time.Time{}, false
}

func TestAgainstIsOpen(t *testing.T) {
	// Random minute-aligned starts around the daylight-saving changes and holidays of the
	// calendars, against walking minute by minute with IsOpen.
	rng := rand.New(rand.NewPCG(4, 2026))
	starts := []string{"2026-02-28T00:00:00Z", "2026-03-24T00:00:00Z", "2026-10-01T00:00:00Z", "2026-10-20T00:00:00Z",
		"2026-11-20T00:00:00Z", "2026-12-20T00:00:00Z", "2028-02-25T00:00:00Z", "2026-07-01T00:00:00Z", "2026-04-01T00:00:00Z",
		"2040-12-20T00:00:00Z", "2100-10-20T00:00:00Z",
		"2026-11-14T00:00:00Z", "2026-03-01T00:00:00Z", "2025-10-26T00:00:00Z", "2027-06-28T00:00:00Z", "2028-03-05T00:00:00Z"}
	n := 40
	if testing.Short() {
		n = 8
	}
	for ci, c := range fuzzCalendars(t) {
		for range n {
			from := utc(t, starts[rng.IntN(len(starts))]).Add(time.Duration(rng.IntN(14*1440)) * time.Minute)
			m := rng.IntN(1500)
			want, ok := bruteAdd(c, from, m, 40*1440)
			if !ok {
				continue
			}
			if got := c.AddBusinessMinutes(from, m); !got.Equal(want) {
				t.Errorf("calendar %d (%s): %s + %d = %s, want %s", ci, c.Location(), from, m, got.UTC(), want)
			}
			b := from.Add(time.Duration(rng.IntN(4*1440)) * time.Minute)
			if got, want := c.BusinessMinutesBetween(from, b), openMinutes(c, from, b); got != want {
				t.Errorf("calendar %d (%s): between %s and %s = %d, want %d", ci, c.Location(), from, b, got, want)
			}
			wantOpen, ok := bruteNextOpen(c, from, 40*1440)
			if !ok {
				continue
			}
			if got, ok := c.NextOpen(from); !ok || !got.Equal(wantOpen) {
				t.Errorf("calendar %d (%s): next open after %s = %s %v, want %s", ci, c.Location(), from, got.UTC(), ok, wantOpen)
			}
		}
	}
}

func TestNextOpen(t *testing.T) {
	utcNine := mustCompile(t, nineToSix("UTC"))
	sp := mustCompile(t, nineToSix("America/Sao_Paulo"))
	mondayOff := mustCompile(t, nineToSix("UTC", Holiday{Date: "2026-11-23", Name: "Monday off"}))
	nightNY := mustCompile(t, everyDay("America/New_York", iv("01:00", "03:00")))
	night := mustCompile(t, nightShift)
	gap := mustCompile(t, everyDay("America/New_York", iv("02:10", "02:50"))) // never on spring-forward day
	closed := mustCompile(t, Spec{Timezone: "UTC"})
	U := func(s string) time.Time { return utc(t, s) }

	cases := []struct {
		name string
		c    *Calendar
		t    time.Time
		want time.Time
		ok   bool
	}{
		{"open is itself", utcNine, U("2026-11-23T10:00:00.5Z"), U("2026-11-23T10:00:00.5Z"), true},
		{"the opening minute", utcNine, U("2026-11-23T09:00:00Z"), U("2026-11-23T09:00:00Z"), true},
		{"the last instant", utcNine, U("2026-11-23T17:59:59.999999999Z"), U("2026-11-23T17:59:59.999999999Z"), true},
		{"the closing minute", utcNine, U("2026-11-23T18:00:00Z"), U("2026-11-24T09:00:00Z"), true},
		{"before opening", utcNine, U("2026-11-23T08:59:59.999Z"), U("2026-11-23T09:00:00Z"), true},
		{"Friday evening", utcNine, U("2026-11-20T17:50:00Z"), U("2026-11-20T17:50:00Z"), true},
		{"Friday after closing", utcNine, U("2026-11-20T18:10:00Z"), U("2026-11-23T09:00:00Z"), true},
		{"Sao Paulo", sp, U("2026-11-21T12:00:00Z"), U("2026-11-23T12:00:00Z"), true},
		{"holiday Monday", mondayOff, U("2026-11-21T12:00:00Z"), U("2026-11-24T09:00:00Z"), true},
		{"spring forward skips nothing open", nightNY, U("2026-03-08T07:00:00Z"), U("2026-03-09T05:00:00Z"), true},
		{"fall back: the repeated hour is open", nightNY, U("2026-11-01T06:00:00Z"), U("2026-11-01T06:00:00Z"), true},
		{"an interval inside the missing hour", gap, U("2026-03-07T08:00:00Z"), U("2026-03-09T06:10:00Z"), true},
		{"the day before it", gap, U("2026-03-07T06:00:00Z"), U("2026-03-07T07:10:00Z"), true},
		{"the day after it", gap, U("2026-03-08T12:00:00Z"), U("2026-03-09T06:10:00Z"), true},
		{"22:00-06:00 after midnight", night, U("2026-11-17T05:00:00Z"), U("2026-11-17T05:00:00Z"), true},
		{"22:00-06:00 holiday", night, U("2026-11-26T23:59:00Z"), U("2026-11-26T23:59:00Z"), true},
		{"22:00-06:00 holiday midnight", night, U("2026-11-27T00:00:00Z"), U("2026-11-30T22:00:00Z"), true},
		{"never open", closed, U("2026-11-23T10:00:00Z"), Never(), false},
	}
	for _, tc := range cases {
		got, ok := tc.c.NextOpen(tc.t)
		if !got.Equal(tc.want) || ok != tc.ok {
			t.Errorf("%s: next open after %s = %s %v, want %s %v", tc.name, tc.t.Format(time.RFC3339Nano),
				got.Format(time.RFC3339Nano), ok, tc.want.Format(time.RFC3339Nano), tc.ok)
		}
		if ok && !tc.c.IsOpen(got) {
			t.Errorf("%s: next open %s is not open", tc.name, got)
		}
	}
	// t itself when open, location and all; else in t's location.
	loc := sp.Location()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, loc)
	if got, _ := sp.NextOpen(at); got != at {
		t.Errorf("open: got %#v, want t itself", got)
	}
	if got, _ := sp.NextOpen(at.Add(10 * time.Hour)); got.Location() != loc {
		t.Errorf("closed: got location %s, want %s", got.Location(), loc)
	}
}

func TestCalendarsThatNeverOpen(t *testing.T) {
	// Open on Mondays only, and every date of the year a recurring holiday: it has intervals but
	// never opens.
	var hs []Holiday
	for d := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC); d.Year() == 2024; d = d.AddDate(0, 0, 1) {
		hs = append(hs, Holiday{Date: d.Format(time.DateOnly), Recurring: true})
	}
	never := mustCompile(t, Spec{Timezone: "America/New_York", Week: map[string][]Interval{"monday": {iv("09:00", "17:00")}}, Holidays: hs})
	from := utc(t, "2026-11-20T17:50:00Z")
	start := time.Now()
	if got, ok := never.NextOpen(from); ok || !got.Equal(Never()) {
		t.Errorf("next open = %s %v, want Never false", got, ok)
	}
	if got := never.AddBusinessMinutes(from, 30); !got.Equal(Never()) {
		t.Errorf("add = %s, want Never", got)
	}
	if got := never.BusinessMinutesBetween(from, from.AddDate(10, 0, 0)); got != 0 {
		t.Errorf("between = %d, want 0", got)
	}
	t.Logf("gave up in %s", time.Since(start))

	// Open only on February 29 (every other date a recurring holiday), 09:00-10:00.
	var leap []Holiday
	for _, h := range hs {
		if h.Date != "2024-02-29" {
			leap = append(leap, h)
		}
	}
	feb29 := mustCompile(t, Spec{Timezone: "UTC", Week: everyDay("UTC", iv("09:00", "10:00")).Week, Holidays: leap})
	from = utc(t, "2026-03-01T00:00:00Z")
	if got, ok := feb29.NextOpen(from); !ok || !got.Equal(utc(t, "2028-02-29T09:00:00Z")) {
		t.Errorf("next open = %s %v, want 2028-02-29 09:00", got, ok)
	}
	if got := feb29.AddBusinessMinutes(from, 61); !got.Equal(utc(t, "2032-02-29T09:01:00Z")) {
		t.Errorf("add 61 = %s, want 2032-02-29 09:01", got)
	}
	// 97 leap days from 2028 to 2424 (not 2100, 2200, 2300) are within SearchYears; the 98th
	// (2428) is not.
	if got := feb29.AddBusinessMinutes(from, 97*60); !got.Equal(utc(t, "2424-02-29T10:00:00Z")) {
		t.Errorf("add 97 hours = %s, want 2424-02-29 10:00", got)
	}
	if got := feb29.AddBusinessMinutes(from, 97*60+1); !got.Equal(Never()) {
		t.Errorf("add 97 hours and a minute = %s, want Never", got)
	}
	if got := feb29.BusinessMinutesBetween(from, utc(t, "2501-01-01T00:00:00Z")); got != 115*60 {
		t.Errorf("between = %d, want %d", got, 115*60) // 2028..2500, less 2100, 2200, 2300, 2500
	}
	// Near the end of time.
	late := utc(t, "9999-12-31T23:00:00Z")
	if got := Always().AddBusinessMinutes(late, 30); !got.Equal(late.Add(30 * time.Minute)) {
		t.Errorf("add near Never = %s", got)
	}
	if got := Always().AddBusinessMinutes(late, 60); !got.Equal(Never()) {
		t.Errorf("add past Never = %s, want Never", got)
	}
}

func TestAlways(t *testing.T) {
	a := Always()
	if a != Always() {
		t.Error("Always is not shared")
	}
	s := a.Spec()
	if s.Timezone != "UTC" || len(s.Week) != 7 || len(s.Holidays) != 0 {
		t.Errorf("spec = %+v", s)
	}
	for _, d := range Days {
		if ivs := s.Week[d]; len(ivs) != 1 || ivs[0] != iv("00:00", "24:00") {
			t.Errorf("%s: %v", d, ivs)
		}
	}
	for _, at := range []string{"2026-03-08T07:00:00Z", "2026-12-25T00:00:00Z", "2028-02-29T23:59:59Z", "1970-01-01T00:00:00Z"} {
		if !a.IsOpen(utc(t, at)) {
			t.Errorf("%s: closed", at)
		}
	}
	from := utc(t, "2026-11-01T05:30:00-04:00")
	if got, ok := a.NextOpen(from); !ok || got != from {
		t.Errorf("next open = %s %v", got, ok)
	}
	if got := a.BusinessMinutesBetween(from, from.Add(36*time.Hour+30*time.Second)); got != 36*60 {
		t.Errorf("between = %d", got)
	}
}

// fuzzBase and fuzzSpan bound the fuzz test's start instants: 2024 to 2030.
var fuzzBase = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

const fuzzSpan = int64(6 * 366 * 24 * 3600)

func FuzzAddBetween(f *testing.F) {
	cals := fuzzCalendars(f)
	seed := func(cal int, at string, nanos uint32, minutes uint32) {
		t, err := time.Parse(time.RFC3339, at)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(uint8(cal), int64(t.Sub(fuzzBase)/time.Second), nanos, minutes)
	}
	seed(0, "2026-11-20T17:50:00Z", 0, 30)              // Friday 17:50 + 30
	seed(0, "2026-11-20T17:59:30Z", 0, 1)               // seconds across the weekend
	seed(0, "2026-11-21T12:00:00Z", 0, 0)               // zero, closed
	seed(0, "2026-11-23T09:00:00Z", 123456789, 100000)  // long
	seed(1, "2026-11-26T22:30:00-03:00", 0, 60)         // night shift into the company day
	seed(1, "2026-12-24T23:00:00-03:00", 0, 600)        // recurring Christmas
	seed(1, "2026-12-31T09:00:00-03:00", 0, 2000)       // New Year's Eve
	seed(1, "2028-02-28T17:59:00-03:00", 500, 5)        // leap day holiday
	seed(2, "2026-03-08T01:30:00-05:00", 0, 90)         // spring forward
	seed(2, "2026-11-01T01:30:00-04:00", 0, 90)         // fall back, first 01:30
	seed(2, "2026-11-01T01:30:00-05:00", 0, 90)         // fall back, second 01:30
	seed(2, "2026-11-25T23:45:00-05:00", 0, 120)        // Thanksgiving
	seed(2, "2028-07-03T16:59:00-04:00", 0, 61)         // Independence Day
	seed(3, "2026-03-08T00:00:00-05:00", 0, 1440)       // 23-hour day
	seed(3, "2026-11-01T00:00:00-04:00", 0, 1500)       // 25-hour day
	seed(4, "2026-03-28T22:59:00Z", 0, 200)             // Lisbon spring forward during the shift
	seed(4, "2026-10-24T23:30:00+01:00", 0, 400)        // Lisbon fall back during the shift
	seed(4, "2026-10-22T21:00:00+01:00", 0, 100)        // one-off Friday holiday
	seed(4, "2027-06-11T23:00:00+01:00", 0, 1000)       // Santo António
	seed(5, "2026-11-26T22:00:00Z", 0, 121)             // night shift and holiday
	seed(5, "2026-11-21T05:00:00Z", 0, 120)             // Saturday morning spill
	seed(6, "2026-04-04T14:00:00Z", 0, 300)             // Lord Howe falls back 30 minutes
	seed(6, "2026-10-03T14:00:00Z", 0, 300)             // Lord Howe springs forward 30 minutes
	seed(7, "2026-03-08T06:45:00Z", 0, 61)              // sparse: Sunday 01:30-02:30 in the gap
	seed(7, "2026-11-01T05:45:00Z", 0, 100000)          // sparse, fall back, long
	seed(8, "2026-11-20T11:50:00-03:00", 0, 20)         // exception on a holiday, then a Saturday opening
	seed(8, "2026-11-26T20:00:00-03:00", 0, 361)        // an exception's night into a regular Friday
	seed(8, "2026-12-03T21:00:00-03:00", 0, 180)        // a night shift into a Friday with an exception
	seed(8, "2026-12-23T12:00:00-03:00", 0, 900)        // into a short Christmas Eve, Christmas, a Saturday night
	seed(8, "2026-12-30T17:00:00-03:00", 0, 600)        // closed Thursday, holiday, Saturday inventory
	seed(9, "2026-03-07T21:00:00-05:00", 0, 400)        // exceptions over spring forward
	seed(9, "2026-10-31T23:00:00-04:00", 0, 300)        // an exception over fall back
	seed(9, "2025-11-02T00:00:00-04:00", 0, 1000)       // fall back and a night into Monday
	seed(9, "2026-11-25T17:00:00-05:00", 0, 500)        // Thanksgiving morning, Black Friday off
	seed(9, "2027-07-03T12:00:00-04:00", 0, 3000)       // open all the Fourth
	seed(10, "2029-12-31T23:59:59Z", 999999999, 100000) // Always, end of the span

	f.Fuzz(func(t *testing.T, cal uint8, sec int64, nanos uint32, minutes uint32) {
		c := cals[int(cal)%len(cals)]
		sec %= fuzzSpan
		if sec < 0 {
			sec += fuzzSpan
		}
		from := fuzzBase.Add(time.Duration(sec)*time.Second + time.Duration(nanos%1e9))
		m := int(minutes % 100001)

		due := c.AddBusinessMinutes(from, m)
		if due.Equal(Never()) {
			t.Fatalf("%s + %d = Never", from, m)
		}
		if m == 0 && due != from {
			t.Fatalf("%s + 0 = %s", from, due)
		}
		open, ok := c.NextOpen(from)
		if !ok || open.Before(from) || !c.IsOpen(open) {
			t.Fatalf("next open after %s = %s %v", from, open, ok)
		}
		if c.IsOpen(from) != open.Equal(from) {
			t.Fatalf("open %v at %s, but next open %s", c.IsOpen(from), from, open)
		}
		if open.After(from) && c.IsOpen(open.Add(-time.Nanosecond)) {
			t.Fatalf("next open after %s = %s, but open just before", from, open)
		}
		if n := c.BusinessMinutesBetween(from, open); n != 0 {
			t.Fatalf("between %s and its next open %s = %d", from, open, n)
		}
		if n := c.BusinessMinutesBetween(open, due); n != m {
			t.Fatalf("between next open %s and %s + %d = %s: %d", open, from, m, due, n)
		}
		if n := c.BusinessMinutesBetween(from, due); n != m {
			t.Fatalf("between %s and %s + %d = %s: %d", from, from, m, due, n)
		}
		if m > 0 {
			if due.Sub(open) < time.Duration(m)*time.Minute {
				t.Fatalf("%s + %d = %s: less than %d real minutes after opening %s", from, m, due, m, open)
			}
			if !c.IsOpen(due.Add(-time.Nanosecond)) {
				t.Fatalf("%s + %d = %s: the last instant counted is closed", from, m, due)
			}
			if n := c.BusinessMinutesBetween(from, due.Add(-time.Nanosecond)); n != m-1 {
				t.Fatalf("%s + %d = %s: a nanosecond earlier counts %d", from, m, due, n)
			}
		}
		// Monotonic in the minutes, and additive.
		next := c.AddBusinessMinutes(from, m+1)
		if next.Sub(due) < time.Minute {
			t.Fatalf("%s + %d = %s, + %d = %s", from, m, due, m+1, next)
		}
		half := c.AddBusinessMinutes(from, m/2)
		if half.After(due) {
			t.Fatalf("%s + %d = %s after + %d = %s", from, m/2, half, m, due)
		}
		if m/2 > 0 {
			if again := c.AddBusinessMinutes(half, m-m/2); !again.Equal(due) {
				t.Fatalf("(%s + %d) + %d = %s, want %s", from, m/2, m-m/2, again, due)
			}
		}
		// Exact business time: the minute form is AddBusiness of whole minutes, and adding a
		// duration with seconds and nanoseconds is undone by counting it, to the nanosecond.
		if got := c.AddBusiness(from, time.Duration(m)*time.Minute); !got.Equal(due) {
			t.Fatalf("%s + %d min: AddBusiness %s, AddBusinessMinutes %s", from, m, got, due)
		}
		d := time.Duration(m)*time.Minute + time.Duration(uint64(nanos)*1_000_003%uint64(time.Minute))
		exact := c.AddBusiness(from, d)
		if exact.Equal(Never()) || exact.Before(due) {
			t.Fatalf("%s + %s = %s, before %s + %d min = %s", from, d, exact, from, m, due)
		}
		if n := c.BusinessBetween(from, exact); n != d {
			t.Fatalf("between %s and %s + %s = %s: %s", from, from, d, exact, n)
		}
		if n := c.BusinessBetween(open, exact); n != d {
			t.Fatalf("between next open %s and %s + %s = %s: %s", open, from, d, exact, n)
		}
		if n := c.BusinessBetween(from, open); n != 0 {
			t.Fatalf("between %s and its next open %s = %s", from, open, n)
		}
		if n := c.BusinessMinutesBetween(from, exact); n != int(d/time.Minute) {
			t.Fatalf("minutes between %s and %s + %s = %d", from, from, d, n)
		}
		if d > 0 {
			if !c.IsOpen(exact.Add(-time.Nanosecond)) {
				t.Fatalf("%s + %s = %s: the last instant counted is closed", from, d, exact)
			}
			if n := c.BusinessBetween(from, exact.Add(-time.Nanosecond)); n != d-time.Nanosecond {
				t.Fatalf("%s + %s = %s: a nanosecond earlier counts %s", from, d, exact, n)
			}
			if again := c.AddBusiness(c.AddBusiness(from, d/3), d-d/3); !again.Equal(exact) {
				t.Fatalf("(%s + %s) + %s = %s, want %s", from, d/3, d-d/3, again, exact)
			}
		}
		// Against IsOpen, minute by minute, for a short count from the minute of from.
		aligned := from.Truncate(time.Minute)
		k := m % 300
		if want, ok := bruteAdd(c, aligned, k, 20*1440); ok {
			if got := c.AddBusinessMinutes(aligned, k); !got.Equal(want) {
				t.Fatalf("%s + %d = %s, IsOpen says %s", aligned, k, got, want)
			}
		}
	})
}

func BenchmarkAddBusinessMinutes(b *testing.B) {
	from := time.Date(2026, 11, 20, 17, 50, 0, 0, time.UTC)
	for _, bc := range []struct {
		name string
		spec Spec
	}{
		{"nineToSix_SaoPaulo", nineToSix("America/Sao_Paulo")},
		{"office_holidays", office},
		{"newYork_DST", newYork},
		{"lisbonNights", lisbonNights},
		{"seasonal_exceptions", seasonal},
	} {
		c, err := bc.spec.Compile()
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range []int{30, 100000} {
			b.Run(bc.name+"/"+strconv.Itoa(m), func(b *testing.B) {
				for b.Loop() {
					c.AddBusinessMinutes(from, m)
				}
			})
		}
	}
	b.Run("Always/100000", func(b *testing.B) {
		c := Always()
		for b.Loop() {
			c.AddBusinessMinutes(from, 100000)
		}
	})
}

func BenchmarkBusinessMinutesBetween(b *testing.B) {
	c, err := office.Compile()
	if err != nil {
		b.Fatal(err)
	}
	a := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		c.BusinessMinutesBetween(a, a.AddDate(1, 0, 0))
	}
}

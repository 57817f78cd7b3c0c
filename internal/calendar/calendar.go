// Package calendar is business-hours arithmetic: a weekly schedule of open intervals in an IANA
// time zone, less holidays. It does no I/O beyond loading time zones, which it carries itself
// (time/tzdata), so it works on machines and images without system tzdata.
//
// Rules:
//
//   - Intervals are local wall-clock times in the calendar's zone ("HH:MM", 24-hour clock; End
//     may be "24:00"). An interval whose End is before its Start runs past midnight into the next
//     day (22:00-06:00); its part after midnight belongs to the day it started on.
//   - Daylight-saving changes do not move intervals: 09:00-17:00 is 09:00-17:00 local time on
//     every day. On a spring-forward day the wall-clock times that do not exist are simply never
//     reached (an interval 01:00-04:00 in New York on 2026-03-08 lasts two real hours, one
//     02:00-03:00 is never open); on a fall-back day the repeated hour is open both times it
//     happens if the interval covers it (01:00-02:00 on 2026-11-01 lasts two real hours).
//   - A holiday closes its whole local date, 00:00 to 24:00, including the part after midnight
//     of an interval that started the evening before. A shift that starts on a holiday does not
//     happen at all: its part after midnight stays closed too, though the next date is not a
//     holiday. So a date's open time is its own intervals plus the spill of the previous date's
//     midnight-spanning intervals, and none of it when either date is a holiday.
//   - A recurring holiday falls on the same month and day every year (any year, before or after
//     the year written); 02-29 falls only in leap years.
//
// The compiled Calendar keeps, for every weekday, its open segments in minutes of the local
// date (the spill of the previous day's midnight-spanning intervals included and marked), and
// the holidays by date, so business-time arithmetic (SLA deadlines) can walk open intervals date
// by date.
package calendar

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zones load without system tzdata (distroless images)
)

// Interval is an open interval of a day, "HH:MM" to "HH:MM" local time. End may be "24:00"; an
// End before Start runs past midnight into the next day.
type Interval struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Holiday is a date on which the calendar is closed all day.
type Holiday struct {
	Date      string `json:"date"` // YYYY-MM-DD
	Name      string `json:"name"`
	Recurring bool   `json:"recurring"` // the same month and day every year
}

// Spec is a calendar as written and stored.
type Spec struct {
	Timezone string                `json:"timezone"`
	Week     map[string][]Interval `json:"week"` // monday..sunday; a missing day is closed
	Holidays []Holiday             `json:"holidays"`
}

// Limits of a spec.
const (
	MaxIntervalsPerDay = 12
	MaxHolidays        = 500
	MaxHolidayName     = 200
)

// Days are the keys of Spec.Week, Monday first.
var Days = []string{"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"}

var weekdays = map[string]time.Weekday{"monday": time.Monday, "tuesday": time.Tuesday,
	"wednesday": time.Wednesday, "thursday": time.Thursday, "friday": time.Friday,
	"saturday": time.Saturday, "sunday": time.Sunday}

const dayMinutes = 24 * 60

// InvalidError is the error of Compile on an invalid spec: every field path with what is wrong.
type InvalidError struct {
	Fields map[string]string
}

func (e *InvalidError) Error() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + ": " + e.Fields[k]
	}
	return "invalid calendar: " + strings.Join(parts, "; ")
}

// Calendar is a compiled, valid Spec. It is immutable and safe for concurrent use.
type Calendar struct {
	spec      Spec
	loc       *time.Location
	days      [7][]segment // by time.Weekday
	dates     map[date]string
	recurring map[monthDay]string
}

// segment is an open stretch of one local date, in minutes [start, end). spill marks the part
// after midnight of an interval that started on the previous date.
type segment struct {
	start, end int
	spill      bool
}

type date struct {
	year  int
	month time.Month
	day   int
}

type monthDay struct {
	month time.Month
	day   int
}

// Validate checks the spec and returns each invalid field path (timezone, week.monday[1],
// week.monday[1].start, holidays[0].date, ...) with what is wrong and what is allowed; it is
// empty when the spec is valid.
func (s Spec) Validate() map[string]string {
	fields := map[string]string{}
	if _, err := loadLocation(s.Timezone); err != nil {
		fields["timezone"] = err.Error()
	}
	validateWeek(s.Week, fields)
	validateHolidays(s.Holidays, fields)
	return fields
}

// Compile validates the spec and builds the calendar; an invalid spec is an *InvalidError.
func (s Spec) Compile() (*Calendar, error) {
	if fields := s.Validate(); len(fields) > 0 {
		return nil, &InvalidError{Fields: fields}
	}
	loc, _ := loadLocation(s.Timezone)
	c := &Calendar{spec: s.clone(), loc: loc, dates: map[date]string{}, recurring: map[monthDay]string{}}
	for day, ivs := range s.Week {
		wd := weekdays[day]
		next := (wd + 1) % 7
		for _, iv := range ivs {
			start, _ := parseClock(iv.Start, false)
			end, _ := parseClock(iv.End, true)
			if end > start {
				c.days[wd] = append(c.days[wd], segment{start: start, end: end})
				continue
			}
			c.days[wd] = append(c.days[wd], segment{start: start, end: dayMinutes})
			if end > 0 {
				c.days[next] = append(c.days[next], segment{start: 0, end: end, spill: true})
			}
		}
	}
	for i := range c.days {
		sort.Slice(c.days[i], func(a, b int) bool { return c.days[i][a].start < c.days[i][b].start })
	}
	for _, h := range s.Holidays {
		t, _ := time.Parse(time.DateOnly, h.Date)
		if h.Recurring {
			c.recurring[monthDay{t.Month(), t.Day()}] = h.Name
		} else {
			c.dates[date{t.Year(), t.Month(), t.Day()}] = h.Name
		}
	}
	return c, nil
}

// Spec returns the spec the calendar was compiled from.
func (c *Calendar) Spec() Spec { return c.spec.clone() }

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsHoliday reports whether t falls, in the calendar's zone, on a holiday.
func (c *Calendar) IsHoliday(t time.Time) bool {
	_, ok := c.Holiday(t)
	return ok
}

// Holiday returns the name of the holiday t falls on, in the calendar's zone.
func (c *Calendar) Holiday(t time.Time) (string, bool) {
	y, m, d := t.In(c.loc).Date()
	return c.holiday(date{y, m, d})
}

func (c *Calendar) holiday(d date) (string, bool) {
	if name, ok := c.dates[d]; ok {
		return name, true
	}
	name, ok := c.recurring[monthDay{d.month, d.day}]
	return name, ok
}

// IsOpen reports whether t is inside an open interval, by the local wall clock of the calendar's
// zone, on a date that is not a holiday (see the package comment for midnight-spanning
// intervals).
func (c *Calendar) IsOpen(t time.Time) bool {
	lt := t.In(c.loc)
	y, m, d := lt.Date()
	today := date{y, m, d}
	if _, ok := c.holiday(today); ok {
		return false
	}
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	for _, seg := range c.days[lt.Weekday()] {
		if sec < seg.start*60 || sec >= seg.end*60 {
			continue
		}
		if seg.spill {
			py, pm, pd := time.Date(y, m, d-1, 12, 0, 0, 0, time.UTC).Date()
			if _, ok := c.holiday(date{py, pm, pd}); ok {
				continue
			}
		}
		return true
	}
	return false
}

func (s Spec) clone() Spec {
	out := Spec{Timezone: s.Timezone, Week: map[string][]Interval{}, Holidays: append([]Holiday{}, s.Holidays...)}
	for k, v := range s.Week {
		out.Week[k] = append([]Interval{}, v...)
	}
	return out
}

var locations sync.Map // name -> *time.Location

func loadLocation(name string) (*time.Location, error) {
	const hint = "use an IANA name such as America/Sao_Paulo"
	if strings.TrimSpace(name) == "" {
		return nil, fmt.Errorf("is required; %s", hint)
	}
	if name == "Local" {
		return nil, fmt.Errorf("\"Local\" depends on the server; %s", hint)
	}
	if loc, ok := locations.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("unknown time zone %q; %s", name, hint)
	}
	locations.Store(name, loc)
	return loc, nil
}

// parseClock reads "HH:MM" as minutes after midnight; "24:00" only when end is true.
func parseClock(s string, end bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range []int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if end && h == 24 && m == 0 {
		return dayMinutes, true
	}
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

// placed is an interval of the spec with where it is and the part of a date it covers.
type placed struct {
	path       string
	day        string
	text       string // "09:00-12:00"
	start, end int    // minutes of the date
	spill      bool   // the part after midnight of an interval of the previous day
}

func validateWeek(week map[string][]Interval, fields map[string]string) {
	byDay := map[string][]placed{}
	for day, ivs := range week {
		path := "week." + day
		if _, ok := weekdays[day]; !ok {
			fields[path] = "unknown day; use monday..sunday (lower case)"
			continue
		}
		if len(ivs) > MaxIntervalsPerDay {
			fields[path] = fmt.Sprintf("has %d intervals; at most %d a day", len(ivs), MaxIntervalsPerDay)
			continue
		}
		next := Days[(indexOf(Days, day)+1)%7]
		for i, iv := range ivs {
			p := fmt.Sprintf("%s[%d]", path, i)
			start, okStart := parseClock(iv.Start, false)
			end, okEnd := parseClock(iv.End, true)
			if !okStart {
				fields[p+".start"] = fmt.Sprintf("must be HH:MM from 00:00 to 23:59, got %q", iv.Start)
			}
			if !okEnd {
				fields[p+".end"] = fmt.Sprintf("must be HH:MM from 00:00 to 24:00, got %q", iv.End)
			}
			if !okStart || !okEnd {
				continue
			}
			if start == end {
				fields[p] = "start and end are the same; an interval must last at least a minute (00:00-24:00 is the whole day)"
				continue
			}
			text := iv.Start + "-" + iv.End
			if end > start {
				byDay[day] = append(byDay[day], placed{path: p, day: day, text: text, start: start, end: end})
				continue
			}
			byDay[day] = append(byDay[day], placed{path: p, day: day, text: text, start: start, end: dayMinutes})
			if end > 0 {
				byDay[next] = append(byDay[next], placed{path: p, day: day, text: text, start: 0, end: end, spill: true})
			}
		}
	}
	for _, day := range Days {
		segs := byDay[day]
		// Report each overlap once, on the interval listed later in its day (or, for the part
		// after midnight of the previous day's interval, on that interval).
		for i := range segs {
			for j := range segs {
				a, b := segs[i], segs[j]
				if i == j || !(a.start < b.end && b.start < a.end) {
					continue
				}
				if !reportOn(a, b) {
					continue
				}
				if _, done := fields[a.path]; done {
					continue
				}
				switch {
				case a.spill:
					fields[a.path] = fmt.Sprintf("runs past midnight into %s and overlaps %s's %s", day, day, b.text)
				case b.spill:
					fields[a.path] = fmt.Sprintf("overlaps the part after midnight of %s's %s", b.day, b.text)
				default:
					fields[a.path] = "overlaps " + b.text
				}
			}
		}
	}
}

// reportOn says whether an overlap of a with b is reported on a.
func reportOn(a, b placed) bool {
	switch {
	case a.spill != b.spill:
		return a.spill
	default:
		return indexAfter(a.path, b.path)
	}
}

// indexAfter orders two interval paths of the same day by index ("week.monday[10]" after
// "week.monday[9]").
func indexAfter(a, b string) bool {
	if len(a) != len(b) {
		return len(a) > len(b)
	}
	return a > b
}

func validateHolidays(hs []Holiday, fields map[string]string) {
	if len(hs) > MaxHolidays {
		fields["holidays"] = fmt.Sprintf("has %d holidays; at most %d", len(hs), MaxHolidays)
		return
	}
	seen := map[string]int{}
	for i, h := range hs {
		p := fmt.Sprintf("holidays[%d]", i)
		t, err := time.Parse(time.DateOnly, h.Date)
		if err != nil || len(h.Date) != len(time.DateOnly) {
			fields[p+".date"] = fmt.Sprintf("must be YYYY-MM-DD, a real date, got %q", h.Date)
		}
		if len([]rune(h.Name)) > MaxHolidayName {
			fields[p+".name"] = fmt.Sprintf("must be at most %d characters", MaxHolidayName)
		}
		if err != nil {
			continue
		}
		key := h.Date
		what := h.Date
		if h.Recurring {
			key = t.Format("*-01-02")
			what = "every " + t.Format("01-02")
		}
		if first, ok := seen[key]; ok {
			fields[p+".date"] = fmt.Sprintf("repeats holidays[%d] (%s); list each date once", first, what)
			continue
		}
		seen[key] = i
	}
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

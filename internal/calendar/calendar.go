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
//   - An exception gives one local date its own intervals in place of its weekday's (a shorter
//     Christmas Eve 09:00-13:00, a Saturday opening for a launch); with no intervals it closes
//     the date. It is more specific than a holiday, so on a date that is both, the exception
//     wins: the date opens as the exception says, and IsHoliday is false on it.
//   - An exception, like a holiday, decides its whole date, 00:00 to 24:00: the part after
//     midnight of the previous date's interval does not happen on it (write 00:00-06:00 in the
//     exception to keep a night shift going). An exception's own interval past midnight spills
//     into the next date like a weekday's, unless that date is a holiday or has an exception
//     itself; it must not overlap that next date's weekday intervals.
//
// So a date's open time is: its exception's intervals if it has one; nothing if it is a holiday;
// otherwise its weekday's intervals plus the part after midnight of the previous date's
// interval (the previous date's exception's, when it has one; none when it is a holiday).
//
// The compiled Calendar keeps, for every weekday, its open segments in minutes of the local
// date and the part after midnight of the previous weekday's interval, the holidays by date and
// the exceptions by date, so business-time arithmetic (SLA deadlines) can walk open intervals
// date by date.
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

// Exception is a local date whose intervals replace its weekday's; no intervals closes it.
type Exception struct {
	Date      string     `json:"date"` // YYYY-MM-DD
	Name      string     `json:"name"`
	Intervals []Interval `json:"intervals"`
}

// Spec is a calendar as written and stored.
type Spec struct {
	Timezone string                `json:"timezone"`
	Week     map[string][]Interval `json:"week"` // monday..sunday; a missing day is closed
	Holidays []Holiday             `json:"holidays"`
	// Exceptions are dates with their own intervals. Omitted when empty, so specs written
	// before exceptions existed (SLA snapshots in workflow state) read and write the same.
	Exceptions []Exception `json:"exceptions,omitempty"`
}

// Limits of a spec.
const (
	MaxIntervalsPerDay = 12
	MaxHolidays        = 500
	MaxHolidayName     = 200
	MaxExceptions      = 500
	MaxExceptionName   = 200
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
	spec       Spec
	loc        *time.Location
	own        [7][]segment // by time.Weekday: the weekday's own segments, by start
	spill      [7]int       // by time.Weekday: end of the part after midnight of the previous weekday's interval; 0 for none
	weekOpens  bool         // some weekday has an interval
	dates      map[date]string
	recurring  map[monthDay]string
	exceptions map[date]*exception
	// exceptionDays are the dates (days since the Unix epoch), in order, on which an exception
	// may open: its own date when it has intervals, and the next when one runs past midnight.
	// With no weekday intervals, these are the only dates that can open.
	exceptionDays []int64
}

// segment is an open stretch of one local date, in minutes [start, end).
type segment struct {
	start, end int
}

// exception is a compiled Exception: the segments of its date, by start, and the end of the
// part after midnight of its interval that runs into the next date (0 for none).
type exception struct {
	own   []segment
	spill int
}

// dayRule is what decides a date's open time: an exception, a holiday, or (neither) its weekday.
type dayRule struct {
	ex      *exception
	holiday bool
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
// week.monday[1].start, holidays[0].date, exceptions[2].date, exceptions[2].intervals[0], ...)
// with what is wrong and what is allowed; it is empty when the spec is valid.
func (s Spec) Validate() map[string]string {
	fields := map[string]string{}
	if _, err := loadLocation(s.Timezone); err != nil {
		fields["timezone"] = err.Error()
	}
	week := validateWeek(s.Week, fields)
	validateHolidays(s.Holidays, fields)
	validateExceptions(s, week, fields)
	return fields
}

// Compile validates the spec and builds the calendar; an invalid spec is an *InvalidError.
func (s Spec) Compile() (*Calendar, error) {
	if fields := s.Validate(); len(fields) > 0 {
		return nil, &InvalidError{Fields: fields}
	}
	loc, _ := loadLocation(s.Timezone)
	c := &Calendar{spec: s.clone(), loc: loc, exceptions: map[date]*exception{}}
	for day, ivs := range s.Week {
		wd := weekdays[day]
		for _, iv := range ivs {
			seg, spill := compileInterval(iv)
			c.own[wd] = append(c.own[wd], seg)
			if spill > 0 {
				c.spill[(wd+1)%7] = spill
			}
			c.weekOpens = true
		}
	}
	for i := range c.own {
		sortSegments(c.own[i])
	}
	c.dates, c.recurring = holidaySets(s.Holidays)
	for _, e := range s.Exceptions {
		t, _ := time.Parse(time.DateOnly, e.Date)
		ex := &exception{}
		for _, iv := range e.Intervals {
			seg, spill := compileInterval(iv)
			ex.own = append(ex.own, seg)
			if spill > 0 {
				ex.spill = spill
			}
		}
		sortSegments(ex.own)
		c.exceptions[date{t.Year(), t.Month(), t.Day()}] = ex
		day := t.Unix() / (24 * 3600)
		if len(ex.own) > 0 {
			c.exceptionDays = append(c.exceptionDays, day)
		}
		if ex.spill > 0 {
			c.exceptionDays = append(c.exceptionDays, day+1)
		}
	}
	sort.Slice(c.exceptionDays, func(a, b int) bool { return c.exceptionDays[a] < c.exceptionDays[b] })
	return c, nil
}

// compileInterval is the segment of a valid interval on its own date and, for one that runs
// past midnight, the end of its part on the next date (0 for none).
func compileInterval(iv Interval) (segment, int) {
	start, _ := parseClock(iv.Start, false)
	end, _ := parseClock(iv.End, true)
	if end > start {
		return segment{start: start, end: end}, 0
	}
	return segment{start: start, end: dayMinutes}, end
}

func sortSegments(segs []segment) {
	sort.Slice(segs, func(a, b int) bool { return segs[a].start < segs[b].start })
}

// holidaySets are the valid holidays of hs: one-off by date, recurring by month and day.
func holidaySets(hs []Holiday) (map[date]string, map[monthDay]string) {
	dates, recurring := map[date]string{}, map[monthDay]string{}
	for _, h := range hs {
		t, err := time.Parse(time.DateOnly, h.Date)
		if err != nil {
			continue
		}
		if h.Recurring {
			recurring[monthDay{t.Month(), t.Day()}] = h.Name
		} else {
			dates[date{t.Year(), t.Month(), t.Day()}] = h.Name
		}
	}
	return dates, recurring
}

// Spec returns the spec the calendar was compiled from.
func (c *Calendar) Spec() Spec { return c.spec.clone() }

// Location is the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsHoliday reports whether t falls, in the calendar's zone, on a holiday. A date with an
// exception is not a holiday: the exception decides it.
func (c *Calendar) IsHoliday(t time.Time) bool {
	_, ok := c.Holiday(t)
	return ok
}

// Holiday returns the name of the holiday t falls on, in the calendar's zone; none on a date
// with an exception.
func (c *Calendar) Holiday(t time.Time) (string, bool) {
	y, m, d := t.In(c.loc).Date()
	if _, ok := c.exceptions[date{y, m, d}]; ok {
		return "", false
	}
	return c.holiday(date{y, m, d})
}

// holiday looks the date up among the holidays, exceptions aside.
func (c *Calendar) holiday(d date) (string, bool) {
	if name, ok := c.dates[d]; ok {
		return name, true
	}
	name, ok := c.recurring[monthDay{d.month, d.day}]
	return name, ok
}

// rule is what decides the date's open time.
func (c *Calendar) rule(d date) dayRule {
	if ex, ok := c.exceptions[d]; ok {
		return dayRule{ex: ex}
	}
	_, h := c.holiday(d)
	return dayRule{holiday: h}
}

// regular reports whether the date follows its weekday.
func (r dayRule) regular() bool { return r.ex == nil && !r.holiday }

// plan is the open time of a date of weekday wd whose rule is today, the previous date's being
// yesterday (needed only when today is regular): the end of the part after midnight of the
// previous date's interval (0 for none), which starts at 00:00, and the date's own segments, by
// start, none of which starts before that end.
func (c *Calendar) plan(today, yesterday dayRule, wd time.Weekday) (spill int, own []segment) {
	switch {
	case today.ex != nil:
		return 0, today.ex.own
	case today.holiday:
		return 0, nil
	case yesterday.ex != nil:
		return yesterday.ex.spill, c.own[wd]
	case yesterday.holiday:
		return 0, c.own[wd]
	default:
		return c.spill[wd], c.own[wd]
	}
}

// IsOpen reports whether t is inside an open interval, by the local wall clock of the calendar's
// zone, on a date that is not a holiday, or as its exception says (see the package comment for
// midnight-spanning intervals).
func (c *Calendar) IsOpen(t time.Time) bool {
	lt := t.In(c.loc)
	y, m, d := lt.Date()
	today := c.rule(date{y, m, d})
	var yesterday dayRule
	if today.regular() {
		py, pm, pd := time.Date(y, m, d-1, 12, 0, 0, 0, time.UTC).Date()
		yesterday = c.rule(date{py, pm, pd})
	}
	spill, own := c.plan(today, yesterday, lt.Weekday())
	sec := lt.Hour()*3600 + lt.Minute()*60 + lt.Second()
	if sec < spill*60 {
		return true
	}
	for _, seg := range own {
		if sec >= seg.start*60 && sec < seg.end*60 {
			return true
		}
	}
	return false
}

func (s Spec) clone() Spec {
	out := Spec{Timezone: s.Timezone, Week: map[string][]Interval{}, Holidays: append([]Holiday{}, s.Holidays...)}
	for k, v := range s.Week {
		out.Week[k] = append([]Interval{}, v...)
	}
	if s.Exceptions != nil {
		out.Exceptions = make([]Exception, len(s.Exceptions))
		for i, e := range s.Exceptions {
			e.Intervals = append([]Interval{}, e.Intervals...)
			out.Exceptions[i] = e
		}
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

// validateWeek checks the week and returns its valid intervals placed by day (each day's own
// and the part after midnight of the previous day's).
func validateWeek(week map[string][]Interval, fields map[string]string) map[string][]placed {
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
		own, spill := placeIntervals(path, day, ivs, fields)
		byDay[day] = append(byDay[day], own...)
		byDay[next] = append(byDay[next], spill...)
	}
	for _, day := range Days {
		reportOverlaps(byDay[day], day, day+"'s", fields)
	}
	return byDay
}

// placeIntervals checks the intervals of one day, listed at path[i], and places the valid ones:
// their parts on the day itself and the parts after midnight, on the next day, of those that
// run past it.
func placeIntervals(path, day string, ivs []Interval, fields map[string]string) (own, spill []placed) {
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
			own = append(own, placed{path: p, day: day, text: text, start: start, end: end})
			continue
		}
		own = append(own, placed{path: p, day: day, text: text, start: start, end: dayMinutes})
		if end > 0 {
			spill = append(spill, placed{path: p, day: day, text: text, start: 0, end: end, spill: true})
		}
	}
	return own, spill
}

// reportOverlaps reports each overlap among the segments of one date once, on the interval
// listed later in its day (or, for the part after midnight of the previous day's interval, on
// that interval). into names the date ("tuesday"), whose its own intervals ("tuesday's").
func reportOverlaps(segs []placed, into, whose string, fields map[string]string) {
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
				fields[a.path] = fmt.Sprintf("runs past midnight into %s and overlaps %s %s", into, whose, b.text)
			case b.spill:
				fields[a.path] = fmt.Sprintf("overlaps the part after midnight of %s's %s", b.day, b.text)
			default:
				fields[a.path] = "overlaps " + b.text
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
		t, ok := parseDate(h.Date)
		if !ok {
			fields[p+".date"] = dateProblem(h.Date)
		}
		if len([]rune(h.Name)) > MaxHolidayName {
			fields[p+".name"] = fmt.Sprintf("must be at most %d characters", MaxHolidayName)
		}
		if !ok {
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

// validateExceptions checks the exceptions: their dates (each once), names and intervals, and
// that the part after midnight of an exception's interval does not overlap the next date's
// weekday intervals when that date follows its weekday (week holds the valid ones by day).
func validateExceptions(s Spec, week map[string][]placed, fields map[string]string) {
	if len(s.Exceptions) > MaxExceptions {
		fields["exceptions"] = fmt.Sprintf("has %d exceptions; at most %d", len(s.Exceptions), MaxExceptions)
		return
	}
	dates, recurring := holidaySets(s.Holidays)
	excepted := map[date]bool{}
	for _, e := range s.Exceptions {
		if t, ok := parseDate(e.Date); ok {
			excepted[date{t.Year(), t.Month(), t.Day()}] = true
		}
	}
	seen := map[string]int{}
	for i, e := range s.Exceptions {
		p := fmt.Sprintf("exceptions[%d]", i)
		t, dateOK := parseDate(e.Date)
		switch {
		case !dateOK:
			fields[p+".date"] = dateProblem(e.Date)
		default:
			if first, ok := seen[e.Date]; ok {
				fields[p+".date"] = fmt.Sprintf("repeats exceptions[%d] (%s); list each date once", first, e.Date)
			} else {
				seen[e.Date] = i
			}
		}
		if len([]rune(e.Name)) > MaxExceptionName {
			fields[p+".name"] = fmt.Sprintf("must be at most %d characters", MaxExceptionName)
		}
		path := p + ".intervals"
		if len(e.Intervals) > MaxIntervalsPerDay {
			fields[path] = fmt.Sprintf("has %d intervals; at most %d a day", len(e.Intervals), MaxIntervalsPerDay)
			continue
		}
		own, spill := placeIntervals(path, e.Date, e.Intervals, fields)
		reportOverlaps(own, e.Date, "its", fields)
		if len(spill) == 0 || !dateOK {
			continue
		}
		nt := t.AddDate(0, 0, 1)
		next := date{nt.Year(), nt.Month(), nt.Day()}
		_, holiday := dates[next]
		_, yearly := recurring[monthDay{next.month, next.day}]
		if excepted[next] || holiday || yearly {
			continue // the next date does not take the part after midnight
		}
		day := Days[(int(nt.Weekday())+6)%7]
		segs := append([]placed{}, spill...)
		for _, pl := range week[day] {
			if !pl.spill {
				segs = append(segs, pl)
			}
		}
		reportOverlaps(segs, fmt.Sprintf("%s (a %s)", nt.Format(time.DateOnly), day), day+"'s", fields)
	}
}

// The years a calendar date may fall in: the same range as the telephony API's call dates. A
// date outside it is a typo (year 0, 9999), never a schedule.
const (
	MinYear = 1970
	MaxYear = 2100
)

// parseDate reads YYYY-MM-DD, a real date from MinYear to MaxYear.
func parseDate(s string) (time.Time, bool) {
	t, err := time.Parse(time.DateOnly, s)
	return t, err == nil && len(s) == len(time.DateOnly) && t.Year() >= MinYear && t.Year() <= MaxYear
}

func dateProblem(s string) string {
	return fmt.Sprintf("must be YYYY-MM-DD, a real date from %d to %d, got %q", MinYear, MaxYear, s)
}

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

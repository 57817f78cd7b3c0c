package calendar

import (
	"math"
	"sort"
	"sync"
	"time"
)

// Business-time arithmetic for SLA deadlines.
//
// Rules, on top of those of the package comment:
//
//   - Minutes are real elapsed minutes. The open time of a calendar is the set of instants at
//     which IsOpen is true, so an interval covering a fall-back day's repeated hour has 60 more
//     real minutes, and a spring-forward day's missing wall-clock times are never open.
//   - AddBusiness and BusinessBetween are exact to the nanosecond, so SLA pauses of a few seconds
//     count in full. The minute forms keep sub-minute precision of the instants:
//     AddBusinessMinutes(09:00:30, 1) is 09:01:30 when 09:00:30-09:01:30 is open;
//     BusinessMinutesBetween rounds the total open time down to whole minutes (30 open seconds on
//     Friday and 30 on Monday make a minute).
//   - Exceptions count as IsOpen says: a Saturday opening adds its minutes, a short Christmas
//     Eve has only its own, a closing exception none.
//   - The arithmetic walks open intervals date by date (and zone period by zone period), never
//     minute by minute: its cost grows with the number of dates it walks, not with the minutes.
//     A calendar with no weekday intervals, open only on exceptions, jumps from one exception
//     to the next.
//   - It looks at most SearchYears ahead. A calendar that is closed for that long (no intervals
//     at all, every open weekday a holiday, or open only on exceptions that are past) never
//     opens: NextOpen says ok=false and
//     AddBusinessMinutes returns Never. So does a deadline further away than that, possible only
//     for calendars open a few minutes a year.

// SearchYears is how far ahead NextOpen and AddBusinessMinutes look for open time.
const SearchYears = 400

// Never is the far-future instant that AddBusinessMinutes returns when the deadline is not
// within SearchYears (and NextOpen with ok=false): 9999-12-31T23:59:59Z, the last second that
// RFC 3339 (and so JSON) can write. No deadline AddBusinessMinutes counts is after it; the
// arithmetic is meant for instants before it.
func Never() time.Time { return never }

var never = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// Always is the calendar of calendar time (24/7), for SLA rules that count calendar rather than
// business hours: zone UTC, every day 00:00-24:00, no holidays. It is shared and immutable.
func Always() *Calendar { return always() }

var always = sync.OnceValue(func() *Calendar {
	week := map[string][]Interval{}
	for _, d := range Days {
		week[d] = []Interval{{Start: "00:00", End: "24:00"}}
	}
	c, err := Spec{Timezone: "UTC", Week: week, Holidays: []Holiday{}}.Compile()
	if err != nil {
		panic("calendar: Always: " + err.Error())
	}
	return c
})

// maxAddMinutes is more minutes than SearchYears can hold: a larger count is always Never.
const maxAddMinutes = (SearchYears + 1) * 366 * dayMinutes

// maxMinutes is the largest minute count a time.Duration holds (about 292 years).
const maxMinutes = int(math.MaxInt64 / int64(time.Minute))

// AddBusinessMinutes returns the instant at which `minutes` business minutes have passed after
// from: AddBusiness with whole minutes (see there). A count beyond what a time.Duration holds
// (about 292 years) is Never.
//
// For every open from, BusinessMinutesBetween(from, AddBusinessMinutes(from, m)) == m; for a
// closed one, the same holds counting from NextOpen(from).
func (c *Calendar) AddBusinessMinutes(from time.Time, minutes int) time.Time {
	if minutes <= 0 {
		return from
	}
	if minutes > maxAddMinutes || minutes > maxMinutes {
		return never
	}
	return c.AddBusiness(from, time.Duration(minutes)*time.Minute)
}

// AddBusiness returns the instant at which d of business time has passed after from, to the
// nanosecond: paused seconds and SLA targets count exactly, nothing is rounded.
//
//   - If from is outside business hours, counting starts at the next opening: with Mon-Fri
//     09:00-18:00, Friday 17:59:30 plus 1 minute is Monday 09:00:30.
//   - The result is the end of the last instant counted, so it may be the end of an interval
//     (Friday 17:30 plus 30 minutes is Friday 18:00, not Monday 09:00).
//   - Adding 0 (or a negative duration, which is taken as 0) returns from unchanged, even
//     outside business hours: nothing is due later than now.
//   - Otherwise the result is in from's location (without a monotonic clock reading).
//   - When the deadline is not within SearchYears of from (the calendar never opens, or opens a
//     few minutes a year), the result is Never().
//
// For every open from, BusinessBetween(from, AddBusiness(from, d)) == d; for a closed one, the
// same holds counting from NextOpen(from).
func (c *Calendar) AddBusiness(from time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return from
	}
	if !c.opens() {
		return never
	}
	limit := searchLimit(from)
	need := d
	w := c.walkFrom(from)
	for {
		lo, hi, ok := w.next(limit)
		if !ok {
			return never
		}
		if d := hi.Sub(lo); d < need {
			need -= d
			continue
		}
		due := lo.Add(need)
		if due.After(limit) {
			return never
		}
		return due.In(from.Location())
	}
}

// BusinessMinutesBetween counts the business minutes in [a, b): the open time between them,
// in real minutes, rounded down to whole minutes. It is 0 when b is not after a. Its cost grows
// with the number of dates between a and b.
func (c *Calendar) BusinessMinutesBetween(a, b time.Time) int {
	minutes, rest := c.between(a, b)
	return int(minutes + int64(rest/time.Minute))
}

// BusinessBetween is the open time in [a, b), to the nanosecond; 0 when b is not after a. Open
// time beyond what a time.Duration holds (about 292 years) is math.MaxInt64. Its cost grows with
// the number of dates between a and b.
func (c *Calendar) BusinessBetween(a, b time.Time) time.Duration {
	minutes, rest := c.between(a, b)
	if minutes >= int64(maxMinutes) {
		return math.MaxInt64
	}
	return time.Duration(minutes)*time.Minute + rest // rest is under a minute: no overflow
}

// between is the open time in [a, b) as whole minutes plus the rest, which cannot overflow
// over SearchYears.
func (c *Calendar) between(a, b time.Time) (minutes int64, rest time.Duration) {
	if !b.After(a) || !c.opens() {
		return 0, 0
	}
	b = b.Round(0)
	w := c.walkFrom(a)
	for {
		lo, hi, ok := w.next(b)
		if !ok {
			return minutes, rest
		}
		if hi.After(b) {
			hi = b
		}
		d := hi.Sub(lo)
		minutes += int64(d / time.Minute)
		rest += d % time.Minute
		if rest >= time.Minute {
			minutes, rest = minutes+int64(rest/time.Minute), rest%time.Minute
		}
	}
}

// NextOpen is the first instant at or after t inside business hours: t itself (unchanged) when
// IsOpen(t), else the start of the next open interval, in t's location. ok is false, and the
// instant Never(), when the calendar does not open within SearchYears of t (it has no intervals
// at all, every open weekday is a holiday, or it opens only on exceptions before t).
func (c *Calendar) NextOpen(t time.Time) (time.Time, bool) {
	if !c.opens() {
		return never, false
	}
	lo, _, ok := c.walkFrom(t).next(searchLimit(t))
	switch {
	case !ok:
		return never, false
	case lo.Equal(t):
		return t, true
	default:
		return lo.In(t.Location()), true
	}
}

// opens reports whether any weekday or exception has an open interval.
func (c *Calendar) opens() bool {
	return c.weekOpens || len(c.exceptionDays) > 0
}

// nextExceptionDay is the first date at or after day (days since the Unix epoch) on which an
// exception may open; ok is false when there is none.
func (c *Calendar) nextExceptionDay(day int64) (int64, bool) {
	i := sort.Search(len(c.exceptionDays), func(i int) bool { return c.exceptionDays[i] >= day })
	if i == len(c.exceptionDays) {
		return 0, false
	}
	return c.exceptionDays[i], true
}

// searchLimit is how far ahead of t the arithmetic looks: SearchYears, and not past Never.
func searchLimit(t time.Time) time.Time {
	limit := t.AddDate(SearchYears, 0, 0)
	if limit.After(never) || limit.Before(t) {
		return never
	}
	return limit
}

// walker yields a calendar's open time after an instant as stretches of real time, in order.
//
// It walks the zone's periods of constant UTC offset (between daylight-saving transitions) in
// real-time order, and within each the local dates it covers. Within a period the wall clock is
// real time plus the offset, so the instants at which a date's segment is open are one stretch,
// its wall-clock bounds less the offset, cut to the period. A segment crossing a transition is
// two stretches that touch, or one that shrinks (spring forward) or grows (fall back). Walking
// periods in order rather than dates keeps the stretches in real-time order even when a
// transition moves the wall clock back across midnight.
type walker struct {
	c       *Calendar
	t       time.Time     // the position, UTC: the open time before it is consumed
	loaded  bool          // off and end are those of the zone period containing t
	off     time.Duration // UTC offset of that period
	end     time.Time     // end of that period (the next transition), UTC
	endless bool          // the period has no end
	memo    [2]ruleMemo   // the last dates looked up
	memoAt  int
}

// ruleMemo is the rule of a date (days since the Unix epoch).
type ruleMemo struct {
	day  int64
	rule dayRule
	ok   bool
}

// rule is the rule of the date at UTC midnight day, remembering the last two dates asked about
// (a date and the one before it, for the part after midnight of a midnight-spanning interval).
func (w *walker) rule(day time.Time) dayRule {
	key := day.Unix() / (24 * 3600)
	for _, m := range w.memo {
		if m.ok && m.day == key {
			return m.rule
		}
	}
	y, mo, d := day.Date()
	r := w.c.rule(date{y, mo, d})
	w.memo[w.memoAt] = ruleMemo{day: key, rule: r, ok: true}
	w.memoAt = 1 - w.memoAt
	return r
}

func (c *Calendar) walkFrom(t time.Time) *walker {
	return &walker{c: c, t: t.UTC()}
}

func (w *walker) load() {
	lt := w.t.In(w.c.loc)
	_, off := lt.Zone()
	_, end := lt.ZoneBounds()
	w.off = time.Duration(off) * time.Second
	w.loaded = true
	if end.IsZero() {
		w.endless = true
		return
	}
	w.endless = false
	end = end.UTC()
	if !end.After(w.t) {
		// ZoneBounds can report an end before the instant: on the last day of a leap year past
		// the zone's last explicit transition, Go ends the year 365 days after its start
		// (golang/go#81583). The offset holds until the real end of the year; look a day ahead.
		end = w.t.Add(24 * time.Hour)
	}
	// The walk relies on the offset holding over [t, end): check it at the end, and if it does
	// not hold there, find where it first changes (transitions are at whole seconds).
	if _, o := end.Add(-time.Nanosecond).In(w.c.loc).Zone(); o != off {
		lo, hi := w.t.Unix(), end.Add(-time.Nanosecond).Unix() // offset off at lo, another at hi
		for hi-lo > 1 {
			mid := lo + (hi-lo)/2
			if _, o := time.Unix(mid, 0).In(w.c.loc).Zone(); o == off {
				lo = mid
			} else {
				hi = mid
			}
		}
		end = time.Unix(hi, 0).UTC()
	}
	w.end = end
}

// next returns the next open stretch [lo, hi) with w.t <= lo < hi, if it starts before limit,
// and moves the position to hi. Stretches may touch (at midnight, at a transition).
func (w *walker) next(limit time.Time) (lo, hi time.Time, ok bool) {
	for {
		if !w.t.Before(limit) {
			return time.Time{}, time.Time{}, false
		}
		if !w.loaded || (!w.endless && !w.t.Before(w.end)) {
			w.load()
		}
		wall := w.t.Add(w.off) // wall clock of the position, as if UTC
		var wallEnd time.Time  // wall clock at the end of the period
		if !w.endless {
			wallEnd = w.end.Add(w.off)
		}
		for day := wall.Truncate(24 * time.Hour); w.endless || day.Before(wallEnd); day = day.Add(24 * time.Hour) {
			if !day.Add(-w.off).Before(limit) {
				// Every instant of this date and the later ones of the period is after limit.
				return time.Time{}, time.Time{}, false
			}
			if !w.c.weekOpens {
				// Only exceptions open: go straight to the next date one may open.
				key := day.Unix() / (24 * 3600)
				next, ok := w.c.nextExceptionDay(key)
				if !ok {
					return time.Time{}, time.Time{}, false
				}
				if next > key {
					day = time.Unix((next-1)*24*3600, 0).UTC() // the loop adds a day
					continue
				}
			}
			wd := day.Weekday()
			if len(w.c.exceptions) == 0 && len(w.c.own[wd]) == 0 && w.c.spill[wd] == 0 {
				continue
			}
			today := w.rule(day)
			var yesterday dayRule
			if today.regular() && (w.c.spill[wd] > 0 || len(w.c.exceptions) > 0) {
				yesterday = w.rule(day.Add(-24 * time.Hour))
			}
			spill, own := w.c.plan(today, yesterday, wd)
			// The part after midnight of the previous date's interval first, then the date's own.
			for i := -1; i < len(own); i++ {
				var seg segment
				switch {
				case i >= 0:
					seg = own[i]
				case spill > 0:
					seg = segment{start: 0, end: spill}
				default:
					continue
				}
				s := day.Add(time.Duration(seg.start) * time.Minute)
				e := day.Add(time.Duration(seg.end) * time.Minute)
				if s.Before(wall) {
					s = wall
				}
				if !w.endless && e.After(wallEnd) {
					e = wallEnd
				}
				if !s.Before(e) {
					continue
				}
				lo, hi = s.Add(-w.off), e.Add(-w.off)
				if !lo.Before(limit) {
					return time.Time{}, time.Time{}, false
				}
				w.t = hi
				return lo, hi, true
			}
		}
		// The period ends: go on with the next one.
		w.t = w.end
		w.loaded = false
	}
}

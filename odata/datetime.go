package odata

import (
	"errors"
	"regexp"
	"strconv"
	"time"
)

// dateTimeRe is the date forms accepted, unquoted or quoted: a date, an
// optional time with optional seconds and fraction, and an optional zone.
// A space may separate date and time, and " hh:mm" is "+hh:mm" with the
// '+' decoded to a space by a sloppy client.
var dateTimeRe = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(?:([Zz])|([+ -])(\d{2}):(\d{2}))?)?$`)

// parseDateTime parses a date literal into UTC. Values without a zone are
// taken as UTC, the zone Movidesk documents for its API.
func parseDateTime(s string) (time.Time, error) {
	m := dateTimeRe.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, errors.New("expected yyyy-mm-dd or yyyy-mm-ddThh:mm[:ss[.fff]][Z|±hh:mm]")
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v } // empty groups are 0
	year, month, day := n(1), n(2), n(3)
	hour, minute, sec := n(4), n(5), n(6)
	if month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || sec > 59 {
		return time.Time{}, errors.New("field out of range")
	}
	nsec := 0
	if frac := m[7]; frac != "" {
		frac = (frac + "000000000")[:9] // nanoseconds; further digits are dropped
		nsec, _ = strconv.Atoi(frac)
	}
	offset := 0
	if m[9] != "" {
		if n(10) > 23 || n(11) > 59 {
			return time.Time{}, errors.New("zone offset out of range")
		}
		offset = (n(10)*60 + n(11)) * 60
		if m[9] == "-" {
			offset = -offset
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.FixedZone("", offset)).UTC()
	// PostgreSQL rejects year 0 and below, and 4-digit input cannot say more than 9999.
	if t.Year() < 1 || t.Year() > 9999 {
		return time.Time{}, errors.New("year out of range")
	}
	return t, nil
}

func daysIn(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

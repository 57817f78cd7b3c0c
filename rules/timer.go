package rules

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Timer makes a trigger a time condition: it is evaluated (event ticket.time) once `After` has
// passed since the ticket's `From` moment, e.g. {"after":"2h","from":"createdAt"} with the
// condition ticket.baseStatus == 'New' is "still New 2 hours after creation", and
// {"after":"24h","from":"lastPublicActionAt"} is "no reply for 24 hours". When the moment moves
// (another reply, another status) the timer is armed again for the new moment; for one moment
// it fires once.
type Timer struct {
	After string `json:"after"`
	From  string `json:"from"`
}

// Timer anchors.
const (
	FromCreatedAt          = "createdAt"
	FromUpdatedAt          = "updatedAt"
	FromStatusChangedAt    = "statusChangedAt"
	FromLastPublicActionAt = "lastPublicActionAt"
)

// TimerAnchors lists the moments a timer may count from.
var TimerAnchors = []string{FromCreatedAt, FromUpdatedAt, FromStatusChangedAt, FromLastPublicActionAt}

// MaxTimerAfter bounds a timer: longer waits are better served by reports.
const MaxTimerAfter = 366 * 24 * time.Hour

// Duration parses After: Go durations (90m, 2h) and whole days (7d).
func (t Timer) Duration() (time.Duration, error) {
	if days, ok := strings.CutSuffix(t.After, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || fmt.Sprint(n) != days {
			return 0, fmt.Errorf("bad day count %q", days)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(t.After)
}

// Validate names each bad field.
func (t Timer) Validate() map[string]string {
	bad := map[string]string{}
	if d, err := t.Duration(); err != nil || d < time.Minute || d > MaxTimerAfter {
		bad["timer.after"] = "must be a duration from 1m to 366d, e.g. 30m, 2h or 7d"
	}
	if !slices.Contains(TimerAnchors, t.From) {
		bad["timer.from"] = "must be one of: " + strings.Join(TimerAnchors, ", ")
	}
	return bad
}

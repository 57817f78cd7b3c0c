// Package sla holds what SLA policies are and must be, apart from HTTP: their limits and
// validation, and a ticket's SLA state as readers see it (state.go), so the native API, the
// Movidesk-compatible API and tests share one set of rules.
// (The choice of a ticket's rule is activities.chooseSLA, next to the configuration cache it
// reads; the deadlines and pauses are the Ticket workflow's, workflows/sla.go.)
package sla

import (
	"context"
	"fmt"
	"slices"
	"unicode/utf8"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// Limits of an SLA policy.
const (
	MaxName          = 200
	MaxRules         = 50
	MaxPauseStatuses = 50
	MaxMinutes       = 366 * 24 * 60 // a target of more than a year is a typo
	MaxWarning       = 7 * 24 * 60
	DefaultWarning   = 30
)

// Checks says which parts of a policy to validate: all of them on create, the ones given on
// update (so that a policy whose calendar has since gone can still be renamed).
type Checks struct{ Name, Rules, PauseStatuses, Warning bool }

// AllChecks validates the whole policy.
var AllChecks = Checks{true, true, true, true}

// Refs are the calendars and statuses a policy names that exist.
type Refs struct {
	Calendars map[string]bool
	Statuses  map[string]bool
}

// Validate checks a policy against the records it names and answers its problems (none: an
// empty map); an error is the database's.
func Validate(ctx context.Context, db bun.IDB, p *schema.SLAPolicy, what Checks) (map[string]string, error) {
	refs, err := LoadRefs(ctx, db, p, what)
	if err != nil {
		return nil, err
	}
	return Problems(p, what, refs), nil
}

// LoadRefs reads which of the calendars and statuses the checked parts of p name exist.
func LoadRefs(ctx context.Context, db bun.IDB, p *schema.SLAPolicy, what Checks) (Refs, error) {
	refs := Refs{Calendars: map[string]bool{}, Statuses: map[string]bool{}}
	if what.Rules {
		for _, r := range p.Rules {
			if r.CalendarID == nil || refs.Calendars[*r.CalendarID] {
				continue
			}
			var ok bool
			if err := db.NewRaw("SELECT EXISTS(SELECT 1 FROM calendars WHERE id = ?)", *r.CalendarID).Scan(ctx, &ok); err != nil {
				return refs, err
			}
			refs.Calendars[*r.CalendarID] = ok
		}
	}
	if what.PauseStatuses && len(p.PauseStatuses) > 0 {
		var names []string
		if err := db.NewSelect().Model((*schema.Status)(nil)).Column("name").
			Where("name IN (?)", bun.In(p.PauseStatuses)).Scan(ctx, &names); err != nil {
			return refs, err
		}
		for _, n := range names {
			refs.Statuses[n] = true
		}
	}
	return refs, nil
}

// Problems is the validation of a policy, given which of the calendars and statuses it names
// exist: each problem under its field (rules[1].calendarId), all at once.
func Problems(p *schema.SLAPolicy, what Checks, refs Refs) map[string]string {
	fields := map[string]string{}
	if what.Name {
		switch n := utf8.RuneCountInString(p.Name); {
		case n == 0:
			fields["name"] = "is required"
		case n > MaxName:
			fields["name"] = fmt.Sprintf("must be at most %d characters", MaxName)
		}
	}
	if what.Rules {
		switch {
		case len(p.Rules) == 0:
			fields["rules"] = "give at least one rule"
		case len(p.Rules) > MaxRules:
			fields["rules"] = fmt.Sprintf("must be at most %d rules, got %d", MaxRules, len(p.Rules))
		}
		for i, r := range p.Rules {
			at := fmt.Sprintf("rules[%d].", i)
			if _, err := rules.Compile(r.Condition); err != nil {
				fields[at+"condition"] = err.Error()
			}
			for name, m := range map[string]int{"firstResponseMinutes": r.FirstResponseMinutes, "resolutionMinutes": r.ResolutionMinutes} {
				if m < 0 || m > MaxMinutes {
					fields[at+name] = fmt.Sprintf("must be from 0 to %d minutes", MaxMinutes)
				}
			}
			if r.FirstResponseMinutes <= 0 && r.ResolutionMinutes <= 0 && fields[at+"firstResponseMinutes"] == "" &&
				fields[at+"resolutionMinutes"] == "" {
				fields[fmt.Sprintf("rules[%d]", i)] = "set firstResponseMinutes, resolutionMinutes or both above 0"
			}
			switch r.Hours {
			case schema.HoursBusiness:
				if r.CalendarID == nil {
					fields[at+"calendarId"] = "is required for business hours: the calendar whose hours count"
				}
			case schema.HoursCalendar:
			case "":
				fields[at+"hours"] = "is required: business or calendar"
			default:
				fields[at+"hours"] = fmt.Sprintf("must be business or calendar, got %q", r.Hours)
			}
			if r.CalendarID != nil && !refs.Calendars[*r.CalendarID] {
				fields[at+"calendarId"] = "no calendar with id " + *r.CalendarID
			}
		}
	}
	if what.PauseStatuses {
		if len(p.PauseStatuses) > MaxPauseStatuses {
			fields["pauseStatuses"] = fmt.Sprintf("must be at most %d items", MaxPauseStatuses)
		}
		for i, st := range p.PauseStatuses {
			if !slices.Contains(schema.BaseStatuses, st) && !refs.Statuses[st] {
				fields[fmt.Sprintf("pauseStatuses[%d]", i)] = fmt.Sprintf("no status or base status named %q", st)
			}
		}
	}
	if what.Warning && (p.WarningMinutes < 0 || p.WarningMinutes > MaxWarning) {
		fields["warningMinutes"] = fmt.Sprintf("must be from 0 to %d", MaxWarning)
	}
	return fields
}

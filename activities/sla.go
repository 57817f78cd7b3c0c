package activities

import (
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard/internal/calendar"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// chooseSLA picks the SLA rule for a ticket: among the matching rules of the policies that are
// not the default, the one whose resolution deadline (counted from the ticket's opening) comes
// first, then the one whose response deadline does; the default policy's rules only when no
// other policy claims the ticket. It returns nil when nothing applies.
func (a *Activities) chooseSLA(cfg *configSnapshot, t schema.Ticket, env rules.Env) *workflows.SLAChoice {
	var best *workflows.SLAChoice
	var bestDue [2]time.Time
	for _, p := range cfg.policies {
		if p.IsDefault && best != nil {
			break // another policy claims the ticket
		}
		for i, r := range p.Rules {
			prog, err := a.rules().Program(fmt.Sprintf("sla/%s/%d", p.ID, i), p.Version, r.Condition)
			if err != nil {
				continue // refused when saved; a rule that no longer compiles does not match
			}
			if ok, err := rules.Eval(prog, env); err != nil || !ok {
				continue
			}
			c := &workflows.SLAChoice{PolicyID: p.ID, PolicyVersion: p.Version, Rule: i, ResponseMinutes: r.FirstResponseMinutes,
				ResolutionMinutes: r.ResolutionMinutes, WarningMinutes: p.WarningMinutes, PauseStatuses: p.PauseStatuses}
			cal := calendar.Always()
			if r.Hours == schema.HoursBusiness && r.CalendarID != nil {
				loaded, err := cfg.calendar(*r.CalendarID)
				if err != nil {
					continue // its calendar is gone: the rule cannot count business hours
				}
				spec := loaded.Spec()
				c.Calendar, cal = &spec, loaded
			}
			due := [2]time.Time{deadline(cal, t.CreatedAt, r.ResolutionMinutes), deadline(cal, t.CreatedAt, r.FirstResponseMinutes)}
			if best == nil || due[0].Before(bestDue[0]) || (due[0].Equal(bestDue[0]) && due[1].Before(bestDue[1])) {
				best, bestDue = c, due
			}
		}
	}
	return best
}

// deadline is when minutes business minutes have passed; no target sorts last.
func deadline(cal *calendar.Calendar, from time.Time, minutes int) time.Time {
	if minutes <= 0 {
		return time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return cal.AddBusinessMinutes(from, minutes)
}

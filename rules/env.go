// Package rules evaluates what admins author in expr (github.com/expr-lang/expr): trigger
// conditions and display-rule conditions over a typed environment, and the catalogue of actions
// a trigger may take. Programs are compiled once per rule version and cached; the clock is
// passed in (expr's now() is disabled), so an evaluation is a pure function of its input.
package rules

import (
	"slices"
	"time"
)

// Env is what a condition sees:
//
//	ticket   every ticket field (ticket.urgency, ticket.tags, ticket.customFields.plan, ...)
//	event    the event: event.name, event.payload
//	changes  field -> {from, to} for the change that caused the event: changes.urgency.to or
//	         changes["urgency"].to; a field that did not change reads as nil (no error), and
//	         'urgency' in changes tells whether it changed
//	actor    who made the change: actor.id, actor.kind (agent, customer, system, trigger)
//	now      the time of the event
//
// and the helpers hasTag("vip"), hoursSince(ticket.createdAt), isEmpty(ticket.ownerId).
type Env struct {
	Ticket  Ticket            `expr:"ticket"`
	Event   Event             `expr:"event"`
	Changes map[string]Change `expr:"changes"`
	Actor   Actor             `expr:"actor"`
	Now     time.Time         `expr:"now"`

	HasTag func(tag string) bool `expr:"hasTag"`
	// InBusinessHours says whether now is inside a calendar's business hours; it is false for
	// an unknown calendar.
	InBusinessHours func(calendarID string) bool `expr:"inBusinessHours"`
	HoursSince      func(t time.Time) float64    `expr:"hoursSince"`
	IsEmpty         func(v any) bool             `expr:"isEmpty"`
}

// Ticket is the ticket as conditions see it.
type Ticket struct {
	ID           int64          `expr:"id" json:"id"`
	Protocol     string         `expr:"protocol" json:"protocol"`
	Type         string         `expr:"type" json:"type"`
	Subject      string         `expr:"subject" json:"subject"`
	Category     string         `expr:"category" json:"category"`
	Urgency      string         `expr:"urgency" json:"urgency"`
	Status       string         `expr:"status" json:"status"`
	BaseStatus   string         `expr:"baseStatus" json:"baseStatus"`
	Origin       int            `expr:"origin" json:"origin"`
	OwnerID      string         `expr:"ownerId" json:"ownerId"`
	TeamID       string         `expr:"teamId" json:"teamId"`
	ClientIDs    []string       `expr:"clientIds" json:"clientIds"`
	Tags         []string       `expr:"tags" json:"tags"`
	CustomFields map[string]any `expr:"customFields" json:"customFields"`
	ActionCount  int            `expr:"actionCount" json:"actionCount"`
	CreatedAt    time.Time      `expr:"createdAt" json:"createdAt"`
	UpdatedAt    time.Time      `expr:"updatedAt" json:"updatedAt"`
}

// Event names a trigger can listen to.
const (
	EventCreated       = "ticket.created"
	EventUpdated       = "ticket.updated"
	EventStatusChanged = "ticket.status_changed"
	EventAssigned      = "ticket.assigned"
	EventActionAdded   = "ticket.action_added"
	// EventTime is a trigger's own timer falling due (see Timer).
	EventTime = "ticket.time"
	// EventSLAWarning and EventSLABreached: an SLA target is near or past; event.payload.target
	// is "response" or "resolution".
	EventSLAWarning  = "sla.warning"
	EventSLABreached = "sla.breached"
	// Approval events: a request started, and its outcomes; event.payload has approvalId,
	// state (and ruleId on approval.requested; approved and reason on the outcomes).
	EventApprovalRequested = "approval.requested"
	EventApprovalApproved  = "approval.approved"
	EventApprovalRejected  = "approval.rejected"
	EventApprovalExpired   = "approval.expired"
)

// Events is every event a trigger may name.
var Events = []string{EventCreated, EventUpdated, EventStatusChanged, EventAssigned, EventActionAdded, EventTime,
	EventSLAWarning, EventSLABreached, EventApprovalRequested, EventApprovalApproved, EventApprovalRejected, EventApprovalExpired}

// Event is what happened.
type Event struct {
	Name    string         `expr:"name" json:"name"`
	Payload map[string]any `expr:"payload" json:"payload"`
}

// Change is one field's move.
type Change struct {
	From any `expr:"from" json:"from"`
	To   any `expr:"to" json:"to"`
}

// Actor is who made the change.
type Actor struct {
	ID   string `expr:"id" json:"id"`
	Kind string `expr:"kind" json:"kind"`
}

// NewEnv fills in the helpers for one evaluation.
func NewEnv(t Ticket, e Event, changes map[string]Change, actor Actor, now time.Time) Env {
	if changes == nil {
		changes = map[string]Change{}
	}
	return Env{Ticket: t, Event: e, Changes: changes, Actor: actor, Now: now,
		HasTag:          func(tag string) bool { return slices.Contains(t.Tags, tag) },
		HoursSince:      func(at time.Time) float64 { return now.Sub(at).Hours() },
		IsEmpty:         isEmpty,
		InBusinessHours: func(string) bool { return false },
	}
}

// Calendars answers inBusinessHours; the evaluation sets it from the stored calendars.
type Calendars func(calendarID string) (interface{ IsOpen(time.Time) bool }, error)

// WithCalendars makes inBusinessHours consult the calendars, each loaded once per evaluation.
func (e Env) WithCalendars(load Calendars) Env {
	seen := map[string]bool{}
	e.InBusinessHours = func(id string) bool {
		open, ok := seen[id]
		if !ok {
			if cal, err := load(id); err == nil && cal != nil {
				open = cal.IsOpen(e.Now)
			}
			seen[id] = open
		}
		return open
	}
	return e
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []string:
		return len(x) == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

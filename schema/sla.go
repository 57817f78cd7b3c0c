package schema

import (
	"time"

	"github.com/uptrace/bun"
)

// SLA policy rule hours.
const (
	HoursBusiness = "business"
	HoursCalendar = "calendar"
)

// SLARule is one rule of a policy: tickets matching the condition (empty: every ticket) get
// these targets, counted in business hours of the calendar or in calendar time.
type SLARule struct {
	Condition            string  `json:"condition"`
	FirstResponseMinutes int     `json:"firstResponseMinutes"`
	ResolutionMinutes    int     `json:"resolutionMinutes"`
	Hours                string  `json:"hours"`
	CalendarID           *string `json:"calendarId"`
}

// SLAPolicy is a set of rules; when several match a ticket, the shortest deadline wins. The
// default policy serves tickets no other policy claims.
type SLAPolicy struct {
	bun.BaseModel `bun:"table:sla_policies" json:"-"`

	ID             string    `bun:"id,pk" json:"id"`
	Name           string    `bun:"name" json:"name"`
	IsDefault      bool      `bun:"is_default" json:"isDefault"`
	Rules          []SLARule `bun:"rules,type:jsonb" json:"rules"`
	PauseStatuses  []string  `bun:"pause_statuses,array" json:"pauseStatuses"`
	WarningMinutes int       `bun:"warning_minutes" json:"warningMinutes"`
	Version        int       `bun:"version" json:"version"`
	CreatedAt      time.Time `bun:"created_at" json:"createdAt"`
	UpdatedAt      time.Time `bun:"updated_at" json:"updatedAt"`
}

// SLA event types and targets.
const (
	SLAApplied      = "applied"
	SLAPaused       = "paused"
	SLAResumed      = "resumed"
	SLARecalculated = "recalculated"
	SLAManual       = "manual"
	SLAWarning      = "warning"
	SLABreached     = "breached"
	SLAMet          = "met"

	TargetResponse   = "response"
	TargetResolution = "resolution"
)

// SLAEvent is one SLA fact of a ticket.
type SLAEvent struct {
	bun.BaseModel `bun:"table:sla_events" json:"-"`

	ID        int64      `bun:"id,pk,autoincrement" json:"-"`
	TicketID  int64      `bun:"ticket_id" json:"-"`
	Type      string     `bun:"type" json:"type"`
	Target    *string    `bun:"target" json:"target"`
	DueAt     *time.Time `bun:"due_at" json:"dueAt"`
	At        time.Time  `bun:"at" json:"at"`
	Reason    string     `bun:"reason" json:"reason"`
	ActorID   *string    `bun:"actor_id" json:"actorId"`
	DedupeKey string     `bun:"dedupe_key" json:"-"`
}

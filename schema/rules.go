package schema

import (
	"time"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/rules"
)

// Trigger is an admin's automation: on these events, when the condition holds, take these
// actions, in position order; stopProcessing skips the triggers after it.
type Trigger struct {
	bun.BaseModel `bun:"table:triggers" json:"-"`

	ID             string         `bun:"id,pk" json:"id"`
	Name           string         `bun:"name" json:"name"`
	Enabled        bool           `bun:"enabled" json:"enabled"`
	Events         []string       `bun:"events,array" json:"events"`
	Condition      string         `bun:"condition" json:"condition"`
	Actions        []rules.Action `bun:"actions,type:jsonb" json:"actions"`
	Position       int            `bun:"position" json:"position"`
	StopProcessing bool           `bun:"stop_processing" json:"stopProcessing"`
	// Timer makes this a time condition (event ticket.time); nil for the others.
	Timer     *rules.Timer `bun:"timer,type:jsonb" json:"timer"`
	Version   int          `bun:"version" json:"version"`
	IsDefault bool         `bun:"is_default" json:"isDefault"`
	CreatedAt time.Time    `bun:"created_at" json:"createdAt"`
	UpdatedAt time.Time    `bun:"updated_at" json:"updatedAt"`
}

// TriggerExecution records one evaluation of a trigger against a ticket event that matched or
// failed: what it did, or why it could not.
type TriggerExecution struct {
	bun.BaseModel `bun:"table:trigger_executions" json:"-"`

	ID             int64          `bun:"id,pk,autoincrement" json:"id"`
	TicketID       int64          `bun:"ticket_id" json:"ticketId"`
	TriggerID      string         `bun:"trigger_id" json:"triggerId"`
	TriggerVersion int            `bun:"trigger_version" json:"triggerVersion"`
	Event          string         `bun:"event" json:"event"`
	Matched        bool           `bun:"matched" json:"matched"`
	Actions        []rules.Action `bun:"actions,type:jsonb" json:"actions"`
	Error          *string        `bun:"error" json:"error"`
	Chain          []string       `bun:"chain,array" json:"chain"`
	TicketVersion  int64          `bun:"ticket_version" json:"ticketVersion"`
	At             time.Time      `bun:"at" json:"at"`
}

// Notification is an in-app notification for an agent.
type Notification struct {
	bun.BaseModel `bun:"table:notifications" json:"-"`

	ID        int64      `bun:"id,pk,autoincrement" json:"id"`
	PersonID  string     `bun:"person_id" json:"personId"`
	TicketID  *int64     `bun:"ticket_id" json:"ticketId"`
	TriggerID *string    `bun:"trigger_id" json:"triggerId"`
	Message   string     `bun:"message" json:"message"`
	DedupeKey *string    `bun:"dedupe_key" json:"-"`
	CreatedAt time.Time  `bun:"created_at,nullzero" json:"createdAt"` // nullzero: the column's now() default
	ReadAt    *time.Time `bun:"read_at" json:"readAt"`
}

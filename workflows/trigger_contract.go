package workflows

import (
	"time"

	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
)

// ActivityEvaluateTriggers is Activities.EvaluateTriggers.
const ActivityEvaluateTriggers = "EvaluateTriggers"

// MaxTriggerChain is how deep triggers may cause each other's changes before the chain stops.
const MaxTriggerChain = 10

// RulesTicket is a ticket as rule conditions see it.
func RulesTicket(t schema.Ticket) rules.Ticket {
	return rules.Ticket{ID: t.ID, Protocol: t.Protocol, Type: t.Type, Subject: t.Subject, Category: t.Category,
		Urgency: t.Urgency, Status: t.Status, BaseStatus: t.BaseStatus, Origin: t.Origin, OwnerID: deref(t.OwnerID),
		TeamID: deref(t.TeamID), ClientIDs: t.ClientIDs, Tags: t.Tags, CustomFields: t.CustomFields,
		ActionCount: t.ActionCount, CreatedAt: t.CreatedAt, UpdatedAt: t.UpdatedAt}
}

// TriggerEvent is one event of a ticket for the triggers to consider.
type TriggerEvent struct {
	Name    string
	Changes map[string]rules.Change
	Actor   Actor
	// Chain is the triggers whose actions caused this event, outermost first.
	Chain []string
	// OnlyTrigger, on a ticket.time event, is the one trigger whose timer fell due.
	OnlyTrigger string `json:",omitempty"`
	// Payload is the event's own data (sla.*: the target).
	Payload map[string]any `json:",omitempty"`
	// ConfigAtLeast is the configuration generation the evaluation must read at least (0:
	// whatever the worker has): set on a creation and on a config.changed event.
	ConfigAtLeast int64 `json:",omitempty"`
}

// TimerSpec is a time condition the ticket keeps a durable timer for.
type TimerSpec struct {
	TriggerID string
	Version   int
	After     time.Duration
	From      string // a rules.TimerAnchors value
}

// EvaluateInput asks which triggers fire on an event.
type EvaluateInput struct {
	Ticket schema.Ticket
	Event  TriggerEvent
	Now    time.Time
}

// Firing is a trigger that matched, with the actions the workflow is to apply, resolved by the
// activity against configuration (statuses, team members, templates) so that applying them
// needs no I/O.
type Firing struct {
	TriggerID string
	Version   int
	Actions   []ResolvedAction
}

// ResolvedAction is an action ready to apply.
type ResolvedAction struct {
	rules.Action
	// set_status, change_parent_status: the status's base and whether it needs a justification.
	BaseStatus            string `json:",omitempty"`
	RequiresJustification bool   `json:",omitempty"`
	// assign_team with a distribution: the agent picked.
	PickedAgentID string `json:",omitempty"`
	// add_action, set_subject, create_child_ticket: the rendered texts.
	RenderedBody string `json:",omitempty"`
	// RenderedHTML is RenderedBody rendered and sanitized, as a message shows it.
	RenderedHTML    string `json:",omitempty"`
	RenderedSubject string `json:",omitempty"`
	// create_child_ticket: the number reserved for the child.
	ChildTicketID int64 `json:",omitempty"`
}

// Activities the trigger actions use.
const (
	ActivityUpdateTicketStatus = "UpdateTicketStatus"
)

// TicketStatusInput changes another ticket's status through its workflow (change_parent_status).
type TicketStatusInput struct {
	TicketID int64
	UpdateID string
	Change   ChangeStatusInput
}

// EvaluateResult is the firings, in order, the time conditions now configured (so the ticket's
// timers follow trigger edits without a query of their own), and the SLA rule that applies to
// the ticket now (nil: none).
type EvaluateResult struct {
	Firings []Firing
	Timers  []TimerSpec
	SLA     *SLAChoice `json:",omitempty"`
	// Approvals are the approval rules that match the event, in order, ready to start.
	Approvals []ApprovalSpec `json:",omitempty"`
}

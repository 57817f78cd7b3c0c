package workflows

import (
	"time"

	"github.com/switchboardhq/switchboard/internal/calendar"
)

// SLA messages and activities of the ticket workflow.
const (
	// UpdateSetSLADue sets a ticket's deadlines by hand; from then on they are not recalculated.
	UpdateSetSLADue = "SetSLADue"

	ActivityRecordSLAEvents = "RecordSLAEvents"
)

// SetSLADueInput is a manual deadline. A nil field stays as it is.
type SetSLADueInput struct {
	Deadline
	Actor       Actor
	ResponseDue *time.Time
	SolutionDue *time.Time
	Reason      string
}

// SLAChoice is the SLA rule that applies to a ticket, chosen by the evaluation activity (the
// shortest deadline among the matching rules wins), with what the workflow needs to compute
// deadlines without I/O: the targets and a snapshot of the calendar.
type SLAChoice struct {
	PolicyID          string
	PolicyVersion     int
	Rule              int
	ResponseMinutes   int
	ResolutionMinutes int
	// Calendar is the business-hours calendar; nil counts calendar time (24/7).
	Calendar       *calendar.Spec `json:",omitempty"`
	WarningMinutes int
	PauseStatuses  []string
}

// SLAState is the ticket's SLA as its workflow keeps it.
type SLAState struct {
	Choice *SLAChoice `json:",omitempty"`
	// PausedAt is when the current pause began; Paused the business time paused before it
	// (nanoseconds in JSON). PausedMinutes are the whole minutes that runs from before exact
	// pauses counted (workflow version sla-exact-pause); both add to the deadlines.
	PausedAt      *time.Time    `json:",omitempty"`
	PausedMinutes int           `json:",omitempty"`
	Paused        time.Duration `json:",omitempty"`
	// Manual: the deadlines were set by hand and are no longer recalculated.
	Manual bool `json:",omitempty"`
	// Fired are the warnings and breaches that fired, by target and deadline, so each fires once.
	Fired []string `json:",omitempty"`
}

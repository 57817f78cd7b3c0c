package workflows

import (
	"fmt"
	"strings"
	"time"
)

// Configuration rollout: an edit of configuration that open tickets hold (an SLA policy, a
// calendar, a trigger's time condition) is fanned out to every open ticket as a ConfigChanged
// signal, by one ConfigRollout workflow per batch of recorded changes (config_changes).
const (
	ConfigRolloutWorkflowType = "ConfigRollout"

	// SignalConfigChanged tells a ticket that configuration it depends on was edited: it
	// re-evaluates its SLA choice and time conditions as a change would, without counting as an
	// update of the ticket.
	SignalConfigChanged = "ConfigChanged"

	// ActivitySignalOpenTickets is Activities.SignalOpenTickets: one page of the fan-out.
	ActivitySignalOpenTickets = "SignalOpenTickets"

	// EventConfigChanged is the event a ConfigChanged signal queues for the evaluation. No
	// trigger can listen to it (it is not in rules.Events): it only refreshes what the ticket
	// holds from configuration.
	EventConfigChanged = "config.changed"
)

// SignalChangesRecorded hands a rollout the changes the dispatcher found (a ConfigChanged).
const SignalChangesRecorded = "ChangesRecorded"

// ConfigRolloutWorkflowID is config-rollout/<task queue>: one rollout per deployment at a time
// (change ids count per database, so the task queue keeps deployments that share a namespace
// apart). Changes recorded while a pass runs are signalled to it and rolled out by one more
// pass, so many edits in a row cost at most two passes over the open tickets, not one each.
func ConfigRolloutWorkflowID(taskQueue string) string {
	return "config-rollout/" + taskQueue
}

// ConfigChange is one recorded edit (a config_changes row).
type ConfigChange struct {
	ID       int64
	Entity   string // sla_policies, calendars or triggers
	EntityID string
	Op       string // INSERT, UPDATE or DELETE
}

// ConfigChanged is the signal's payload: the batch and why.
type ConfigChanged struct {
	ChangeID int64 // the batch's last change
	Reason   string
	// Generation is the configuration generation (config_generation) when the batch was
	// dispatched: the tickets' re-evaluation reads configuration at least that new.
	Generation int64 `json:",omitempty"`
}

// ConfigReason says in words what a batch of changes edited.
func ConfigReason(changes []ConfigChange) string {
	names := map[string]string{"sla_policies": "SLA policy", "calendars": "calendar", "triggers": "trigger"}
	var parts []string
	for i, c := range changes {
		if i == 5 {
			parts = append(parts, fmt.Sprintf("and %d more", len(changes)-i))
			break
		}
		what := names[c.Entity]
		if what == "" {
			what = c.Entity
		}
		verb := map[string]string{"INSERT": "created", "UPDATE": "edited", "DELETE": "deleted"}[c.Op]
		parts = append(parts, fmt.Sprintf("%s %s %s", what, c.EntityID, verb))
	}
	return strings.Join(parts, ", ")
}

// Merge folds a later batch into this one: the last change and both reasons.
func (c ConfigChanged) Merge(next ConfigChanged) ConfigChanged {
	if c.ChangeID == 0 {
		return next
	}
	reason := c.Reason + "; " + next.Reason
	if len(reason) > 1000 { // many batches: say how far they go, not each one
		reason = fmt.Sprintf("configuration edits up to change %d", next.ChangeID)
	}
	return ConfigChanged{ChangeID: max(c.ChangeID, next.ChangeID), Reason: reason, Generation: max(c.Generation, next.Generation)}
}

// ConfigRolloutInput is a rollout, and (after continue-as-new) how far it got.
type ConfigRolloutInput struct {
	// Change is the pass under way (zero: none yet; the first ChangesRecorded starts one).
	Change ConfigChanged
	// Next is what was recorded while the pass ran: one more pass follows for all of it.
	Next ConfigChanged
	// After is the last ticket id signalled; the next page starts above it.
	After int64
	// PageSize is how many tickets one activity signals (0: DefaultRolloutPage).
	PageSize int
	// Signalled counts the tickets signalled so far.
	Signalled int
	// Tail: the pass over Change is done and its tail is under way; PassStarted is when the
	// pass began.
	Tail        bool      `json:",omitempty"`
	PassStarted time.Time `json:",omitempty"`
}

// RolloutTailDelay is how long after a pass its tail runs: far longer than a NOTIFY takes to
// reach the workers, and than a create takes from its number to its row.
const RolloutTailDelay = 5 * time.Second

// RolloutTailWindow is how long before a pass began a ticket may have been created and still
// be signalled again by the tail (a create takes seconds at most: the API's own timeouts).
const RolloutTailWindow = time.Minute

// DefaultRolloutPage is the tickets per fan-out activity.
const DefaultRolloutPage = 1000

// RolloutPageInput asks for one page: the open tickets with an id above After.
type RolloutPageInput struct {
	Change ConfigChanged
	After  int64
	Limit  int
	// CreatedSince, on a tail, keeps only the tickets created since then.
	CreatedSince *time.Time `json:",omitempty"`
}

// RolloutPage is what a page did: the last ticket id it covered, how many it signalled, and
// whether it was the last page.
type RolloutPage struct {
	Last      int64
	Signalled int
	Done      bool
}

// ConfigRolloutResult is the whole rollout.
type ConfigRolloutResult struct {
	Signalled int
}

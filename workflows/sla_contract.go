package workflows

import "time"

// SLA messages and activities of the ticket workflow.
const (
	// UpdateSetSLADue sets a ticket's deadlines by hand; from then on they are not recalculated.
	UpdateSetSLADue = "SetSLADue"

	ActivityRecordSLAEvents = "RecordSLAEvents"
)

// SetSLADueInput is a manual deadline. A nil field stays as it is.
type SetSLADueInput struct {
	Actor       Actor
	ResponseDue *time.Time
	SolutionDue *time.Time
	Reason      string
}

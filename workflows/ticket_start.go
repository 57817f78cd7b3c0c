package workflows

import (
	"context"

	"go.temporal.io/sdk/client"
)

// StartTicket starts a new ticket's workflow (TicketStartOptions: refused when it runs already)
// with in.Pending as its creation. The API and activities that open tickets (a closed chat) call
// it; a workflow opens one as a child instead. The caller may write in.Pending itself as well,
// stamped with the run's id, for read-your-writes (whichever lands second is a no-op).
func StartTicket(ctx context.Context, c client.Client, taskQueue string, in TicketInput) (client.WorkflowRun, error) {
	return c.ExecuteWorkflow(ctx, TicketStartOptions(in.State.Ticket, taskQueue), TicketWorkflowType, in)
}

// Package activities holds the work the workflows hand to the outside world: persistence of
// their state in PostgreSQL now, rule evaluation, webhooks and notifications as they land.
package activities

import (
	"context"

	"go.temporal.io/sdk/activity"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
)

// Activities carries the dependencies activities need. Register a *Activities with the worker;
// every exported method is an activity named after it.
type Activities struct {
	DB *bun.DB
}

// PersistTicket writes one change of a ticket. It is safe to run twice: a write that is not newer
// than the stored row changes nothing.
func (a *Activities) PersistTicket(ctx context.Context, w schema.TicketWrite) error {
	if activity.IsActivity(ctx) {
		w.Ticket.RunID = activity.GetInfo(ctx).WorkflowExecution.RunID
	}
	_, err := schema.SaveTicket(ctx, a.DB, w)
	return err
}

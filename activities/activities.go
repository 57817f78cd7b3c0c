// Package activities holds the work the workflows hand to the outside world: persistence of
// their state in PostgreSQL now, rule evaluation, webhooks and notifications as they land.
package activities

import (
	"context"
	"github.com/switchboardhq/switchboard/internal/channel"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"

	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/blobstore"
	"github.com/switchboardhq/switchboard/internal/webhook"
	"github.com/switchboardhq/switchboard/rules"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// Activities carries the dependencies activities need. Register a *Activities with the worker;
// every exported method is an activity named after it.
type Activities struct {
	DB *bun.DB
	// Temporal lets activities send updates to other workflows (a call adding to its ticket).
	Temporal client.Client
	// Webhooks configures webhook delivery: internal ranges allowed
	// (SWITCHBOARD_WEBHOOK_ALLOW_CIDRS), request timeout, first retry. Zero: the defaults.
	Webhooks webhook.Options
	// Blobs is the attachment store (SWITCHBOARD_BLOB_URL): ExpireAttachment deletes from it.
	Blobs *blobstore.Store

	// Config caches the configuration trigger evaluation reads; nil reads it for every event.
	// The worker's listener keeps it current (worker.New sets one up).
	Config *ConfigCache
	// Chat configures chat distribution's activities (idle check, metrics).
	Chat ChatDistribution

	// WhatsApp sends a WhatsApp chat's agent and system messages to its contact (nil: the
	// channel is off and nothing is sent).
	WhatsApp channel.Sender

	// AutoCloseAfter is the auto-close period of the tickets activities open (a closed chat's),
	// as the API's (SWITCHBOARD_AUTO_CLOSE_AFTER). Zero: workflows.DefaultAutoCloseAfter.
	AutoCloseAfter time.Duration

	rulesOnce sync.Once
	ruleCache *rules.Cache
}

// PersistTicket writes one change of a ticket. It is safe to run twice: a write that is not newer
// than the stored row changes nothing.
func (a *Activities) PersistTicket(ctx context.Context, w schema.TicketWrite) error {
	// The ticket's own workflow stamps its run; a parent writing the creation on its behalf
	// (a call) passes the child's run ID in the write.
	if activity.IsActivity(ctx) {
		if run := activity.GetInfo(ctx).WorkflowExecution; run.ID == workflows.TicketWorkflowID(w.Ticket.ID) {
			w.Ticket.RunID = run.RunID
		}
	}
	_, err := schema.SaveTicket(ctx, a.DB, w)
	return err
}

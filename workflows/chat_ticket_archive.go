package workflows

import "go.temporal.io/sdk/workflow"

// ChatTicketArchive archives a chat ticket ChatTicketArchiveAfter (90 days) after its creation:
// one durable timer, then ActivityArchiveChatTicket. Chat tickets never expire; archiving only
// takes them out of the queues (the ticket stays readable and searchable).
func ChatTicketArchive(ctx workflow.Context, in ChatTicketArchiveInput) error {
	if d := in.CreatedAt.Add(ChatTicketArchiveAfter).Sub(workflow.Now(ctx)); d > 0 {
		if err := workflow.Sleep(ctx, d); err != nil {
			return err
		}
	}
	return workflow.ExecuteActivity(activityCtx(ctx), ActivityArchiveChatTicket, in).Get(ctx, nil)
}

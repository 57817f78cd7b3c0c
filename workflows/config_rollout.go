package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// ConfigRollout signals ConfigChanged to every open ticket, page by page in ticket id order.
// The cursor is the workflow's own state: a worker killed mid-page loses only that page (its
// heartbeat stops, the page is retried elsewhere and signals its tickets again, which the
// tickets take as one more, idempotent re-evaluation). Closed tickets are never signalled.
func ConfigRollout(ctx workflow.Context, in ConfigRolloutInput) (ConfigRolloutResult, error) {
	if in.PageSize <= 0 {
		in.PageSize = DefaultRolloutPage
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
	for {
		var page RolloutPage
		err := workflow.ExecuteActivity(ctx, ActivitySignalOpenTickets,
			RolloutPageInput{Change: in.Change, After: in.After, Limit: in.PageSize}).Get(ctx, &page)
		if err != nil {
			return ConfigRolloutResult{Signalled: in.Signalled}, err
		}
		in.Signalled += page.Signalled
		if page.Done {
			workflow.GetLogger(ctx).Info("configuration rolled out", "change", in.Change.ChangeID, "tickets", in.Signalled)
			return ConfigRolloutResult{Signalled: in.Signalled}, nil
		}
		in.After = page.Last
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			return ConfigRolloutResult{}, workflow.NewContinueAsNewError(ctx, ConfigRolloutWorkflowType, in)
		}
	}
}

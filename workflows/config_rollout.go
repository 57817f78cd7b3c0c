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
// Changes recorded meanwhile arrive as ChangesRecorded signals and are rolled out together by
// one more pass; the workflow ends when a pass finishes with nothing new.
func ConfigRollout(ctx workflow.Context, in ConfigRolloutInput) (ConfigRolloutResult, error) {
	if in.PageSize <= 0 {
		in.PageSize = DefaultRolloutPage
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 10 * time.Minute,
		HeartbeatTimeout:    10 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, MaximumInterval: 30 * time.Second},
	})
	recorded := workflow.GetSignalChannel(ctx, SignalChangesRecorded)
	drain := func() {
		var c ConfigChanged
		for recorded.ReceiveAsync(&c) {
			if in.Change.ChangeID == 0 {
				in.Change = in.Change.Merge(c)
			} else {
				in.Next = in.Next.Merge(c)
			}
		}
	}
	for {
		drain()
		if in.Change.ChangeID == 0 {
			return ConfigRolloutResult{Signalled: in.Signalled}, nil // nothing (more) to roll out
		}
		var page RolloutPage
		err := workflow.ExecuteActivity(ctx, ActivitySignalOpenTickets,
			RolloutPageInput{Change: in.Change, After: in.After, Limit: in.PageSize}).Get(ctx, &page)
		if err != nil {
			return ConfigRolloutResult{Signalled: in.Signalled}, err
		}
		in.Signalled += page.Signalled
		in.After = page.Last
		if page.Done {
			workflow.GetLogger(ctx).Info("configuration rolled out", "change", in.Change.ChangeID, "tickets", in.Signalled)
			in.Change, in.Next, in.After = in.Next, ConfigChanged{}, 0
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			drain()
			return ConfigRolloutResult{}, workflow.NewContinueAsNewError(ctx, ConfigRolloutWorkflowType, in)
		}
	}
}

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
//
// Each pass ends with a tail: RolloutTailDelay later, the open tickets created since
// RolloutTailWindow before the pass began are signalled again. They are the creates that were
// in flight when the edit committed (a number reserved before it, a row written after the
// pass's page went by), which neither the pass nor their own creation could be sure to see.
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
		if in.After == 0 && !in.Tail {
			in.PassStarted = workflow.Now(ctx)
		}
		req := RolloutPageInput{Change: in.Change, After: in.After, Limit: in.PageSize}
		if in.Tail {
			since := in.PassStarted.Add(-RolloutTailWindow)
			req.CreatedSince = &since
		}
		var page RolloutPage
		if err := workflow.ExecuteActivity(ctx, ActivitySignalOpenTickets, req).Get(ctx, &page); err != nil {
			return ConfigRolloutResult{Signalled: in.Signalled}, err
		}
		in.Signalled += page.Signalled
		in.After = page.Last
		if page.Done {
			in.After = 0
			if !in.Tail && workflow.GetVersion(ctx, "rollout-tail", workflow.DefaultVersion, 1) >= 1 {
				in.Tail = true
				if err := workflow.Sleep(ctx, RolloutTailDelay); err != nil {
					return ConfigRolloutResult{Signalled: in.Signalled}, err
				}
				continue
			}
			workflow.GetLogger(ctx).Info("configuration rolled out", "change", in.Change.ChangeID, "tickets", in.Signalled)
			in.Change, in.Next, in.Tail = in.Next, ConfigChanged{}, false
		}
		if workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
			drain()
			return ConfigRolloutResult{}, workflow.NewContinueAsNewError(ctx, ConfigRolloutWorkflowType, in)
		}
	}
}

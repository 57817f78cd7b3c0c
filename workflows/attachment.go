package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// AttachmentExpiry sleeps (a durable timer) for the input's After, or AttachmentExpiryAfter,
// then removes the upload unless a message references it by then. An upload a message has
// claimed is looked at again when the claim's hold ends (a history recorded before claims
// existed never has KeepUntil, so it replays unchanged).
func AttachmentExpiry(ctx workflow.Context, in AttachmentExpiryInput) (AttachmentExpiryResult, error) {
	after := in.After
	if after <= 0 {
		after = AttachmentExpiryAfter
	}
	if err := workflow.Sleep(ctx, after); err != nil {
		return AttachmentExpiryResult{}, err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout:    time.Minute,
		ScheduleToCloseTimeout: ProjectionRetryFor,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    time.Second,
			BackoffCoefficient: 2,
			MaximumInterval:    10 * time.Minute,
		},
	})
	for {
		var res AttachmentExpiryResult
		if err := workflow.ExecuteActivity(ctx, ActivityExpireAttachment, in).Get(ctx, &res); err != nil || res.KeepUntil == nil {
			return res, err
		}
		if err := workflow.Sleep(ctx, max(res.KeepUntil.Sub(workflow.Now(ctx)), time.Second)); err != nil {
			return res, err
		}
	}
}

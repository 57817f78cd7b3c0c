package worker

import (
	"context"
	"errors"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
)

// failureLog logs every failed attempt of an activity that will be retried, local activities
// included. The SDK counts each failed attempt (temporal_local_activity_execution_failed,
// temporal_activity_execution_failed) but logs only regular activities' errors, and the
// projection writes that wait out a stalled PostgreSQL are local: without this an operator
// would see a growing counter and no reason. A refusal (a non-retryable error) is the caller's
// answer, not a failure, and is not logged.
type failureLog struct {
	interceptor.WorkerInterceptorBase
}

func (*failureLog) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	return &failureLogActivity{ActivityInboundInterceptorBase: interceptor.ActivityInboundInterceptorBase{Next: next}}
}

type failureLogActivity struct {
	interceptor.ActivityInboundInterceptorBase
}

func (a *failureLogActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	out, err := a.Next.ExecuteActivity(ctx, in)
	var refused *temporal.ApplicationError
	if err != nil && !(errors.As(err, &refused) && refused.NonRetryable()) {
		info := activity.GetInfo(ctx)
		activity.GetLogger(ctx).Warn("activity attempt failed; it is retried", "activity", info.ActivityType.Name,
			"attempt", info.Attempt, "workflowId", info.WorkflowExecution.ID, "local", info.IsLocalActivity, "err", err)
	}
	return out, err
}

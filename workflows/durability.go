package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// How the workflows survive a slow or absent PostgreSQL. A change a workflow has decided is
// written by a local activity that retries until PostgreSQL takes it: the SDK would otherwise
// stop after the StartToCloseTimeout (ScheduleToClose defaults to it), losing the change while
// the workflow's memory kept it. Retries back off to ProjectionMaxInterval so that an outage
// adds a few history events a minute, and give up only after ProjectionRetryFor.
const (
	ProjectionAttemptTimeout = 10 * time.Second
	ProjectionMaxInterval    = time.Minute
	ProjectionRetryFor       = 24 * time.Hour
)

// projectionCtx runs projection writes and trigger evaluation: they wait out the stall.
func projectionCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: ProjectionRetryFor,
		StartToCloseTimeout:    ProjectionAttemptTimeout,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    100 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    ProjectionMaxInterval,
		},
	})
}

// bestEffortCtx runs what may be lost (an agent's live notification): a few quick attempts, then
// the workflow logs it and goes on; it never waits long for it.
func bestEffortCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		ScheduleToCloseTimeout: 15 * time.Second,
		StartToCloseTimeout:    5 * time.Second,
		RetryPolicy: &temporal.RetryPolicy{
			InitialInterval:    200 * time.Millisecond,
			BackoffCoefficient: 2,
			MaximumInterval:    2 * time.Second,
			MaximumAttempts:    4,
		},
	})
}

// survive keeps the workflow alive through a failure that is not its own cancellation: the
// failure is logged (the SDK's activity metrics count every failed attempt) and the workflow
// carries on. Only cancellation ends it.
func survive(ctx workflow.Context, what string, err error) error {
	if err == nil || temporal.IsCanceledError(err) {
		return err
	}
	workflow.GetLogger(ctx).Error(what+" failed; the workflow carries on", "err", err)
	return nil
}

// Deadline is carried by every ticket update the API sends: when the update's validator runs
// after AcceptBy, the API has stopped waiting and answered an error, so the update is refused
// (a refused update leaves no history) and the change never lands. Nil: no deadline.
type Deadline struct {
	AcceptBy *time.Time `json:",omitempty"`
}

// SetAcceptBy sets the deadline; UpdateArg is what the API sends as a ticket update.
func (d *Deadline) SetAcceptBy(t time.Time) { d.AcceptBy = &t }

func (d Deadline) deadline() *time.Time { return d.AcceptBy }

// UpdateArg is a ticket update's input, which carries a Deadline.
type UpdateArg interface{ SetAcceptBy(time.Time) }

// ErrTypeExpired is an update whose validator ran after its AcceptBy.
const ErrTypeExpired = "Expired"

// acceptBy refuses an update whose deadline has passed, before its own validator runs. Only the
// validator checks it: once accepted, the update lands however long it waits for the mutex.
func acceptBy[T interface{ deadline() *time.Time }](validate func(workflow.Context, T) error) func(workflow.Context, T) error {
	return func(ctx workflow.Context, in T) error {
		if d := in.deadline(); d != nil && workflow.Now(ctx).After(*d) {
			return temporal.NewNonRetryableApplicationError("the change arrived after the caller stopped waiting", ErrTypeExpired, nil)
		}
		return validate(ctx, in)
	}
}

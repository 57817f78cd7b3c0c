package workflows

import (
	"encoding/json"
	"errors"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/switchboardhq/switchboard/schema"
)

// Activities of the WebhookDelivery workflow.
const (
	ActivityBeginWebhookDelivery = "BeginWebhookDelivery"
	ActivityDeliverWebhook       = "DeliverWebhook"
	ActivitySaveWebhookDelivery  = "SaveWebhookDelivery"
)

// The retry schedule: waits of 10 s, 20 s, 40 s ... up to an hour between attempts, the last
// attempt 24 hours after the first.
const (
	DefaultWebhookRetryInitial = 10 * time.Second
	WebhookRetryMaxInterval    = time.Hour
	WebhookRetryFor            = 24 * time.Hour
)

// Outcomes of one attempt, as DeliverWebhook reports them.
const (
	AttemptSucceeded = "succeeded" // a 2xx
	AttemptFailed    = "failed"    // may work later: retried on the schedule
	AttemptFinal     = "final"     // retrying will not mend it (a 4xx, a refused address): dead at once
	AttemptSkipped   = "skipped"   // the webhook is deactivated or gone: nothing was sent
)

// WebhookSchedule is a delivery's retry schedule.
type WebhookSchedule struct {
	Initial     time.Duration // the first wait; each next wait doubles
	MaxInterval time.Duration // the longest wait
	RetryFor    time.Duration // the last attempt is made this long after the delivery started
}

func (s WebhookSchedule) orDefaults() WebhookSchedule {
	if s.Initial <= 0 {
		s.Initial = DefaultWebhookRetryInitial
	}
	if s.MaxInterval <= 0 {
		s.MaxInterval = WebhookRetryMaxInterval
	}
	if s.RetryFor <= 0 {
		s.RetryFor = WebhookRetryFor
	}
	return s
}

// wait is how long to wait after failed attempt n (1-based): Initial·2^(n-1), at most
// MaxInterval; longer when the receiver asked for it with Retry-After, up to MaxInterval.
func (s WebhookSchedule) wait(n int, retryAfter time.Duration) time.Duration {
	d := s.Initial
	for i := 1; i < n && d < s.MaxInterval; i++ {
		d *= 2
	}
	d = max(d, retryAfter)
	return min(d, s.MaxInterval)
}

// WebhookStart is what BeginWebhookDelivery answers: the webhook's URL as the delivery starts,
// and the schedule (read once, from the worker's configuration, so it is in the history and a
// configuration change never alters a running delivery's replay).
type WebhookStart struct {
	URL      string
	Schedule WebhookSchedule
}

// WebhookAttemptInput asks DeliverWebhook for one attempt.
type WebhookAttemptInput struct {
	DeliveryID string
	WebhookID  string
	Attempt    int // 1-based
	Payload    json.RawMessage
}

// WebhookAttemptResult is what came of one attempt. Attempt is nil when nothing was sent.
type WebhookAttemptResult struct {
	Outcome    string
	Attempt    *schema.WebhookAttempt
	RetryAfter time.Duration // asked for by the receiver (429, 503)
}

// WebhookDeliveryState is the delivery as its workflow sees it; the Delivery query answers it.
type WebhookDeliveryState struct {
	State          string // schema.DeliveryPending, ...
	Attempts       int
	LastStatusCode *int
	LastError      string
	NextAttemptAt  *time.Time
}

// WebhookDelivery delivers one event to one webhook: an attempt, and while attempts fail, a
// durable timer and another, on WebhookSchedule, until one succeeds (succeeded), a failure is
// final or the last attempt 24 hours on fails too (dead), or the webhook turns out deactivated
// (skipped). Each attempt is a regular activity (it talks to the outside world); the schedule
// is this loop rather than the activity's retry policy so that every attempt is a step of the
// history, logged with its number, and the last one falls exactly at the deadline. A delivery
// has at most ~35 attempts, so it never needs continue-as-new.
func WebhookDelivery(ctx workflow.Context, in WebhookDeliveryInput) (WebhookDeliveryState, error) {
	w := &webhookWorkflow{in: in, state: WebhookDeliveryState{State: schema.DeliveryPending}}
	if err := workflow.SetQueryHandler(ctx, QueryDelivery, func() (WebhookDeliveryState, error) { return w.state, nil }); err != nil {
		return w.state, err
	}
	err := w.run(ctx)
	return w.state, err
}

type webhookWorkflow struct {
	in    WebhookDeliveryInput
	url   string // of the latest attempt
	state WebhookDeliveryState
}

func (w *webhookWorkflow) run(ctx workflow.Context) error {
	started := workflow.Now(ctx)
	var begun WebhookStart
	if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivityBeginWebhookDelivery, w.delivery(started)).Get(ctx, &begun); err != nil {
		return err
	}
	w.url = begun.URL
	sched := begun.Schedule.orDefaults()
	deadline := started.Add(sched.RetryFor)
	for n := 1; ; n++ {
		res := w.attempt(ctx, n)
		now := workflow.Now(ctx)
		w.apply(res, n, now, deadline, sched)
		write := schema.DeliveryWrite{DeliveryID: w.in.DeliveryID, Attempt: res.Attempt, State: w.state.State,
			NextAttemptAt: w.state.NextAttemptAt, At: now}
		if err := workflow.ExecuteLocalActivity(projectionCtx(ctx), ActivitySaveWebhookDelivery, write).Get(ctx, nil); err != nil {
			return err
		}
		if w.state.State != schema.DeliveryPending {
			workflow.GetLogger(ctx).Info("webhook delivery finished", "state", w.state.State, "attempts", w.state.Attempts)
			return nil
		}
		if err := workflow.Sleep(ctx, max(w.state.NextAttemptAt.Sub(workflow.Now(ctx)), 0)); err != nil {
			return err
		}
	}
}

// delivery is the execution log's row as the delivery starts.
func (w *webhookWorkflow) delivery(at time.Time) schema.WebhookDelivery {
	d := schema.WebhookDelivery{ID: w.in.DeliveryID, WebhookID: w.in.WebhookID, Event: w.in.Event,
		State: schema.DeliveryPending, Payload: w.in.Payload, CreatedAt: at, UpdatedAt: at}
	if w.in.TicketID != 0 {
		d.TicketID = &w.in.TicketID
	}
	if w.in.TriggerID != "" {
		d.TriggerID = &w.in.TriggerID
	}
	if w.in.RedeliveryOf != "" {
		d.RedeliveryOf = &w.in.RedeliveryOf
	}
	if len(d.Payload) == 0 {
		d.Payload = json.RawMessage("null")
	}
	return d
}

// deliverCtx runs an attempt. The request has its own timeout (10 s); the activity's retry
// policy only covers the attempt not being made at all (the webhook could not be read, the
// worker died mid-request), and gives up soon: then the attempt counts as failed and the
// schedule goes on.
func deliverCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: 10 * time.Second, MaximumAttempts: 3},
	})
}

func (w *webhookWorkflow) attempt(ctx workflow.Context, n int) WebhookAttemptResult {
	in := WebhookAttemptInput{DeliveryID: w.in.DeliveryID, WebhookID: w.in.WebhookID, Attempt: n, Payload: w.in.Payload}
	var res WebhookAttemptResult
	err := workflow.ExecuteActivity(deliverCtx(ctx), ActivityDeliverWebhook, in).Get(ctx, &res)
	if err == nil {
		return res
	}
	msg := "the attempt could not be made: " + activityCause(err)
	return WebhookAttemptResult{Outcome: AttemptFailed,
		Attempt: &schema.WebhookAttempt{Attempt: n, At: workflow.Now(ctx), URL: w.url, Error: &msg}}
}

// activityCause is the message of what made an activity fail, without the activity error's
// own preamble (type, event ids).
func activityCause(err error) string {
	if cause := errors.Unwrap(err); cause != nil {
		return cause.Error()
	}
	return err.Error()
}

// apply folds an attempt into the state, and when another attempt follows, sets when.
func (w *webhookWorkflow) apply(res WebhookAttemptResult, n int, now, deadline time.Time, sched WebhookSchedule) {
	w.state.NextAttemptAt = nil
	if a := res.Attempt; a != nil {
		w.url = a.URL
		w.state.Attempts = n
		w.state.LastStatusCode = a.StatusCode
		w.state.LastError = ""
		if a.Error != nil {
			w.state.LastError = *a.Error
		}
	}
	switch {
	case res.Outcome == AttemptSucceeded:
		w.state.State = schema.DeliverySucceeded
	case res.Outcome == AttemptSkipped:
		w.state.State = schema.DeliverySkipped
	case res.Outcome == AttemptFinal, !now.Before(deadline):
		w.state.State = schema.DeliveryDead
	default:
		next := now.Add(sched.wait(n, res.RetryAfter))
		if next.After(deadline) {
			next = deadline // the last attempt is made at the deadline itself
		}
		w.state.NextAttemptAt = &next
	}
}

package activities

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/switchboardhq/switchboard/internal/webhook"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// BeginWebhookDelivery records a delivery as pending (a second write changes nothing) and
// answers the webhook's URL and the retry schedule this worker is configured with.
func (a *Activities) BeginWebhookDelivery(ctx context.Context, d schema.WebhookDelivery) (workflows.WebhookStart, error) {
	if err := schema.BeginDelivery(ctx, a.DB, &d); err != nil {
		return workflows.WebhookStart{}, err
	}
	return workflows.WebhookStart{URL: d.URL, Schedule: workflows.WebhookSchedule{Initial: a.Webhooks.FirstRetry(),
		MaxInterval: workflows.WebhookRetryMaxInterval, RetryFor: workflows.WebhookRetryFor}}, nil
}

// DeliverWebhook makes one attempt: it reads the webhook as it is now (so a changed URL or a
// rotated secret applies from the next attempt on), signs the payload and POSTs it. What the
// receiver answers, including no answer, is the result; an error means the attempt could not be
// made (the webhook could not be read) and is retried by Temporal.
func (a *Activities) DeliverWebhook(ctx context.Context, in workflows.WebhookAttemptInput) (workflows.WebhookAttemptResult, error) {
	var hook schema.Webhook
	err := a.DB.NewSelect().Model(&hook).Where("id = ?", in.WebhookID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !hook.IsActive) {
		return workflows.WebhookAttemptResult{Outcome: workflows.AttemptSkipped}, nil
	}
	if err != nil {
		return workflows.WebhookAttemptResult{}, fmt.Errorf("read webhook %s: %w", in.WebhookID, err)
	}
	at := time.Now().UTC()
	res := webhook.Send(ctx, a.Webhooks, webhook.Request{URL: hook.URL, ID: in.DeliveryID, Secret: hook.Secret,
		Body: in.Payload, At: at})
	att := &schema.WebhookAttempt{Attempt: in.Attempt, At: at, URL: hook.URL, LatencyMS: res.Latency.Milliseconds(),
		ResponseExcerpt: res.Excerpt}
	if res.StatusCode != 0 {
		att.StatusCode = &res.StatusCode
	}
	if res.Err != nil {
		msg := webhook.CleanError(res.Err)
		att.Error = &msg
	}
	return workflows.WebhookAttemptResult{Outcome: outcomes[res.Outcome()], Attempt: att, RetryAfter: res.RetryAfter}, nil
}

var outcomes = map[string]string{
	webhook.Succeeded: workflows.AttemptSucceeded,
	webhook.Failed:    workflows.AttemptFailed,
	webhook.Final:     workflows.AttemptFinal,
}

// SaveWebhookDelivery writes one step of a delivery to the execution log; safe to run twice.
func (a *Activities) SaveWebhookDelivery(ctx context.Context, w schema.DeliveryWrite) error {
	if w.Attempt != nil && w.Attempt.Error != nil {
		// Errors made up by the workflow (an attempt that could not be made) are not cleaned
		// by the sender.
		msg := webhook.CleanError(errors.New(*w.Attempt.Error))
		w.Attempt.Error = &msg
	}
	return schema.SaveDelivery(ctx, a.DB, w)
}

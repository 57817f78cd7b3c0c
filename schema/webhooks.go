package schema

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/uptrace/bun"
)

// Webhook delivery states. A delivery is pending until it succeeds, gives up (dead) or finds its
// webhook deactivated (skipped).
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryDead      = "dead"
	DeliverySkipped   = "skipped"
)

// DeliveryStates lists the states in their natural order.
var DeliveryStates = []string{DeliveryPending, DeliverySucceeded, DeliveryDead, DeliverySkipped}

// Webhook is where events are POSTed. The secret never leaves in JSON (nor in audit entries):
// the API shows it once, at creation and rotation.
type Webhook struct {
	bun.BaseModel `bun:"table:webhooks" json:"-"`

	ID        string    `bun:"id,pk" json:"id"`
	Name      string    `bun:"name" json:"name"`
	URL       string    `bun:"url" json:"url"`
	Secret    string    `bun:"secret" json:"-"`
	IsActive  bool      `bun:"is_active" json:"isActive"`
	CreatedAt time.Time `bun:"created_at" json:"createdAt"`
	UpdatedAt time.Time `bun:"updated_at" json:"updatedAt"`
}

// WebhookDelivery is one event sent to one webhook: the execution log's entry, kept by its
// WebhookDelivery workflow. Attempts is filled by the API when it answers.
type WebhookDelivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries" json:"-"`

	ID             string          `bun:"id,pk" json:"id"`
	WebhookID      string          `bun:"webhook_id" json:"webhookId"`
	Event          string          `bun:"event" json:"event"`
	TicketID       *int64          `bun:"ticket_id" json:"ticketId"`
	TriggerID      *string         `bun:"trigger_id" json:"triggerId"`
	URL            string          `bun:"url" json:"url"`
	State          string          `bun:"state" json:"state"`
	AttemptCount   int             `bun:"attempts" json:"attemptCount"`
	LastStatusCode *int            `bun:"last_status_code" json:"lastStatusCode"`
	NextAttemptAt  *time.Time      `bun:"next_attempt_at" json:"nextAttemptAt"`
	Payload        json.RawMessage `bun:"payload,type:jsonb" json:"payload"`
	RedeliveryOf   *string         `bun:"redelivery_of" json:"redeliveryOf"`
	CreatedAt      time.Time       `bun:"created_at" json:"createdAt"`
	UpdatedAt      time.Time       `bun:"updated_at" json:"updatedAt"`

	Attempts []WebhookAttempt `bun:"-" json:"attempts"`
}

// WebhookAttempt is one POST of a delivery and what came of it. StatusCode is nil and Error set
// when no answer came (refused address, unreachable, timed out).
type WebhookAttempt struct {
	bun.BaseModel `bun:"table:webhook_attempts" json:"-"`

	DeliveryID      string    `bun:"delivery_id,pk" json:"-"`
	Attempt         int       `bun:"attempt,pk" json:"attempt"`
	At              time.Time `bun:"at" json:"at"`
	URL             string    `bun:"url" json:"url"`
	StatusCode      *int      `bun:"status_code" json:"statusCode"`
	LatencyMS       int64     `bun:"latency_ms" json:"latencyMs"`
	ResponseExcerpt string    `bun:"response_excerpt" json:"responseExcerpt"`
	Error           *string   `bun:"error" json:"error"`
}

// BeginDelivery records a delivery as pending with its webhook's current URL. Writing the same
// delivery again changes nothing, so the API (on redelivery) and the workflow may both write it.
func BeginDelivery(ctx context.Context, db bun.IDB, d *WebhookDelivery) error {
	if d.URL == "" {
		err := db.NewSelect().Model((*Webhook)(nil)).Column("url").Where("id = ?", d.WebhookID).Scan(ctx, &d.URL)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	_, err := db.NewInsert().Model(d).On("CONFLICT (id) DO NOTHING").Returning("NULL").Exec(ctx)
	return err
}

// DeliveryWrite is the delivery's state after one step of its workflow: an attempt (nil when
// none was made, as when the webhook is found deactivated) and the state it leaves.
type DeliveryWrite struct {
	DeliveryID    string
	Attempt       *WebhookAttempt
	State         string
	NextAttemptAt *time.Time
	At            time.Time
}

// SaveDelivery writes one step of a delivery. It is safe to run twice: the attempt is keyed by
// its number and the counters only rise.
func SaveDelivery(ctx context.Context, db *bun.DB, w DeliveryWrite) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		q := tx.NewUpdate().Model((*WebhookDelivery)(nil)).Where("id = ?", w.DeliveryID).
			Set("state = ?", w.State).Set("next_attempt_at = ?", w.NextAttemptAt).Set("updated_at = ?", w.At)
		if a := w.Attempt; a != nil {
			a.DeliveryID = w.DeliveryID
			if _, err := tx.NewInsert().Model(a).On("CONFLICT (delivery_id, attempt) DO NOTHING").Returning("NULL").Exec(ctx); err != nil {
				return err
			}
			q = q.Set("attempts = GREATEST(attempts, ?)", a.Attempt).Set("last_status_code = ?", a.StatusCode).
				Set("url = ?", a.URL)
		}
		_, err := q.Exec(ctx)
		return err
	})
}

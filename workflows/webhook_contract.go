package workflows

import "encoding/json"

// WebhookDelivery workflow: one delivery of one event to one webhook, retried with backoff for
// at least 24 hours, then dead. The ticket workflow starts it as an abandoned child, so a slow
// or failing receiver never holds a ticket up.
const (
	WebhookWorkflowType = "WebhookDelivery"
	QueryDelivery       = "Delivery"
)

// WebhookWorkflowID is the readable workflow ID of a delivery: webhook/<delivery id>.
func WebhookWorkflowID(deliveryID string) string { return "webhook/" + deliveryID }

// WebhookDeliveryInput is what to deliver. DeliveryID is also the Standard Webhooks
// `webhook-id` header, so a receiver can deduplicate.
type WebhookDeliveryInput struct {
	DeliveryID string
	WebhookID  string
	Event      string // e.g. ticket.updated
	TicketID   int64
	TriggerID  string
	// Payload is the JSON body: {"event","deliveryId","triggerId","ticket","changes"}.
	Payload json.RawMessage
	// RedeliveryOf names the delivery this one repeats (manual redelivery).
	RedeliveryOf string `json:",omitempty"`
}

// Package channel is what a messaging channel (WhatsApp through Twilio today) offers the chat
// and ticket pipelines: an outbound sender. Inbound messages come in through each adapter's
// webhook (api/whatsapp.go) and become ordinary chat messages, so a new channel needs only an
// adapter behind Sender and a webhook.
package channel

import "context"

// Outbound is one message to a contact: free text, or a provider's message template with its
// numbered parameters (WhatsApp allows only templates once its 24-hour window has closed).
type Outbound struct {
	To           string
	Body         string
	TemplateID   string            // the provider's content id of an approved template
	TemplateVars map[string]string // "1" → the first parameter, …
}

// Sender sends messages on a channel and answers the provider's id of the sent message.
type Sender interface {
	Send(ctx context.Context, m Outbound) (providerID string, err error)
}

package activities

import (
	"context"

	"github.com/switchboardhq/switchboard/workflows"
)

// The ChatSession workflow's activities. They are stubs that accept everything: the chat's
// persistence (an upsert keyed by chat id + Version, messages by chat id + Seq, streamed with
// the messenger's LISTEN/NOTIFY), the distributor, the offline flow and the ticket made from a
// closed chat's transcript fill them in later. Each must stay safe to run twice.

// PersistChat writes one change of a chat (workflows.ActivityPersistChat). Stub: no-op.
func (a *Activities) PersistChat(ctx context.Context, w workflows.ChatWrite) error { return nil }

// NotifyChatDistributor tells the group's distributor what happened to a chat
// (workflows.ActivityNotifyChatDistributor). Stub: no-op.
func (a *Activities) NotifyChatDistributor(ctx context.Context, e workflows.ChatDistributorEvent) error {
	return nil
}

// HandOffChatOffline hands a chat that waited longer than its group's queueWait to the offline
// flow (workflows.ActivityHandOffChatOffline). Stub: no-op until the offline-flow issue.
func (a *Activities) HandOffChatOffline(ctx context.Context, h workflows.ChatHandOff) error {
	return nil
}

// ChatClosed receives a closed chat with its transcript (workflows.ActivityChatClosed): the
// ticket with origin 5 (or the action on the ticket it started from) is made here later.
// Stub: no-op.
func (a *Activities) ChatClosed(ctx context.Context, c workflows.ChatClosedInput) error { return nil }

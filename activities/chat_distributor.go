package activities

import (
	"context"

	"github.com/switchboardhq/switchboard/workflows"
)

// NotifyChatDistributor tells the distributor what happened to a chat
// (workflows.ActivityNotifyChatDistributor). Stub: no-op.
func (a *Activities) NotifyChatDistributor(ctx context.Context, e workflows.ChatDistributorEvent) error {
	return nil
}

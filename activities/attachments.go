package activities

import (
	"context"
	"errors"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// ExpireAttachment removes an upload that no message references, and its content when no other
// upload has it (see schema.ExpireAttachment). Safe to run twice.
func (a *Activities) ExpireAttachment(ctx context.Context, in workflows.AttachmentExpiryInput) (workflows.AttachmentExpiryResult, error) {
	if a.Blobs == nil {
		return workflows.AttachmentExpiryResult{}, errors.New("the worker has no blob store (SWITCHBOARD_BLOB_URL)")
	}
	r, err := schema.ExpireAttachment(ctx, a.DB, in.AttachmentID, in.SHA256, workflows.AttachmentClaimHold, a.Blobs.Delete)
	return workflows.AttachmentExpiryResult{Kept: r.Kept, RowDeleted: r.RowDeleted, BlobDeleted: r.BlobDeleted,
		KeepUntil: r.KeepUntil}, err
}

package workflows

import "time"

// AttachmentExpiry workflow: an upload that no message references is removed 24 hours after
// it was uploaded, by a durable timer in its own workflow (no poller). The upload handler starts
// it; when the timer fires, ActivityExpireAttachment deletes the row if it is still unreferenced,
// and its content when no other upload has the same content.
const (
	AttachmentExpiryWorkflowType = "AttachmentExpiry"
	ActivityExpireAttachment     = "ExpireAttachment"
)

// AttachmentExpiryAfter is how long an unreferenced upload is kept. Only a workflow input's
// After overrides it (tests do, through the API's test-only option).
const AttachmentExpiryAfter = 24 * time.Hour

// AttachmentClaimHold is how long a message's claim on an upload (schema.ClaimAttachments)
// keeps it from its expiry: longer than a projection write may retry (ProjectionRetryFor), so
// a message accepted by the API always finds its files when it is finally written.
const AttachmentClaimHold = ProjectionRetryFor + time.Hour

// AttachmentWorkflowID is the readable workflow ID of an upload's expiry: attachment/<id>.
func AttachmentWorkflowID(id string) string { return "attachment/" + id }

// AttachmentExpiryInput names the upload. After zero means AttachmentExpiryAfter. SHA256 is
// the content's hash, so that content whose row was never written (the upload failed after
// starting its expiry) is still removed.
type AttachmentExpiryInput struct {
	AttachmentID string
	After        time.Duration `json:",omitempty"`
	SHA256       string        `json:",omitempty"`
}

// AttachmentExpiryResult is what ExpireAttachment did.
type AttachmentExpiryResult struct {
	Kept        bool // a message references the upload: nothing was deleted
	RowDeleted  bool
	BlobDeleted bool
	// KeepUntil: a message claimed the upload; nothing was deleted, and the workflow runs the
	// expiry again at that instant.
	KeepUntil *time.Time `json:",omitempty"`
}

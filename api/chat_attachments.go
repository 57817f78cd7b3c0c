package api

import (
	"context"

	"github.com/switchboardhq/switchboard/schema"
)

// chatAttachmentRefs resolves the uploads a chat message carries. Not built yet: a message
// naming attachments is refused, naming the field.
func (s *Server) chatAttachmentRefs(ctx context.Context, chatID, authorID string, ids []string) ([]schema.AttachmentRef, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return nil, errInvalid(map[string]string{"attachmentIds": "chat attachments are not supported yet"})
}

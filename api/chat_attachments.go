package api

import (
	"context"
	"fmt"

	"github.com/switchboardhq/switchboard/schema"
)

// Chat attachments: files uploaded to a chat session (POST /public/chat/v1/sessions/{id}/
// attachments for visitors; the agents' chat routes use the same pipeline, receiveUploads),
// stored as attachments rows with chat_id set. A message names them by attachmentIds; once the
// message is stored its seq is written as the rows' action_id (schema.ReferenceChatAttachments,
// in the chat's projection transaction), which keeps them from the expiry of unsent uploads.

// chatAttachmentRefs resolves the uploads a chat message carries: each id an upload to this
// chat, by the message's author, not yet carried by another message, listed once. A bad id is
// a 422 naming attachmentIds[i].
func (s *Server) chatAttachmentRefs(ctx context.Context, chatID, authorID string, ids []string) ([]schema.AttachmentRef, error) {
	files, err := s.messageFiles(ctx, ids, func(a *schema.Attachment) bool {
		return a.ChatID != nil && *a.ChatID == chatID && a.UploadedBy == authorID
	}, fmt.Sprintf("uploaded by you to chat %s", chatID), func(ids []string) ([]string, error) {
		return schema.ClaimChatAttachments(ctx, s.db, chatID, ids)
	})
	if err != nil || len(files) == 0 {
		return nil, err
	}
	refs := make([]schema.AttachmentRef, len(files))
	for i, a := range files {
		refs[i] = schema.AttachmentRef{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size}
	}
	return refs, nil
}

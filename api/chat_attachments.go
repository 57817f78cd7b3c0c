package api

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/uptrace/bun"

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
	if len(ids) == 0 {
		return nil, nil
	}
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, err := uuid.Parse(id); err == nil {
			valid = append(valid, id)
		}
	}
	var rows []schema.Attachment
	if len(valid) > 0 {
		if err := s.db.NewSelect().Model(&rows).Where("id IN (?)", bun.In(valid)).Scan(ctx); err != nil && !isNoRows(err) {
			return nil, err
		}
	}
	byID := map[string]schema.Attachment{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	refs := make([]schema.AttachmentRef, 0, len(ids))
	seen := map[string]bool{}
	for i, id := range ids {
		field := fmt.Sprintf("attachmentIds[%d]", i)
		a, found := byID[id]
		switch {
		case seen[id]:
			return nil, errField(field, "attachment %q is listed twice", id)
		case !found || a.ChatID == nil || *a.ChatID != chatID || a.UploadedBy != authorID:
			return nil, errField(field, "no attachment %q uploaded by you to chat %s", id, chatID)
		case a.ActionID != nil:
			return nil, errField(field, "attachment %q is already part of another message", id)
		}
		seen[id] = true
		refs = append(refs, schema.AttachmentRef{ID: a.ID, Filename: a.Filename, ContentType: a.ContentType, Size: a.Size})
	}
	// Claimed, as a ticket message's files are (attachmentsForMessage): kept past their expiry
	// until the message is stored; one that expired since the read above is refused.
	claimed, err := schema.ClaimChatAttachments(ctx, s.db, chatID, ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if !slices.Contains(claimed, id) {
			return nil, errField(fmt.Sprintf("attachmentIds[%d]", i), "attachment %q expired or was taken by another message; upload it again", id)
		}
	}
	return refs, nil
}

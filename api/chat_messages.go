package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/switchboardhq/switchboard/workflows"
)

// chatMessageInput is a message as agents (/api/v1/chats/{id}/messages) and visitors
// (/public/chat/v1/sessions/{id}/messages) send it. The body is markdown; attachmentIds name
// uploads made to the same chat.
type chatMessageInput struct {
	Body            *string  `json:"body" validate:"omitnil,max=40000"`
	ClientMessageID *string  `json:"clientMessageId" validate:"required,min=1,max=200"`
	AttachmentIDs   []string `json:"attachmentIds" validate:"omitempty,max=20,dive,max=64"`
}

// sendChatMessage sends a message to a chat's workflow as author (in role) and answers it. The
// update id is the author's clientMessageId, so a retried request joins the first one (and
// the workflow answers a repeated id with the first message, whatever happened since).
func (s *Server) sendChatMessage(c *fiber.Ctx, chatID, authorID, role string, in chatMessageInput) (workflows.ChatMessage, error) {
	arg := &workflows.SendChatMessageInput{AuthorID: authorID, Role: role, ClientMessageID: *in.ClientMessageID}
	if in.Body != nil {
		arg.Body = *in.Body
		arg.HTML = renderBody(arg.Body)
	}
	refs, err := s.chatAttachmentRefs(c.UserContext(), chatID, authorID, in.AttachmentIDs)
	if err != nil {
		return workflows.ChatMessage{}, err
	}
	arg.Attachments = refs
	var out workflows.ChatMessage
	updateID := "chat-message/" + chatID + "/" + authorID + "/" + *in.ClientMessageID
	// The chat's projection marks the files as carried, in the transaction that stores the message.
	err = s.runChatUpdate(c, chatID, workflows.UpdateChatSendMessage, updateID, arg, &out)
	return out, err
}

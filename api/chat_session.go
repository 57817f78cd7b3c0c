package api

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// The pieces every chat route shares, the agents' (/api/v1/chats) and the visitors'
// (/public/chat/v1): starting a ChatSession workflow, sending it an update, reading a chat and
// its transcript from PostgreSQL (what the workflow persisted; lists and streams read there).

// chatGroupSettings is what a ChatSession needs of its group.
func chatGroupSettings(g *schema.ChatGroup) workflows.ChatGroupSettings {
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	prompt, auto := g.OfflineTexts()
	gs := workflows.ChatGroupSettings{Manual: !g.Automatic, AcceptWithin: sec(g.AcceptWithinSeconds),
		CustomerInactivity: sec(g.InactivitySeconds), QueueWait: sec(g.QueueWaitSeconds),
		OfflinePrompt: prompt, OfflineAutoresponder: auto, IntakeClose: sec(g.IntakeCloseSeconds)}
	if g.DepartmentID != nil {
		gs.Department = *g.DepartmentID
	}
	return gs
}

// startChat starts the ChatSession workflow chat/<uuid> for in (its ID is set here) and
// answers the chat as the workflow holds it once its creation is stored.
func (s *Server) startChat(ctx context.Context, in workflows.ChatInput) (workflows.Chat, error) {
	if in.ID == "" {
		in.ID = uuid.NewString()
	}
	opts := client.StartWorkflowOptions{ID: workflows.ChatWorkflowID(in.ID), TaskQueue: s.cfg.TaskQueue}
	if _, err := s.temporal.ExecuteWorkflow(ctx, opts, workflows.ChatSessionWorkflowType, in); err != nil {
		return workflows.Chat{}, err
	}
	v, err := s.queryChat(ctx, in.ID)
	return v.Chat, err
}

// queryChat asks the chat's workflow for its state (a closed chat's run answers it too, for as
// long as Temporal keeps its history; readers that need more read PostgreSQL).
func (s *Server) queryChat(ctx context.Context, id string) (workflows.ChatView, error) {
	var v workflows.ChatView
	res, err := s.temporal.QueryWorkflow(ctx, workflows.ChatWorkflowID(id), "", workflows.QueryState)
	if err != nil {
		return v, err
	}
	return v, res.Get(&v)
}

// runChatUpdate sends one update to a chat's workflow and waits for its result (out). The
// workflow's refusal is the answer (409/422 through the error handler); updateID, when given,
// makes a retried request join the update already sent (a message's clientMessageId).
func (s *Server) runChatUpdate(c *fiber.Ctx, chatID, name, updateID string, arg workflows.UpdateArg, out any) error {
	ctx, cancel := s.updateContext(c, arg)
	defer cancel()
	if updateID == "" {
		updateID = s.updateID(c)
	}
	if updateID == "" {
		updateID = uuid.NewString()
	}
	h, err := s.sendUpdate(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.ChatWorkflowID(chatID),
		UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageAccepted, UpdateID: updateID})
	if err != nil {
		return chatUpdateError(chatID, err)
	}
	err = h.Get(ctx, out)
	var appErr *temporal.ApplicationError
	var canceled *temporal.CanceledError
	if err != nil && !errors.As(err, &appErr) && !errors.As(err, &canceled) && ctx.Err() != nil {
		// Accepted (its checks passed) but still being stored when the API stopped waiting.
		s.log.Warn("chat update accepted but not completed in time; answered 202", "chat", chatID, "update", updateID, "err", err)
		return &chatAccepted{ChatID: chatID, UpdateID: updateID, Status: "accepted",
			Message: "the change is accepted and will be stored; read the chat to see it"}
	}
	return chatUpdateError(chatID, err)
}

// chatAccepted is the 202 answer of a chat change that passed the ChatSession's checks but was
// still being stored (PostgreSQL slow or locked) when the API stopped waiting. It travels as an
// error so that every chat route answers it the same way (errorHandler). Sending it again with
// the same clientMessageId (or Idempotency-Key) joins the same change.
type chatAccepted struct {
	ChatID   string `json:"chatId"`
	UpdateID string `json:"updateId"`
	Status   string `json:"status"`
	Message  string `json:"message"`
}

func (a *chatAccepted) Error() string { return "chat " + a.ChatID + ": " + a.Message }

// chatUpdateError: a chat whose run has ended (closed) refuses every change with 409; other
// errors go to the error handler (a workflow's refusal is 409/422 there).
func chatUpdateError(chatID string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return errConflict("chat %s is closed", chatID)
	}
	return err
}

// loadChatRow reads a chat as its workflow last stored it; 404 when there is none.
func (s *Server) loadChatRow(ctx context.Context, id string) (*schema.ChatRow, error) {
	if _, err := uuid.Parse(id); err != nil {
		return nil, errNotFound("chat %q not found", id)
	}
	return findOne[schema.ChatRow](ctx, s.db, "id", id, "chat %s not found", id)
}

// chatMessagesAfter reads a chat's messages numbered after seq, at most limit of them, in order.
func (s *Server) chatMessagesAfter(ctx context.Context, id string, after int64, limit int) ([]workflows.ChatMessage, error) {
	var rows []schema.ChatMessageRow
	err := s.db.NewSelect().Model(&rows).Where("chat_id = ? AND seq > ?", id, after).Order("seq").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]workflows.ChatMessage, len(rows))
	for i, m := range rows {
		out[i] = workflows.ChatMessage{Seq: m.Seq, AuthorID: m.AuthorID, Role: m.Role, Body: m.Body, HTML: m.HTML,
			Attachments: m.Attachments, CreatedAt: m.CreatedAt}
		if m.ClientMessageID != nil {
			out[i].ClientMessageID = *m.ClientMessageID
		}
	}
	return out, nil
}

// chatOfRow is a stored chat in the API's shape.
func chatOfRow(r *schema.ChatRow) workflows.Chat {
	return workflows.Chat{ID: r.ID, Kind: r.Kind, State: r.State, GroupID: r.GroupID, WidgetID: r.WidgetID,
		AgentID: r.AgentID, AgentIDs: r.AgentIDs, CustomerID: r.CustomerID, TicketID: r.TicketID,
		CloseReason: r.CloseReason, CreatedAt: r.CreatedAt, ClosedAt: r.ClosedAt, ArrivedAt: r.ArrivedAt,
		AcceptedAt: r.AcceptedAt, MessageCount: r.MessageCount, Version: r.Version,
		Channel: r.Channel, ChannelContact: r.ChannelContact}
}

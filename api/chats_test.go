package api

import (
	"testing"
	"time"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// The chat answers match their OpenAPI schemas, with every property listed: a stored chat
// (lists, GET /chats/{id}), a live one (an update's answer), the transcript pages, and a ticket
// made from a chat.
func TestChatSchemas(t *testing.T) {
	doc, err := LoadOpenAPI()
	if err != nil {
		t.Fatalf("openapi.yaml: %v", err)
	}
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	agent, customer, reason, ticket := "agent-1", "cust-1", "agent", int64(7)
	row := schema.ChatRow{ID: "c-1", Kind: "customer", State: "closed", GroupID: "g-1", AgentID: &agent, AgentIDs: []string{agent},
		CustomerID: &customer, TicketID: &ticket, CloseReason: &reason, ArrivedAt: now, AcceptedAt: &now, CreatedAt: now,
		ClosedAt: &now, MessageCount: 2, Version: 5}
	stored := chatJSON(chatOfRow(&row))
	live := workflows.Chat{ID: "c-2", Kind: "internal", State: "offered", OfferedTo: &agent, OfferedAt: &now, CreatedAt: now,
		ArrivedAt: now, PassedOver: []string{"agent-2"}, AgentIDs: []string{}, Version: 1}
	msgs := []workflows.ChatMessage{
		{Seq: 1, AuthorID: customer, Role: "customer", Body: "Hi", ClientMessageID: "m-1", CreatedAt: now},
		{Seq: 2, AuthorID: agent, Role: "agent", Body: "Hello", HTML: "<p>Hello</p>", CreatedAt: now,
			Attachments: []schema.AttachmentRef{}},
	}
	s := &Server{cfg: DefaultConfig()}
	detail := chatDetail{Chat: stored, InvitedAgentIDs: []string{"agent-3"}, Messages: msgs, Events: []workflows.ChatEvent{{Type: "accepted", AgentID: agent, By: agent, At: now},
		{Type: "closed", By: agent, Reason: "agent", At: now}}, Workflow: s.workflowLink(workflows.ChatWorkflowID("c-1"), "")}
	group, wait, talk := "g-1", int64(12), int64(300)
	tk := schema.Ticket{ID: 7, Protocol: "20261202-000007", Type: "public", Subject: "Chat", Status: "New", BaseStatus: "New",
		Origin: 5, ClientIDs: []string{customer}, Tags: []string{"chat"}, CustomFields: map[string]any{}, CreatedBy: customer,
		CreatedAt: now, UpdatedAt: now, Seq: 1, ChatID: &row.ID, ChatGroup: &group, ChatWaitingTime: &wait, ChatTalkTime: &talk}
	checkSchemas(t, doc, []schemaCase{
		{"Chat", stored},
		{"Chat", chatJSON(live)},
		{"ChatDetail", detail},
		{"ChatPage", makePage([]workflows.Chat{stored, chatJSON(live)}, 1, func(c workflows.Chat) cursor { return cursor{ID: c.ID} })},
		{"ChatMessage", msgs[0]},
		{"ChatMessagePage", chatMessagesPage{Data: msgs, HasMore: true}},
		{"Ticket", s.summary(tk, now)},
	})
}

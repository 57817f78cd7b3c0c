package activities

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/workflows"
)

// Which agents hear what of a chat write on their streams.
func TestChatAgentEvents(t *testing.T) {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	a, b := "agent-a", "agent-b"
	c := workflows.Chat{ID: "c-1", State: workflows.ChatActive, AgentID: &a, AgentIDs: []string{a, b}, MessageCount: 3, Version: 4}
	w := workflows.ChatWrite{Chat: c,
		Messages: []workflows.ChatMessage{{Seq: 3, AuthorID: a, Role: workflows.ChatRoleAgent, Body: "hi", CreatedAt: now}},
		Events: []workflows.ChatEvent{{Type: workflows.ChatEventOffered, AgentID: "agent-c", At: now},
			{Type: workflows.ChatEventInvited, AgentID: b, At: now}, {Type: workflows.ChatEventAccepted, AgentID: a, At: now},
			{Type: workflows.ChatEventLeft, AgentID: "agent-d", At: now}}}
	var got []string
	for _, e := range chatAgentEvents(w) {
		var d ChatAgentEvent
		require.NoError(t, json.Unmarshal(e.Data, &d))
		require.Equal(t, "c-1", d.ChatID)
		require.EqualValues(t, 4, d.Version)
		got = append(got, e.AgentID+" "+e.Type)
	}
	require.Equal(t, []string{"agent-c chat.offered", "agent-a chat.accepted", "agent-b chat.accepted", "agent-a chat.accepted",
		"agent-b chat.accepted", "agent-b chat.message"}, got, "the author hears nothing of their own message; a leave tells nobody")

	c.State = workflows.ChatClosed
	closed := chatAgentEvents(workflows.ChatWrite{Chat: c, Events: []workflows.ChatEvent{{Type: workflows.ChatEventClosed, At: now}}})
	require.Len(t, closed, 2)
	require.Equal(t, ChatEventClosed, closed[0].Type)
}

func TestChatTimesAndSubject(t *testing.T) {
	t0 := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	accepted, closed := t0.Add(42*time.Second), t0.Add(10*time.Minute)
	in := workflows.ChatClosedInput{Chat: workflows.Chat{CreatedAt: t0, ClosedAt: &closed},
		Events: []workflows.ChatEvent{{Type: workflows.ChatEventQueued, At: t0}, {Type: workflows.ChatEventAccepted, At: accepted},
			{Type: workflows.ChatEventAccepted, At: t0.Add(5 * time.Minute)}}}
	wait, talk := chatTimes(in)
	require.EqualValues(t, 42, *wait, "queued until the first accept")
	require.EqualValues(t, 558, *talk, "active from the first accept to the close")

	in.Events = in.Events[:1] // never accepted: waited until the close
	wait, talk = chatTimes(in)
	require.EqualValues(t, 600, *wait)
	require.EqualValues(t, 0, *talk)

	require.Equal(t, "Chat", chatSubject(nil))
	require.Equal(t, "Chat: my order", chatSubject([]workflows.ChatMessage{
		{Role: workflows.ChatRoleSystem, Body: "Welcome"}, {Role: workflows.ChatRoleCustomer, Body: " my\n order "}}))
	long := chatSubject([]workflows.ChatMessage{{Role: workflows.ChatRoleCustomer, Body: strings.Repeat("é", 200)}})
	require.Equal(t, "Chat: "+strings.Repeat("é", 77)+"...", long)
}

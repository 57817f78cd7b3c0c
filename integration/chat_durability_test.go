package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/workflows"
)

// With the chat tables locked against writes for longer than any timeout, the visitor's
// messages (widget API) are answered 201 or 202, never a 5xx; once
// the lock goes each is stored exactly once, in order, numbered without gaps, and the chat
// takes messages as before.
func TestChatWriteStall(t *testing.T) {
	s := env(t)
	site := s.chatSite(t)
	v := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key, "name": "Stalled"})
	s.agentDo(t, v.Session.ID, workflows.UpdateChatAccept, workflows.AcceptChatInput{AgentID: site.agent})

	began := time.Now()
	release := s.lockTables(t, "EXCLUSIVE", "chats", "chat_messages", "chat_events")
	var answers []int
	send := func(n int) {
		r := s.call(t, v.VisitorToken, "POST", "/public/chat/v1/sessions/"+v.Session.ID+"/messages",
			map[string]any{"body": fmt.Sprintf("during the stall %d", n), "clientMessageId": fmt.Sprintf("stall-%d", n)}, fromShop)
		answers = append(answers, r.status)
	}
	send(1)
	send(2)
	t.Logf("answers during the %s stall: %v (after %s)", stallFor, answers, time.Since(began).Round(time.Second))
	release()
	for _, a := range answers {
		require.Contains(t, []int{201, 202}, a, "a message the chat took is never answered 5xx: %v", answers)
	}
	var page struct {
		Data []chatMsg `json:"data"`
	}
	eventually(t, 2*time.Minute, func() bool {
		s.call(t, v.VisitorToken, "GET", "/public/chat/v1/sessions/"+v.Session.ID+"/messages", nil, fromShop).expect(200).decode(&page)
		return len(page.Data) >= 2
	}, "every accepted message lands")
	var bodies []string
	for i, m := range page.Data {
		require.EqualValues(t, i+1, m.Seq, "numbered without gaps")
		bodies = append(bodies, m.Body)
	}
	require.Equal(t, []string{"during the stall 1", "during the stall 2"}, bodies, "each once, in order")
	// A retry of the same client id after the stall is the same message.
	s.call(t, v.VisitorToken, "POST", "/public/chat/v1/sessions/"+v.Session.ID+"/messages",
		map[string]any{"body": "during the stall 2", "clientMessageId": "stall-2"}, fromShop).expect(201)
	s.call(t, v.VisitorToken, "POST", "/public/chat/v1/sessions/"+v.Session.ID+"/messages",
		map[string]any{"body": "after", "clientMessageId": "after"}, fromShop).expect(201)
	s.call(t, v.VisitorToken, "GET", "/public/chat/v1/sessions/"+v.Session.ID+"/messages", nil, fromShop).expect(200).decode(&page)
	require.Len(t, page.Data, 3)
}

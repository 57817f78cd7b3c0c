package integration

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/workflows"
)

// The offline flow through the widget's API (../shared/seeds/chat-desk-tickets.txt), on the
// real stack: a chat nobody can take asks YES/NO, the customer's messages become one ticket,
// a later offline chat of theirs merges into it, and a live chat with an agent closes it.

func (s *stack) visitorSays(t *testing.T, v visitorStarted, body string) {
	t.Helper()
	s.call(t, v.VisitorToken, "POST", "/public/chat/v1/sessions/"+v.Session.ID+"/messages",
		map[string]any{"body": body, "clientMessageId": randomName("m-")}, fromShop).expect(201)
}

func (s *stack) visitorSession(t *testing.T, v visitorStarted) visitorChat {
	t.Helper()
	var c visitorChat
	s.call(t, v.VisitorToken, "GET", "/public/chat/v1/sessions/"+v.Session.ID, nil, fromShop).expect(200).decode(&c)
	return c
}

func (s *stack) visitorMessages(t *testing.T, v visitorStarted) []chatMsg {
	t.Helper()
	var page struct {
		Data []chatMsg `json:"data"`
	}
	s.call(t, v.VisitorToken, "GET", "/public/chat/v1/sessions/"+v.Session.ID+"/messages?limit=100", nil, fromShop).
		expect(200).decode(&page)
	return page.Data
}

// waitClosed waits for the session to close and answers it.
func (s *stack) waitClosed(t *testing.T, v visitorStarted) visitorChat {
	t.Helper()
	var c visitorChat
	eventually(t, 20*time.Second, func() bool { c = s.visitorSession(t, v); return c.State == workflows.ChatClosed }, "session closed")
	return c
}

type chatTicketRow struct {
	ChatID         string     `bun:"chat_id"`
	CustomerID     *string    `bun:"customer_id"`
	IntakeClosedAt *time.Time `bun:"intake_closed_at"`
	ClosedAt       *time.Time `bun:"closed_at"`
	CloseReason    *string    `bun:"close_reason"`
	ClosedChatID   *string    `bun:"closed_chat_id"`
}

func (s *stack) chatTicketRow(t *testing.T, ticketID int64) chatTicketRow {
	t.Helper()
	var r chatTicketRow
	require.NoError(t, s.db.NewRaw(`SELECT chat_id, customer_id, intake_closed_at, closed_at, close_reason, closed_chat_id
		FROM chat_tickets WHERE ticket_id = ?`, ticketID).Scan(t.Context(), &r))
	return r
}

func TestOfflineChatLeavesOneTicketAndALiveChatClosesIt(t *testing.T) {
	s := env(t)
	site := s.chatSite(t)
	s.call(t, s.admin, "PUT", "/api/v1/agents/"+site.agent+"/chat", map[string]any{"status": "offline"}).expect(200)
	email := randomName("olga-") + "@example.com"
	who := map[string]any{"widgetKey": site.widget.Key, "name": "Olga", "email": email}

	// Nobody online: the chat starts in the offline flow with the prompt.
	first := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key, "name": "Olga", "email": email,
		"message": "My parcel 4411 never arrived"})
	require.Equal(t, workflows.ChatOffline, first.Session.State)
	msgs := s.visitorMessages(t, first)
	require.Equal(t, workflows.DefaultOfflinePrompt, msgs[0].Body)
	require.Equal(t, "system", msgs[0].Role)
	require.Equal(t, "My parcel 4411 never arrived", msgs[1].Body)
	require.Equal(t, workflows.DefaultOfflinePrompt, msgs[2].Body, "any other text: the prompt again")

	s.visitorSays(t, first, " Yes ")
	var ticketID int64
	eventually(t, 20*time.Second, func() bool {
		c := s.visitorSession(t, first)
		if c.TicketID != nil {
			ticketID = *c.TicketID
		}
		return ticketID != 0
	}, "the YES makes the ticket")
	eventually(t, 10*time.Second, func() bool {
		ms := s.visitorMessages(t, first)
		return ms[len(ms)-1].Body == workflows.DefaultOfflineAutoresponder
	}, "the autoresponder follows the ticket")
	s.visitorSays(t, first, "It was due on Monday")
	s.visitorSays(t, first, "no") // NO after YES: an ordinary message
	s.visitorSays(t, first, "//end")
	closed := s.waitClosed(t, first)
	require.Equal(t, workflows.CloseOfflineFlow, *closed.CloseReason)

	tk := s.ticket(t, s.admin, ticketID)
	require.Equal(t, 5, tk.Origin)
	require.Equal(t, "New", tk.BaseStatus, "it waits in the unassigned queue")
	require.Nil(t, tk.OwnerID)
	require.ElementsMatch(t, []string{"chat", "offline"}, tk.Tags)
	require.Equal(t, []string{*first.Session.CustomerID}, tk.ClientIDs)
	var bodies []string
	eventually(t, 20*time.Second, func() bool {
		tk = s.ticket(t, s.admin, ticketID)
		bodies = bodies[:0]
		for _, a := range tk.Actions {
			bodies = append(bodies, a.Body)
		}
		return len(bodies) >= 3
	}, "every message on the ticket")
	require.Equal(t, []string{"My parcel 4411 never arrived", "It was due on Monday", "no"}, bodies)
	row := s.chatTicketRow(t, ticketID)
	require.Equal(t, first.Session.ID, row.ChatID)
	require.NotNil(t, row.IntakeClosedAt, "//end ended the window")
	require.Nil(t, row.ClosedAt)

	// Again nobody to talk to: the new messages join the open ticket, never a second one.
	second := s.startVisitor(t, who)
	require.Equal(t, *first.Session.CustomerID, *second.Session.CustomerID, "the same customer by e-mail")
	s.visitorSays(t, second, "YES")
	s.visitorSays(t, second, "Any news on 4411?")
	s.visitorSays(t, second, "//end")
	s.waitClosed(t, second)
	require.Equal(t, ticketID, *s.visitorSession(t, second).TicketID, "merged")
	eventually(t, 20*time.Second, func() bool {
		tk = s.ticket(t, s.admin, ticketID)
		return len(tk.Actions) == 4 && tk.Actions[3].Body == "Any news on 4411?"
	}, "the second chat's message on the same ticket")
	var tickets int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM chat_tickets WHERE customer_id = ?", *first.Session.CustomerID).
		Scan(t.Context(), &tickets))
	require.Equal(t, 1, tickets)

	// An agent is back and takes a live chat of hers: the open ticket closes, reason recorded.
	s.call(t, s.admin, "PUT", "/api/v1/agents/"+site.agent+"/chat", map[string]any{"status": "online"}).expect(200)
	live := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key, "name": "Olga", "email": email, "message": "hello?"})
	require.Equal(t, workflows.ChatQueued, live.Session.State)
	s.agentDo(t, live.Session.ID, workflows.UpdateChatAccept, workflows.AcceptChatInput{AgentID: site.agent})
	eventually(t, 20*time.Second, func() bool { return s.ticket(t, s.admin, ticketID).BaseStatus == "Closed" }, "the chat ticket closed")
	tk = s.ticket(t, s.admin, ticketID)
	last := tk.StatusHistory[len(tk.StatusHistory)-1]
	require.Contains(t, last.Justification, live.Session.ID, "the chat is recorded")
	eventually(t, 10*time.Second, func() bool { return s.chatTicketRow(t, ticketID).ClosedAt != nil }, "the queue row closed")
	row = s.chatTicketRow(t, ticketID)
	require.Equal(t, "live_chat", *row.CloseReason)
	require.Equal(t, live.Session.ID, *row.ClosedChatID)
}

func TestOfflineChatOutOfHoursAndNo(t *testing.T) {
	s := env(t)
	site := s.chatSite(t) // the agent is online, but the group is closed
	var cal struct {
		ID string `json:"id"`
	}
	s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": "Never open " + randomName(""), "timezone": "UTC"}).
		expect(201).decode(&cal)
	prompt := "Nobody is here. Leave a message? YES or NO"
	s.call(t, s.admin, "PATCH", "/api/v1/chat-groups/"+site.group.ID, map[string]any{"calendarId": cal.ID,
		"offline": map[string]any{"prompt": prompt}}).expect(200)

	v := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key, "name": "Nils"})
	require.Equal(t, workflows.ChatOffline, v.Session.State)
	var full struct {
		Events []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"events"`
	}
	s.call(t, s.admin, "GET", "/api/v1/chats/"+v.Session.ID, nil).expect(200).decode(&full)
	require.NotEmpty(t, full.Events)
	require.Equal(t, workflows.ChatEventOffline, full.Events[0].Type)
	require.Equal(t, workflows.OfflineOutOfHours, full.Events[0].Reason)
	require.Equal(t, prompt, s.visitorMessages(t, v)[0].Body, "the group's own prompt")

	s.visitorSays(t, v, "no")
	c := s.waitClosed(t, v)
	require.Equal(t, workflows.CloseDeclined, *c.CloseReason)
	require.Nil(t, c.TicketID, "NO leaves nothing")
	var n int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM chat_ticket_chats WHERE chat_id = ?", v.Session.ID).Scan(t.Context(), &n))
	require.Zero(t, n)
	s.call(t, v.VisitorToken, "POST", "/public/chat/v1/sessions/"+v.Session.ID+"/messages",
		map[string]any{"body": "wait", "clientMessageId": "late"}, fromShop).expectError(409, "conflict")
}

func TestChatGroupOfflineSettings(t *testing.T) {
	s := env(t)
	g := s.chatGroup(t, map[string]any{"name": "offline-" + randomName("")})
	var got struct {
		Offline struct {
			Prompt        string `json:"prompt"`
			Autoresponder string `json:"autoresponder"`
			IntakeClose   string `json:"intakeClose"`
		} `json:"offline"`
	}
	path := "/api/v1/chat-groups/" + g.ID
	s.call(t, s.admin, "GET", path, nil).expect(200).decode(&got)
	require.Equal(t, workflows.DefaultOfflinePrompt, got.Offline.Prompt, "the defaults in effect")
	require.Equal(t, workflows.DefaultOfflineAutoresponder, got.Offline.Autoresponder)
	require.Equal(t, "10m", got.Offline.IntakeClose)

	s.call(t, s.admin, "PATCH", path, map[string]any{"offline": map[string]any{"intakeClose": "30s"}}).
		expectError(422, "validation_failed", "offline.intakeClose")
	s.call(t, s.admin, "PATCH", path, map[string]any{"offline": map[string]any{"intakeClose": "soon"}}).
		expectError(422, "validation_failed", "offline.intakeClose")
	s.call(t, s.admin, "PATCH", path, map[string]any{"offline": map[string]any{"prompt": strings.Repeat("y", 2001)}}).
		expectError(422, "validation_failed", "offline.prompt")
	s.call(t, s.admin, "PATCH", path, map[string]any{"offline": map[string]any{"colour": "red"}}).expectError(422, "validation_failed", "colour")
	for _, hostile := range []string{"nul \x00", "bell \x07"} {
		s.call(t, s.admin, "PATCH", path, map[string]any{"offline": map[string]any{"prompt": hostile}}).
			expectError(422, "validation_failed", "offline.prompt")
	}

	s.call(t, s.admin, "PATCH", path, map[string]any{"offline": map[string]any{"autoresponder": "Thanks, we will write back.",
		"intakeClose": "15m"}}).expect(200).decode(&got)
	require.Equal(t, "Thanks, we will write back.", got.Offline.Autoresponder)
	require.Equal(t, "15m", got.Offline.IntakeClose)
	require.Equal(t, workflows.DefaultOfflinePrompt, got.Offline.Prompt, "untouched")
	s.call(t, s.admin, "PATCH", path, map[string]any{"offline": map[string]any{"autoresponder": nil}}).expect(200).decode(&got)
	require.Equal(t, workflows.DefaultOfflineAutoresponder, got.Offline.Autoresponder, "null restores the default")
}

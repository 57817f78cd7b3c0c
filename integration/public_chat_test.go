package integration

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/workflows"
)

// chatSite is a manual-distribution chat group with one member, online, and a widget embedding
// it on https://shop.example.
type chatSite struct {
	agent  string
	group  chatGroupJSON
	widget chatWidgetJSON
}

const shopOrigin = "https://shop.example"

func (s *stack) chatSite(t *testing.T) chatSite {
	t.Helper()
	tag := randomName("")
	agent := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "Agent " + tag, "profile": "agent"}).
		expect(201).obj()["id"].(string)
	s.call(t, s.admin, "PUT", "/api/v1/agents/"+agent+"/chat", map[string]any{"status": "online"}).expect(200)
	g := s.chatGroup(t, map[string]any{"name": "site-" + tag, "members": []map[string]any{{"agentId": agent}},
		"distribution": map[string]any{"automatic": false}})
	var w chatWidgetJSON
	s.call(t, s.admin, "POST", "/api/v1/chat-widgets", map[string]any{"name": "site " + tag, "groupIds": []string{g.ID},
		"allowedOrigins": []string{shopOrigin}, "welcome": "Hi there"}).expect(201).decode(&w)
	return chatSite{agent: agent, group: g, widget: w}
}

type visitorChat struct {
	ID            string  `json:"id"`
	State         string  `json:"state"`
	GroupID       string  `json:"groupId"`
	CustomerID    *string `json:"customerId"`
	AgentID       *string `json:"agentId"`
	CloseReason   *string `json:"closeReason"`
	TicketID      *int64  `json:"ticketId"`
	QueuePosition int     `json:"queuePosition"`
	MessageCount  int64   `json:"messageCount"`
}

type visitorStarted struct {
	Session      visitorChat `json:"session"`
	VisitorToken string      `json:"visitorToken"`
	Welcome      string      `json:"welcome"`
}

type chatMsg struct {
	Seq             int64  `json:"seq"`
	AuthorID        string `json:"authorId"`
	Role            string `json:"role"`
	Body            string `json:"body"`
	ClientMessageID string `json:"clientMessageId"`
	Attachments     []struct {
		ID       string `json:"id"`
		Filename string `json:"filename"`
	} `json:"attachments"`
}

var fromShop = header{"Origin", shopOrigin}

func (s *stack) startVisitor(t *testing.T, body map[string]any) visitorStarted {
	t.Helper()
	var out visitorStarted
	s.call(t, "", "POST", "/public/chat/v1/sessions", body, fromShop).expect(201).decode(&out)
	require.NotEmpty(t, out.VisitorToken)
	return out
}

// agentDo sends a ChatSession update straight to the workflow (the agents' routes are built
// elsewhere) and waits for its result.
func (s *stack) agentDo(t *testing.T, chatID, name string, arg any) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h, err := s.tc.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: workflows.ChatWorkflowID(chatID),
		UpdateName: name, Args: []any{arg}, WaitForStage: client.WorkflowUpdateStageCompleted})
	require.NoError(t, err)
	require.NoError(t, h.Get(ctx, nil))
}

func (s *stack) agentSays(t *testing.T, chatID, agent, body string) {
	t.Helper()
	s.agentDo(t, chatID, workflows.UpdateChatSendMessage, workflows.SendChatMessageInput{AuthorID: agent,
		Role: workflows.ChatRoleAgent, Body: body, HTML: "<p>" + body + "</p>", ClientMessageID: randomName("a-")})
}

// chatEvent is one event of a visitor's stream.
type chatEvent struct {
	ID    string
	Event string
	Data  json.RawMessage
}

type chatStream struct {
	events chan chatEvent
	cancel func()
}

// visitorStream opens the session's stream with the token as ?token= (as EventSource does);
// resume is sent as Last-Event-ID when not empty.
func (s *stack) visitorStream(t *testing.T, id, token, resume string) *chatStream {
	t.Helper()
	return s.visitorStreamAt(t, id, token, resume, "")
}

// visitorStreamAt is visitorStream with ?after= (when not empty) too.
func (s *stack) visitorStreamAt(t *testing.T, id, token, resume, after string) *chatStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	u := fmt.Sprintf("%s/public/chat/v1/sessions/%s/stream?token=%s", s.base, id, url.QueryEscape(token))
	if after != "" {
		u += "&after=" + after
	}
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	require.NoError(t, err)
	if resume != "" {
		req.Header.Set("Last-Event-ID", resume)
	}
	req.Header.Set("Origin", shopOrigin)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	require.Equal(t, shopOrigin, res.Header.Get("Access-Control-Allow-Origin"))
	out := &chatStream{events: make(chan chatEvent, 64), cancel: func() { cancel(); res.Body.Close() }}
	go scanSSE(res.Body, out.events)
	t.Cleanup(out.cancel)
	return out
}

// scanSSE sends the events of a Server-Sent Events body, with their ids and data, until it ends.
func scanSSE(body io.Reader, out chan<- chatEvent) {
	defer close(out)
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var ev chatEvent
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			ev.ID = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			ev.Event = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			ev.Data = json.RawMessage(strings.TrimPrefix(line, "data: "))
		case line == "" && ev.Event != "":
			out <- ev
			ev = chatEvent{}
		}
	}
}

// messages takes events until n messages came (chat events are collected on the side) and
// answers the messages; it fails when fewer come within the wait.
func (c *chatStream) messages(t *testing.T, n int, chats *[]visitorChat) []chatMsg {
	t.Helper()
	var out []chatMsg
	deadline := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case ev, ok := <-c.events:
			require.True(t, ok, "the stream ended")
			switch ev.Event {
			case "message":
				var m chatMsg
				require.NoError(t, json.Unmarshal(ev.Data, &m))
				require.Equal(t, strconv.FormatInt(m.Seq, 10), ev.ID, "a message's event id is its seq")
				out = append(out, m)
			case "chat":
				require.Empty(t, ev.ID, "chat state events carry no id")
				var ch visitorChat
				require.NoError(t, json.Unmarshal(ev.Data, &ch))
				if chats != nil {
					*chats = append(*chats, ch)
				}
			}
		case <-deadline:
			t.Fatalf("only %d of %d messages on the stream", len(out), n)
		}
	}
	return out
}

// waitState takes events until a chat event in state comes.
func (c *chatStream) waitState(t *testing.T, state string) visitorChat {
	t.Helper()
	var ch visitorChat
	c.await(t, "chat", func(data json.RawMessage) bool {
		require.NoError(t, json.Unmarshal(data, &ch))
		return ch.State == state
	}, "the chat becoming "+state)
	return ch
}

// await takes events until one of type event whose data match accepts comes, failing after
// 20 s (what says what never came) or when the stream ends.
func (c *chatStream) await(t *testing.T, event string, match func(json.RawMessage) bool, what string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-c.events:
			require.True(t, ok, "the stream ended")
			if ev.Event == event && match(ev.Data) {
				return
			}
		case <-deadline:
			t.Fatalf("no %s event on the stream: %s", event, what)
		}
	}
}

// quiet asserts that no message event comes for a while.
func (c *chatStream) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-c.events:
			require.NotEqual(t, "message", ev.Event, "a message came twice: %s", ev.Data)
		case <-deadline:
			return
		}
	}
}

func bearer(tok string) header { return header{"Authorization", "Bearer " + tok} }

func TestPublicChatVisitorWholeChat(t *testing.T) {
	s := env(t)
	site := s.chatSite(t)

	v := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key, "name": "Vera", "message": "Hello, my order is late"})
	require.Equal(t, "queued", v.Session.State)
	require.Equal(t, site.group.ID, v.Session.GroupID)
	require.NotNil(t, v.Session.CustomerID, "a visitor without e-mail is a customer of their own")
	require.Equal(t, "Hi there", v.Welcome)
	id, tok := v.Session.ID, v.VisitorToken
	base := "/public/chat/v1/sessions/" + id

	st := s.visitorStream(t, id, tok, "")
	first := st.messages(t, 1, nil)
	require.Equal(t, "Hello, my order is late", first[0].Body)
	require.Equal(t, "customer", first[0].Role)
	require.Equal(t, *v.Session.CustomerID, first[0].AuthorID)
	st.waitState(t, "queued") // the chat as it is follows the transcript

	// A visitor message; the same clientMessageId again answers the first and adds nothing.
	var m chatMsg
	s.call(t, tok, "POST", base+"/messages", map[string]any{"body": "Order 42", "clientMessageId": "c-1"}, fromShop).expect(201).decode(&m)
	require.EqualValues(t, 2, m.Seq)
	var again chatMsg
	s.call(t, tok, "POST", base+"/messages", map[string]any{"body": "Order 42", "clientMessageId": "c-1"}, fromShop).expect(201).decode(&again)
	require.EqualValues(t, 2, again.Seq)

	// The agent accepts and answers through the workflow.
	s.agentDo(t, id, workflows.UpdateChatAccept, workflows.AcceptChatInput{AgentID: site.agent})
	s.agentSays(t, id, site.agent, "Let me check")
	got := st.messages(t, 2, nil)
	require.Equal(t, []int64{2, 3}, []int64{got[0].Seq, got[1].Seq})
	require.Equal(t, "agent", got[1].Role)
	require.Equal(t, "Let me check", got[1].Body)
	st.cancel()

	// Away: two more messages; back with Last-Event-ID 3 gets exactly 4 and 5, nothing twice.
	s.agentSays(t, id, site.agent, "Found it")
	s.call(t, tok, "POST", base+"/messages", map[string]any{"body": "Thanks!", "clientMessageId": "c-2"}, fromShop).expect(201)
	resumed := s.visitorStream(t, id, tok, "3")
	rest := resumed.messages(t, 2, nil)
	require.Equal(t, []int64{4, 5}, []int64{rest[0].Seq, rest[1].Seq})
	require.Equal(t, workflows.ChatActive, resumed.waitState(t, "active").State)
	resumed.quiet(t, time.Second)
	// ?after= does the same.
	resumed.cancel()
	viaAfter := s.visitorStreamAt(t, id, tok, "", "4")
	one := viaAfter.messages(t, 1, nil)
	require.EqualValues(t, 5, one[0].Seq)
	viaAfter.quiet(t, 500*time.Millisecond)

	// The transcript, paged.
	var page struct {
		Data       []chatMsg `json:"data"`
		NextCursor *string   `json:"next_cursor"`
	}
	s.call(t, tok, "GET", base+"/messages?limit=3", nil, fromShop).expect(200).decode(&page)
	require.Len(t, page.Data, 3)
	require.NotNil(t, page.NextCursor)
	s.call(t, tok, "GET", base+"/messages?after="+*page.NextCursor, nil, fromShop).expect(200).decode(&page)
	require.Len(t, page.Data, 2)
	require.Nil(t, page.NextCursor)

	// A file, sent with a message.
	upload := s.visitorUpload(t, id, tok, "notes.txt", []byte("order 42, shipped late\n"))
	upload.expect(201)
	var files struct {
		Attachments []struct {
			ID string `json:"id"`
		} `json:"attachments"`
	}
	upload.decode(&files)
	require.Len(t, files.Attachments, 1)
	fileID := files.Attachments[0].ID
	s.call(t, tok, "POST", base+"/messages", map[string]any{"clientMessageId": "c-3", "attachmentIds": []string{fileID}}, fromShop).
		expect(201).decode(&m)
	require.Len(t, m.Attachments, 1)
	require.Equal(t, "notes.txt", m.Attachments[0].Filename)
	// Carried once: a second message cannot take it again.
	s.call(t, tok, "POST", base+"/messages", map[string]any{"clientMessageId": "c-4", "attachmentIds": []string{fileID}}, fromShop).
		expectError(422, "validation_failed", "attachmentIds[0]")
	dl := s.call(t, tok, "GET", base+"/attachments/"+fileID, nil, fromShop).expect(200)
	require.Equal(t, "order 42, shipped late\n", string(dl.body))

	// The visitor closes; the chat says so and takes no more messages.
	var closed visitorChat
	s.call(t, tok, "POST", base+"/close", nil, fromShop).expect(200).decode(&closed)
	require.Equal(t, "closed", closed.State)
	require.Equal(t, "customer", *closed.CloseReason)
	viaAfter.waitState(t, "closed")
	s.call(t, tok, "POST", base+"/messages", map[string]any{"body": "one more", "clientMessageId": "c-5"}, fromShop).
		expectError(409, "conflict")
	s.call(t, tok, "POST", base+"/close", nil, fromShop).expectError(409, "conflict")
	var after visitorChat
	s.call(t, tok, "GET", base, nil, fromShop).expect(200).decode(&after)
	require.Equal(t, "closed", after.State)

	// The token still reads the closed chat for a day, then no more.
	_, err := s.db.ExecContext(context.Background(), "UPDATE chats SET closed_at = now() - interval '25 hours' WHERE id = ?", id)
	require.NoError(t, err)
	s.call(t, tok, "GET", base+"/messages", nil, fromShop).expectError(401, "unauthorized")
}

// visitorUpload posts one file part to the session's attachments.
func (s *stack) visitorUpload(t *testing.T, id, tok, name string, content []byte) *resp {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", name)
	require.NoError(t, err)
	_, _ = fw.Write(content)
	require.NoError(t, mw.Close())
	req, err := http.NewRequest("POST", s.base+"/public/chat/v1/sessions/"+id+"/attachments", &buf)
	require.NoError(t, err)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Origin", shopOrigin)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	r := &resp{t: t, status: res.StatusCode, header: res.Header, body: data}
	s.checkOpenAPI(t, req, r)
	return r
}

func TestPublicChatTokenIsForItsSessionOnly(t *testing.T) {
	s := env(t)
	site := s.chatSite(t)
	a := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key})
	b := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key})
	other := "/public/chat/v1/sessions/" + b.Session.ID
	s.call(t, a.VisitorToken, "GET", other, nil, fromShop).expectError(403, "forbidden")
	s.call(t, a.VisitorToken, "GET", other+"/messages", nil, fromShop).expectError(403, "forbidden")
	s.call(t, a.VisitorToken, "POST", other+"/messages", map[string]any{"body": "hi", "clientMessageId": "x"}, fromShop).
		expectError(403, "forbidden")
	s.call(t, a.VisitorToken, "POST", other+"/close", nil, fromShop).expectError(403, "forbidden")
	s.call(t, "", "GET", other, nil, fromShop).expectError(401, "unauthorized")
	s.call(t, "sbv_nope", "GET", other, nil, fromShop).expectError(401, "unauthorized")
	// A staff token is no visitor token either.
	s.call(t, s.admin, "GET", other, nil).expectError(401, "unauthorized")
	// The token only in the query is for the stream alone.
	s.call(t, "", "GET", other+"?token="+url.QueryEscape(b.VisitorToken), nil, fromShop).expectError(401, "unauthorized")
	s.call(t, b.VisitorToken, "GET", other, nil, fromShop).expect(200)
}

func TestPublicChatOrigins(t *testing.T) {
	s := env(t)
	site := s.chatSite(t)
	evil := header{"Origin", "https://evil.example"}
	s.call(t, "", "POST", "/public/chat/v1/sessions", map[string]any{"widgetKey": site.widget.Key}, evil).expectError(403, "forbidden")
	v := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key})
	base := "/public/chat/v1/sessions/" + v.Session.ID
	s.call(t, v.VisitorToken, "GET", base, nil, evil).expectError(403, "forbidden")
	r := s.call(t, v.VisitorToken, "GET", base, nil, fromShop).expect(200)
	require.Equal(t, shopOrigin, r.header.Get("Access-Control-Allow-Origin"))

	// Preflights: answered for an allowed origin, refused for another.
	pre := func(origin string) *http.Response {
		req, err := http.NewRequest("OPTIONS", s.base+base+"/messages", nil)
		require.NoError(t, err)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		res.Body.Close()
		return res
	}
	ok := pre(shopOrigin)
	require.Equal(t, 204, ok.StatusCode)
	require.Equal(t, shopOrigin, ok.Header.Get("Access-Control-Allow-Origin"))
	require.Contains(t, ok.Header.Get("Access-Control-Allow-Methods"), "POST")
	require.Contains(t, strings.ToLower(ok.Header.Get("Access-Control-Allow-Headers")), "authorization")
	bad := pre("https://evil.example")
	require.Equal(t, 403, bad.StatusCode)
	require.Empty(t, bad.Header.Get("Access-Control-Allow-Origin"))
}

func TestPublicChatBadInputNamesTheField(t *testing.T) {
	s := env(t)
	site := s.chatSite(t)
	other := s.chatSite(t)
	start := func(body any) *resp { return s.call(t, "", "POST", "/public/chat/v1/sessions", body, fromShop) }
	start(map[string]any{}).expectError(422, "validation_failed", "widgetKey")
	start(map[string]any{"widgetKey": "no-such-key"}).expectError(422, "validation_failed", "widgetKey")
	start(map[string]any{"widgetKey": site.widget.Key, "group": other.group.ID}).expectError(422, "validation_failed", "group")
	start(map[string]any{"widgetKey": site.widget.Key, "email": "not an e-mail"}).expectError(422, "validation_failed", "email")
	start(map[string]any{"widgetKey": site.widget.Key, "name": "nul\u0000"}).expectError(422, "validation_failed", "name")
	start(map[string]any{"widgetKey": site.widget.Key, "message": "   "}).expectError(422, "validation_failed", "message")
	start(map[string]any{"widgetKey": site.widget.Key, "surprise": 1}).expectError(422, "validation_failed", "surprise")

	v := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key})
	send := func(body any) *resp {
		return s.call(t, v.VisitorToken, "POST", "/public/chat/v1/sessions/"+v.Session.ID+"/messages", body, fromShop)
	}
	send(map[string]any{"body": "hi"}).expectError(422, "validation_failed", "clientMessageId")
	send(map[string]any{"body": "bad \u0000 byte", "clientMessageId": "m1"}).expectError(422, "validation_failed", "body")
	send(map[string]any{"body": "bell \u0007", "clientMessageId": "m1"}).expectError(422, "validation_failed", "body")
	send(map[string]any{"body": strings.Repeat("x", workflows.MaxChatMessageChars+1), "clientMessageId": "m1"}).
		expectError(422, "validation_failed", "body")
	send(map[string]any{"body": "", "clientMessageId": "m1"}).expectError(422, "validation_failed", "body")
	send(map[string]any{"body": "x", "clientMessageId": "m1", "attachmentIds": []string{"0190c5d2-0000-7000-8000-000000000000"}}).
		expectError(422, "validation_failed", "attachmentIds[0]")
	send(map[string]any{"body": strings.Repeat("y", 70<<10), "clientMessageId": "m1"}).expectError(413, "payload_too_large")
	s.call(t, v.VisitorToken, "GET", "/public/chat/v1/sessions/"+v.Session.ID+"/messages?after=-1", nil, fromShop).
		expectError(422, "validation_failed", "after")
	// A file type outside the messenger's allow-list.
	s.visitorUpload(t, v.Session.ID, v.VisitorToken, "run.exe", []byte("MZ\x90\x00\x03\x00\x00\x00")).expectError(422, "validation_failed", "file")
}

func TestPublicChatEmailMatchesTheCustomer(t *testing.T) {
	s := env(t)
	site := s.chatSite(t)
	tag := randomName("")
	email := "known-" + tag + "@example.com"
	known := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "Known " + tag, "profile": "customer",
		"emails": []string{email}}).expect(201).obj()["id"].(string)

	v := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key, "email": strings.ToUpper(email)})
	require.Equal(t, known, *v.Session.CustomerID, "matched by e-mail, whatever its case")

	// A new e-mail makes one customer, found again by the next chat.
	fresh := "fresh-" + tag + "@example.com"
	a := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key, "email": fresh, "name": "Fresh"})
	b := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key, "email": fresh})
	require.Equal(t, *a.Session.CustomerID, *b.Session.CustomerID)
	var persons struct {
		Data []struct {
			ID      string   `json:"id"`
			Profile string   `json:"profile"`
			Emails  []string `json:"emails"`
		} `json:"data"`
	}
	s.call(t, s.admin, "GET", "/api/v1/persons?email="+url.QueryEscape(fresh), nil).expect(200).decode(&persons)
	require.Len(t, persons.Data, 1)
	require.Equal(t, *a.Session.CustomerID, persons.Data[0].ID)
	require.Equal(t, "customer", persons.Data[0].Profile)
}

// The visitor's place in the queue comes from the chats table's queue_position column when the
// distributor has made one (it is not part of this change): shown on the session and, within a
// wake-up, on the stream.
func TestPublicChatQueuePositionWhenStored(t *testing.T) {
	s := env(t)
	site := s.chatSite(t)
	v := s.startVisitor(t, map[string]any{"widgetKey": site.widget.Key})
	require.Equal(t, 0, v.Session.QueuePosition, "no distributor column: 0")
	ctx := context.Background()
	_, err := s.db.ExecContext(ctx, "ALTER TABLE chats ADD COLUMN IF NOT EXISTS queue_position integer")
	require.NoError(t, err)
	st := s.visitorStream(t, v.Session.ID, v.VisitorToken, "")
	st.waitState(t, "queued")
	_, err = s.db.ExecContext(ctx, "UPDATE chats SET queue_position = 3 WHERE id = ?", v.Session.ID)
	require.NoError(t, err)
	_, err = s.db.ExecContext(ctx, "SELECT pg_notify('switchboard_chat', ?)", v.Session.ID)
	require.NoError(t, err)
	deadline := time.After(10 * time.Second)
	for found := false; !found; {
		select {
		case ev := <-st.events:
			if ev.Event == "chat" {
				var ch visitorChat
				require.NoError(t, json.Unmarshal(ev.Data, &ch))
				found = ch.QueuePosition == 3
			}
		case <-deadline:
			t.Fatal("the new queue position never came on the stream")
		}
	}
	var got visitorChat
	s.call(t, v.VisitorToken, "GET", "/public/chat/v1/sessions/"+v.Session.ID, nil, fromShop).expect(200).decode(&got)
	require.Equal(t, 3, got.QueuePosition)
}

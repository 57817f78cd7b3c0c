package integration

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
	"golang.org/x/net/html"

	"github.com/switchboardhq/switchboard/internal/filetype/sample"
)

// message is the subset of a conversation entry the tests read.
type message struct {
	Seq      int64  `json:"seq"`
	Kind     string `json:"kind"`
	Type     string `json:"type"`
	ActionID *int   `json:"actionId"`
	Body     string `json:"body"`
	HTML     string `json:"html"`
	AuthorID string `json:"authorId"`
	Update   *struct {
		Field      string `json:"field"`
		Status     string `json:"status"`
		BaseStatus string `json:"baseStatus"`
		OwnerName  string `json:"ownerName"`
	} `json:"update"`
}

func (s *stack) messages(t *testing.T, token string, id int64) []message {
	t.Helper()
	var all []message
	cursor := ""
	for {
		var pg struct {
			Data       []message `json:"data"`
			NextCursor *string   `json:"next_cursor"`
		}
		s.call(t, token, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages?limit=3&cursor=%s", id, cursor), nil).expect(200).decode(&pg)
		all = append(all, pg.Data...)
		if pg.NextCursor == nil {
			return all
		}
		cursor = *pg.NextCursor
	}
}

func (s *stack) send(t *testing.T, token string, id int64, body any) *resp {
	t.Helper()
	return s.call(t, token, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", id), body)
}

func bodies(ms []message) []string {
	var out []string
	for _, m := range ms {
		if m.Update != nil {
			out = append(out, "update:"+m.Update.Field+":"+m.Update.Status+m.Update.OwnerName)
		} else {
			out = append(out, m.Type+":"+m.Body)
		}
	}
	return out
}

// A conversation between an agent and a customer: the agent speaks to the customer only once
// the ticket is theirs (internal notes are open at once); the customer's list has the updates
// and never an internal note, numbered without gaps; messages are immutable; a closed ticket
// takes no more customer messages.
func TestMessengerConversation(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour, messengerRule: true})
	defer s.close()
	p := s.newPeople(t)
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Printer", "description": "It jams"})

	s.send(t, p.agentTok, tk.ID, map[string]any{"body": "Hello"}).expectError(409, "conflict")
	var got ticketWithMessenger
	s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200).decode(&got)
	require.False(t, got.Messenger.Capabilities.CanSend, "the client hides the input until the agent accepts")
	s.send(t, p.agentTok, tk.ID, map[string]any{"type": "internal", "body": "Looks like tray 2"}).expect(201)

	s.post(t, p.agentTok, tk.ID, "accept", nil).expect(200)
	s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200).decode(&got)
	require.True(t, got.Messenger.Capabilities.CanSend)
	var sent message
	s.send(t, p.agentTok, tk.ID, map[string]any{"body": "Can you try **tray 1**? See https://example.com/help"}).expect(201).decode(&sent)
	require.Equal(t, "text", sent.Kind)
	require.Contains(t, sent.HTML, "<strong>tray 1</strong>")
	require.Contains(t, sent.HTML, `href="https://example.com/help"`, "URLs become links")
	s.send(t, p.customerTok, tk.ID, map[string]any{"body": "That worked, thanks"}).expect(201)
	// The other agent has not accepted: their public message is refused, their note is not.
	s.send(t, p.agent2Tok, tk.ID, map[string]any{"body": "Me too"}).expectError(409, "conflict")
	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Resolved"}).expect(200)

	staff := s.messages(t, p.agentTok, tk.ID)
	require.Equal(t, []string{"public:It jams", "internal:Looks like tray 2", "update:status:InAttendance", "update:owner:" + nameOf(t, s, p.agent),
		"public:Can you try **tray 1**? See https://example.com/help", "public:That worked, thanks", "update:status:Resolved"}, bodies(staff))
	customer := s.messages(t, p.customerTok, tk.ID)
	require.Equal(t, []string{"public:It jams", "update:status:InAttendance", "update:owner:" + nameOf(t, s, p.agent),
		"public:Can you try **tray 1**? See https://example.com/help", "public:That worked, thanks", "update:status:Resolved"}, bodies(customer))
	for i, m := range customer {
		require.EqualValues(t, i+1, m.Seq, "the customer's numbering has no gap where the note is")
		require.Nil(t, m.ActionID, "action numbers count internal notes: customers do not get them")
	}
	for i, m := range staff {
		require.EqualValues(t, i+1, m.Seq)
	}

	// Immutable: no edit, no delete, on either path.
	for _, m := range []string{"PATCH", "PUT", "DELETE"} {
		for _, sub := range []string{"messages", "actions"} {
			r := s.call(t, p.agentTok, m, fmt.Sprintf("/api/v1/tickets/%d/%s/1", tk.ID, sub), map[string]any{"body": "rewritten"})
			r.expectError(405, "method_not_allowed")
			require.Equal(t, "GET, HEAD", r.header.Get("Allow"))
		}
	}
	require.Equal(t, bodies(staff), bodies(s.messages(t, p.agentTok, tk.ID)))

	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Closed"}).expect(200)
	s.send(t, p.customerTok, tk.ID, map[string]any{"body": "One more thing"}).expectError(409, "conflict")
}

type ticketWithMessenger struct {
	Messenger struct {
		Capabilities struct {
			CanSend       bool   `json:"canSend"`
			VideoSessions bool   `json:"videoSessions"`
			VideoReason   string `json:"videoSessionsReason"`
		} `json:"capabilities"`
	} `json:"messenger"`
}

func nameOf(t *testing.T, s *stack, personID string) string {
	t.Helper()
	return s.call(t, s.admin, "GET", "/api/v1/persons/"+personID, nil).expect(200).obj()["name"].(string)
}

// Markdown is rendered and sanitized: nothing a sender writes reaches a reader as active HTML.
func TestMessengerRendersXSSInert(t *testing.T) {
	t.Parallel()
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "XSS"})
	payloads := []string{
		`<script>alert(1)</script>`,
		`<img src=x onerror=alert(1)>`,
		`[click](javascript:alert(1))`,
		`<a href="javascript:alert(1)">x</a>`,
		`<svg/onload=alert(1)>`,
		`<iframe src="https://evil.example"></iframe>`,
		`<style>body{display:none}</style>`,
		"[[javascript:alert(1) | help]]",
		`![x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)`,
	}
	for _, body := range payloads {
		var m message
		s.send(t, p.customerTok, tk.ID, map[string]any{"body": body}).expect(201).decode(&m)
		require.Empty(t, activeHTML(t, m.HTML), "payload %q rendered %q", body, m.HTML)
		require.Equal(t, body, m.Body, "the markdown is kept as sent")
	}
}

// A message sent twice with the same clientMessageId is stored once: the second answer is the
// first message.
func TestMessengerClientMessageIDMakesAResendANoOp(t *testing.T) {
	t.Parallel()
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Resend"})
	id := uuid.NewString()
	var first, again message
	s.send(t, p.customerTok, tk.ID, map[string]any{"body": "Hello?", "clientMessageId": id}).expect(201).decode(&first)
	s.send(t, p.customerTok, tk.ID, map[string]any{"body": "Hello?", "clientMessageId": id}).expect(200).decode(&again)
	require.Equal(t, first.Seq, again.Seq)
	require.Len(t, s.messages(t, p.customerTok, tk.ID), 1, "created without a description: one message")
	// The id is the sender's own: another sender choosing the same one sends a message of theirs.
	var other message
	s.send(t, p.agentTok, tk.ID, map[string]any{"body": "Hello!", "clientMessageId": id}).expect(201).decode(&other)
	require.Equal(t, first.Seq+1, other.Seq)
	require.Equal(t, []string{"public:Hello?", "public:Hello!"}, bodies(s.messages(t, p.customerTok, tk.ID)))
}

// Bad messages are refused with the field named, and nothing is sent.
func TestMessengerBadInput(t *testing.T) {
	t.Parallel()
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Bad input"})
	cases := []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"body": ""}, "body"},
		{map[string]any{"body": "   "}, "body"},
		{map[string]any{"body": "x", "kind": "update"}, "kind"},
		{map[string]any{"body": "x", "kind": "video_session"}, "kind"},
		{map[string]any{"body": "x", "kind": "sms"}, "kind"},
		{map[string]any{"body": "no link here", "kind": "assistant_link"}, "body"},
		{map[string]any{"body": "x", "kind": "voice"}, "attachmentIds"},
		{map[string]any{"body": "x", "type": "internal"}, "type"},
		{map[string]any{"body": strings.Repeat("x", 65537)}, "body"},
		{map[string]any{"body": "x", "clientMessageId": strings.Repeat("c", 101)}, "clientMessageId"},
		{map[string]any{"body": "x", "Body": "y"}, "Body"},
		{map[string]any{"body": "x", "attachmentIds": []string{"nope"}}, "attachmentIds[0]"},
	}
	for _, c := range cases {
		s.send(t, p.customerTok, tk.ID, c.body).expectError(422, "validation_failed", c.field)
	}
	s.send(t, p.customerTok, tk.ID, `{"body": "nul \u0000 byte"}`).expectError(422, "validation_failed")
	s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages?cursor=-1", tk.ID), nil).expectError(422, "validation_failed", "cursor")
	require.Empty(t, s.messages(t, p.customerTok, tk.ID))
}

// Video sessions: opened Open, linked to the ticket, the link sent to the customer; closed with
// the ticket. Off without a template, and for a team that turned them off; the ticket's
// capabilities say so.
func TestMessengerVideoSessions(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour, videoTemplate: "https://meet.example/{room}"})
	defer s.close()
	p := s.newPeople(t)
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Video"})
	var cap ticketWithMessenger
	s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200).decode(&cap)
	require.True(t, cap.Messenger.Capabilities.VideoSessions)

	var v struct {
		ID, URL, Status string
		ActionID        *int `json:"actionId"`
	}
	s.post(t, p.agentTok, tk.ID, "video-sessions", nil).expect(201).decode(&v)
	require.Equal(t, "Open", v.Status)
	require.Regexp(t, `^https://meet\.example/[a-z2-7]{26}$`, v.URL, "an unguessable room")
	require.NotNil(t, v.ActionID)
	s.post(t, p.customerTok, tk.ID, "video-sessions", nil).expectError(403, "forbidden")
	ms := s.messages(t, p.customerTok, tk.ID)
	require.Len(t, ms, 1)
	require.Equal(t, "video_session", ms[0].Kind)
	require.Contains(t, ms[0].HTML, `href="`+v.URL+`"`)

	var list struct {
		Data []struct{ ID, Status string } `json:"data"`
	}
	s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/video-sessions", tk.ID), nil).expect(200).decode(&list)
	require.Len(t, list.Data, 1)
	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Resolved"}).expect(200)
	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Closed"}).expect(200)
	s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/video-sessions", tk.ID), nil).expect(200).decode(&list)
	require.Equal(t, "Closed", list.Data[0].Status, "closing the ticket closes its sessions")
	s.post(t, p.agentTok, tk.ID, "video-sessions", nil).expectError(409, "conflict")

	// A team that turned them off.
	s.call(t, s.admin, "PATCH", "/api/v1/teams/"+p.team, map[string]any{"videoSessions": false}).expect(200)
	off := s.createTicket(t, p.agentTok, map[string]any{"subject": "Team off", "teamId": p.team, "clientIds": []string{p.customer}})
	s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", off.ID), nil).expect(200).decode(&cap)
	require.False(t, cap.Messenger.Capabilities.VideoSessions)
	require.Contains(t, cap.Messenger.Capabilities.VideoReason, "turned off for team")
	s.post(t, p.agentTok, off.ID, "video-sessions", nil).expectError(409, "conflict")

	// No template: off everywhere.
	plain := env(t)
	q := plain.newPeople(t)
	other := plain.createTicket(t, q.customerTok, map[string]any{"subject": "No video"})
	plain.call(t, q.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", other.ID), nil).expect(200).decode(&cap)
	require.False(t, cap.Messenger.Capabilities.VideoSessions)
	plain.post(t, q.agentTok, other.ID, "video-sessions", nil).expectError(409, "conflict")
}

// convStream reads a ticket's conversation stream: the ids and kinds of its events.
type convStream struct {
	events chan sseEvent
	cancel func()
}

type sseEvent struct {
	ID      int64
	RawID   string
	Event   string
	Data    message
	RawData json.RawMessage
}

func (s *stack) conversation(t *testing.T, token string, id int64, lastEventID string) *convStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	u := fmt.Sprintf("%s/api/v1/tickets/%d/stream?token=%s", s.base, id, url.QueryEscape(token))
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	require.NoError(t, err)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode)
	require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
	out := &convStream{events: make(chan sseEvent, 64), cancel: func() { cancel(); res.Body.Close() }}
	frames := make(chan chatEvent, 64)
	go scanSSE(res.Body, frames)
	go func() {
		defer close(out.events)
		for f := range frames {
			ev := sseEvent{RawID: f.ID, Event: f.Event, RawData: f.Data}
			ev.ID, _ = strconv.ParseInt(f.ID, 10, 64)
			_ = json.Unmarshal(f.Data, &ev.Data)
			out.events <- ev
		}
	}()
	t.Cleanup(out.cancel)
	return out
}

// take reads n events, failing if they do not come.
func (c *convStream) take(t *testing.T, n int) []sseEvent {
	t.Helper()
	var got []sseEvent
	for len(got) < n {
		select {
		case ev, ok := <-c.events:
			require.True(t, ok, "the stream ended after %d of %d events", len(got), n)
			got = append(got, ev)
		case <-time.After(20 * time.Second):
			t.Fatalf("%d of %d events came", len(got), n)
		}
	}
	return got
}

// quiet asserts nothing more arrives for a while.
func (c *convStream) quiet(t *testing.T, d time.Duration) {
	t.Helper()
	select {
	case ev := <-c.events:
		t.Fatalf("unexpected event %+v", ev)
	case <-time.After(d):
	}
}

// Live delivery: a customer's stream gets the agent's messages and the updates, never an
// internal note; written through the other API instance too (NOTIFY); reconnecting with
// Last-Event-ID delivers what was missed, in order, nothing twice.
func TestMessengerStreamResumesWithLastEventID(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	// A second API instance on the same database and Temporal: messages sent through it reach
	// streams held by the first.
	other := newStack(t, stackOptions{dbURL: s.dbURL, taskQueue: s.taskQueue, autoClose: time.Hour})
	defer other.close()
	p := s.newPeople(t)
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Live", "description": "First"})

	cust := s.conversation(t, p.customerTok, tk.ID, "")
	agent := s.conversation(t, p.agentTok, tk.ID, "")
	require.Equal(t, []int64{1}, eventIDs(cust.take(t, 1)), "a new stream starts with the conversation so far")
	agent.take(t, 1)

	other.send(t, p.agentTok, tk.ID, map[string]any{"type": "internal", "body": "note"}).expect(201)
	other.send(t, p.agentTok, tk.ID, map[string]any{"body": "reply 1"}).expect(201)
	s.post(t, p.agentTok, tk.ID, "status", map[string]any{"status": "Stopped", "justification": "waiting"}).expect(200)
	evs := cust.take(t, 2)
	require.Equal(t, []int64{2, 3}, eventIDs(evs))
	require.Equal(t, "message", evs[0].Event)
	require.Equal(t, "reply 1", evs[0].Data.Body)
	require.Equal(t, "update", evs[1].Event)
	cust.quiet(t, time.Second) // the note never reaches the customer
	require.Equal(t, []string{"internal:note", "public:reply 1", "update:status:Stopped"}, bodies(datas(agent.take(t, 3))))

	// The customer goes away; three more entries are written; they come back from id 3.
	cust.cancel()
	for i := range 3 {
		other.send(t, p.agentTok, tk.ID, map[string]any{"body": fmt.Sprintf("while away %d", i)}).expect(201)
	}
	back := s.conversation(t, p.customerTok, tk.ID, "3")
	evs = back.take(t, 3)
	require.Equal(t, []int64{4, 5, 6}, eventIDs(evs))
	require.Equal(t, []string{"public:while away 0", "public:while away 1", "public:while away 2"}, bodies(datas(evs)))
	back.quiet(t, time.Second)
	s.send(t, p.customerTok, tk.ID, map[string]any{"body": "I'm back"}).expect(201)
	require.Equal(t, []int64{7}, eventIDs(back.take(t, 1)))

	// A stranger's stream is refused like the ticket itself.
	s.call(t, p.otherTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/stream", tk.ID), nil).expectError(404, "not_found")
	s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/stream", tk.ID), nil, header{"Last-Event-ID", "x"}).
		expectError(422, "validation_failed", "Last-Event-ID")
}

func eventIDs(evs []sseEvent) []int64 {
	out := []int64{}
	for _, e := range evs {
		out = append(out, e.ID)
	}
	return out
}

func datas(evs []sseEvent) []message {
	var out []message
	for _, e := range evs {
		out = append(out, e.Data)
	}
	return out
}

// activeHTML lists what in rendered HTML could run or load something: script-like elements,
// event-handler attributes, and links or sources that are not http(s), mailto or site paths.
func activeHTML(t *testing.T, h string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(h))
	require.NoError(t, err)
	var bad []string
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode {
			switch n.Data {
			case "script", "style", "iframe", "object", "embed", "svg", "math", "form", "input", "base", "meta", "link":
				bad = append(bad, "<"+n.Data+">")
			}
			for _, a := range n.Attr {
				key, val := strings.ToLower(a.Key), strings.ToLower(strings.TrimSpace(a.Val))
				if strings.HasPrefix(key, "on") || key == "style" || key == "srcdoc" || key == "formaction" {
					bad = append(bad, key)
				}
				if (key == "href" || key == "src") && !(strings.HasPrefix(val, "http://") || strings.HasPrefix(val, "https://") ||
					strings.HasPrefix(val, "mailto:") || (strings.HasPrefix(val, "/") && !strings.HasPrefix(val, "//"))) {
					bad = append(bad, key+"="+val)
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	return bad
}

// A conversation with files: the agent sends a PDF and an image, the customer a voice note; an
// executable renamed .pdf is refused by name; the agent's internal note carries a file the
// customer can neither list nor download; an upload is announced live to the stream.
func TestMessengerConversationWithFiles(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour})
	defer s.close()
	p := s.newPeople(t)
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Files"})
	live := s.conversation(t, p.customerTok, tk.ID, "")

	docs := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "invoice.pdf", data: sample.PDF()}, upFile{name: "screen.png", data: sample.PNG()})
	var sent message
	s.send(t, p.agentTok, tk.ID, map[string]any{"body": "The invoice and a screenshot", "attachmentIds": []string{docs[0].ID, docs[1].ID}}).
		expect(201).decode(&sent)
	note := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "admin.png", data: append(sample.PNG(), unique("admin")...)})
	s.send(t, p.agentTok, tk.ID, map[string]any{"type": "internal", "body": "Admin console", "attachmentIds": []string{note[0].ID}}).expect(201)

	s.upload(t, p.customerTok, tk.ID, upFile{name: "report.pdf", data: sample.ELF()}).expectError(422, "validation_failed")
	voice := s.uploaded(t, p.customerTok, tk.ID, upFile{name: "note.ogg", data: sample.OggOpus()})
	ev := live.take(t, 2)
	require.Equal(t, "message", ev[0].Event, "the agent's message")
	require.Equal(t, "attachment.ready", ev[1].Event, "the customer's own upload, announced live")
	s.send(t, p.customerTok, tk.ID, map[string]any{"kind": "voice", "body": "", "attachmentIds": []string{voice[0].ID}}).expect(201)
	// A file goes with one message only.
	s.send(t, p.customerTok, tk.ID, map[string]any{"body": "again", "attachmentIds": []string{voice[0].ID}}).
		expectError(422, "validation_failed", "attachmentIds[0]")

	var list struct {
		Data []struct {
			Kind        string           `json:"kind"`
			Type        string           `json:"type"`
			Attachments []attachmentJSON `json:"attachments"`
		} `json:"data"`
	}
	s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), nil).expect(200).decode(&list)
	require.Len(t, list.Data, 2, "the agent's message and the voice note; never the note")
	require.Equal(t, []string{"invoice.pdf", "screen.png"}, []string{list.Data[0].Attachments[0].Filename, list.Data[0].Attachments[1].Filename})
	require.Equal(t, "voice", list.Data[1].Kind)
	require.Equal(t, "audio/ogg", list.Data[1].Attachments[0].ContentType)
	for _, a := range append(list.Data[0].Attachments, list.Data[1].Attachments...) {
		r := s.download(t, p.customerTok, a.ID).expect(200)
		require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
		require.True(t, strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment"))
	}
	s.download(t, p.customerTok, note[0].ID).expectError(404, "not_found")
	s.download(t, p.agent2Tok, note[0].ID).expect(200)
}

// attachment.ready is replayed on reconnect: resuming from an attachment.ready's id gives
// exactly the uploads after it; resuming from a message's id gives the uploads since that
// message (at least once); a malformed id is a 422 naming Last-Event-ID.
func TestAttachmentReadyReplayedOnReconnect(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Files again", "description": "first", "clientIds": []string{p.customer}})
	uploadID := func(ev sseEvent) string {
		var a attachmentJSON
		require.NoError(t, json.Unmarshal(ev.RawData, &a))
		return a.ID
	}
	live := s.conversation(t, p.agentTok, tk.ID, "")
	first := live.take(t, 1)[0]
	require.Equal(t, "message", first.Event)
	require.Equal(t, "1", first.RawID)
	a1 := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "one.txt", data: unique("one")})[0]
	ready := live.take(t, 1)[0]
	require.Equal(t, "attachment.ready", ready.Event)
	require.Equal(t, a1.ID, uploadID(ready))
	require.True(t, strings.HasPrefix(ready.RawID, "1."), "its id carries the last entry: %s", ready.RawID)
	live.cancel()

	a2 := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "two.txt", data: unique("two")})[0]
	exact := s.conversation(t, p.agentTok, tk.ID, ready.RawID)
	got := exact.take(t, 1)[0]
	require.Equal(t, "attachment.ready", got.Event)
	require.Equal(t, a2.ID, uploadID(got), "exactly the upload after the one seen")
	exact.quiet(t, time.Second)
	exact.cancel()

	fromMessage := s.conversation(t, p.agentTok, tk.ID, "1")
	evs := fromMessage.take(t, 2)
	require.Equal(t, []string{a1.ID, a2.ID}, []string{uploadID(evs[0]), uploadID(evs[1])}, "the uploads since message 1")
	fromMessage.quiet(t, time.Second)

	for _, bad := range []string{"1.x.y", "1.5.not-a-uuid", "-1.5." + a1.ID, "x"} {
		s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/stream", tk.ID), nil, header{"Last-Event-ID", bad}).
			expectError(422, "validation_failed", "Last-Event-ID")
	}
}

// A video session is stored with the message that sends its link, in one transaction: with the
// sessions' table locked past the API's wait, the open is answered 202 and neither the link nor
// the session is stored; once the lock goes both are, the session naming its message. (Before,
// the API wrote the row after the message, so a failed write left a sent link the ticket did
// not list.)
func TestVideoSessionStoredWithItsMessage(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour, videoTemplate: "https://meet.example/{room}"})
	defer s.close()
	p := s.newPeople(t)
	tk := s.createTicket(t, p.customerTok, map[string]any{"subject": "Video, stalled"})
	release := s.lockTables(t, "EXCLUSIVE", "video_sessions")
	r := s.post(t, p.agentTok, tk.ID, "video-sessions", nil)
	require.Equal(t, 202, r.status, "accepted, not yet stored: %s", r.body)
	require.Empty(t, s.messages(t, p.customerTok, tk.ID), "no link sent without its session")
	release()
	var list struct {
		Data []struct {
			ID, URL  string
			ActionID *int `json:"actionId"`
		} `json:"data"`
	}
	eventually(t, time.Minute, func() bool {
		s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/video-sessions", tk.ID), nil).expect(200).decode(&list)
		return len(list.Data) == 1
	}, "the session lands")
	ms := s.messages(t, p.agentTok, tk.ID)
	require.Len(t, ms, 1)
	require.Equal(t, "video_session", ms[0].Kind)
	require.Contains(t, ms[0].HTML, list.Data[0].URL)
	require.NotNil(t, ms[0].ActionID)
	require.NotNil(t, list.Data[0].ActionID)
	require.Equal(t, *ms[0].ActionID, *list.Data[0].ActionID, "the session names its message")

	// The room travels through the workflow to the row (the API's answers leave it out): a
	// second session, on another ticket, gets its own, and the link carries it.
	other := s.createTicket(t, p.customerTok, map[string]any{"subject": "Video, second"})
	var second struct{ ID, URL string }
	s.post(t, p.agentTok, other.ID, "video-sessions", nil).expect(201).decode(&second)
	var rooms []struct {
		ID   string `bun:"id"`
		Room string `bun:"room"`
		URL  string `bun:"url"`
	}
	require.NoError(t, s.db.NewRaw("SELECT id, room, url FROM video_sessions ORDER BY created_at").Scan(t.Context(), &rooms))
	require.Len(t, rooms, 2)
	require.NotEqual(t, rooms[0].Room, rooms[1].Room)
	for _, r := range rooms {
		require.Regexp(t, `^[a-z2-7]{26}$`, r.Room)
		require.Equal(t, "https://meet.example/"+r.Room, r.URL)
	}
	require.Equal(t, second.ID, rooms[1].ID)
}

package integration

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/api"
	"github.com/switchboardhq/switchboard/internal/channel"
	"github.com/switchboardhq/switchboard/internal/channel/twilio"
	"github.com/switchboardhq/switchboard/workflows"
)

// WhatsApp through a fake Twilio on loopback: signed inbound webhooks become chat messages
// (each once, one chat for a new contact's first messages), the offline flow answers on
// WhatsApp, the ticket's replies go out through the Messages API, and after the 24-hour window
// free text is refused before anything is sent.

func whatsappSender(c *api.WhatsAppConfig) channel.Sender {
	if c == nil {
		return nil
	}
	return c.Sender
}

// fakeTwilio records what the Messages API was asked to send.
type fakeTwilio struct {
	srv  *httptest.Server
	mu   sync.Mutex
	sent []url.Values
}

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != "ACtest" || p != "wa-secret" {
			w.WriteHeader(401)
			return
		}
		if r.Method == "GET" { // media of an inbound message
			switch {
			case strings.HasSuffix(r.URL.Path, "/receipt"):
				w.Header().Set("Content-Type", "application/pdf")
				_, _ = w.Write([]byte("%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"))
			case strings.HasSuffix(r.URL.Path, "/program"):
				w.Header().Set("Content-Type", "application/x-msdownload")
				_, _ = w.Write([]byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff"))
			default:
				w.WriteHeader(404)
			}
			return
		}
		_ = r.ParseForm()
		f.mu.Lock()
		f.sent = append(f.sent, r.PostForm)
		n := len(f.sent)
		f.mu.Unlock()
		w.WriteHeader(201)
		fmt.Fprintf(w, `{"sid":"SM%d"}`, n)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// to are the bodies sent to a contact, in order.
func (f *fakeTwilio) to(contact string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.sent {
		if m.Get("To") == "whatsapp:"+contact {
			out = append(out, m.Get("Body"))
		}
	}
	return out
}

const waPublicURL = "https://desk.example"

// inbound posts a Twilio webhook, signed unless sig is given.
func (s *stack) inbound(t *testing.T, form url.Values, sig string) int {
	t.Helper()
	if sig == "" {
		sig = twilio.Signature("wa-secret", waPublicURL+"/public/whatsapp/v1/twilio", form)
	}
	req, err := http.NewRequest("POST", s.base+"/public/whatsapp/v1/twilio", strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sig)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	return res.StatusCode
}

func waMessage(sid, contact, body string) url.Values {
	return url.Values{"MessageSid": {sid}, "From": {"whatsapp:" + contact}, "To": {"whatsapp:+15550100"},
		"Body": {body}, "ProfileName": {"Wanda"}, "NumMedia": {"0"}}
}

func TestWhatsAppThroughAFakeTwilio(t *testing.T) {
	fake := newFakeTwilio(t)
	tw := &twilio.Client{BaseURL: fake.srv.URL, AccountSID: "ACtest", AuthToken: "wa-secret", From: "whatsapp:+15550100"}
	cfg := &api.WhatsAppConfig{AuthToken: "wa-secret", PublicURL: waPublicURL, Sender: tw, Media: tw}
	s := newStack(t, stackOptions{worker: true, autoClose: time.Hour, whatsapp: cfg})
	defer s.close()
	agent := s.call(t, s.admin, "POST", "/api/v1/persons", map[string]any{"name": "Walt", "profile": "agent"}).expect(201).obj()["id"].(string)
	agentTok := s.mintOK(t, s.admin, agent)
	// The agent is online but the group is out of hours: WhatsApp chats go to the offline flow.
	s.call(t, s.admin, "PUT", "/api/v1/agents/"+agent+"/chat", map[string]any{"status": "online"}).expect(200)
	var cal struct {
		ID string `json:"id"`
	}
	s.call(t, s.admin, "POST", "/api/v1/calendars", map[string]any{"name": "closed", "timezone": "UTC"}).expect(201).decode(&cal)
	g := s.chatGroup(t, map[string]any{"name": "whatsapp", "members": []map[string]any{{"agentId": agent}}, "calendarId": cal.ID})
	cfg.GroupID = g.ID
	contact := "+15550001"

	// Bad signatures and bad input.
	require.Equal(t, 403, s.inbound(t, waMessage("SMbad", contact, "hi"), "forged"))
	signedWrong := twilio.Signature("other-token", waPublicURL+"/public/whatsapp/v1/twilio", waMessage("SMbad", contact, "hi"))
	require.Equal(t, 403, s.inbound(t, waMessage("SMbad", contact, "hi"), signedWrong))
	require.Equal(t, 422, s.inbound(t, url.Values{"From": {"whatsapp:" + contact}, "Body": {"no sid"}}, ""))
	require.Equal(t, 422, s.inbound(t, waMessage("SMx", "15550001", "no whatsapp: prefix"), ""))
	for _, hostile := range []string{"nul \x00 byte", "bell \x07", "bad utf-8 \xff"} {
		require.Equal(t, 422, s.inbound(t, waMessage("SMh", contact, hostile), ""), "%q", hostile)
		bad := waMessage("SMh", contact, "fine")
		bad.Set("ProfileName", hostile)
		require.Equal(t, 422, s.inbound(t, bad, ""), "ProfileName %q", hostile)
	}

	// A new contact's first two messages at once: one chat; a redelivered webhook adds nothing.
	var wg sync.WaitGroup
	for i, body := range []string{"hello", "my bill is wrong"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			require.Equal(t, 200, s.inbound(t, waMessage(fmt.Sprintf("SM-a%d", i), contact, body), ""))
		}()
	}
	wg.Wait()
	require.Equal(t, 200, s.inbound(t, waMessage("SM-a0", contact, "hello"), ""), "Twilio redelivers")
	var chats []struct {
		ID    string `bun:"id"`
		Count int64  `bun:"message_count"`
	}
	require.NoError(t, s.db.NewRaw("SELECT id, message_count FROM chats WHERE channel = 'whatsapp' AND channel_contact = ?", contact).
		Scan(t.Context(), &chats))
	require.Len(t, chats, 1, "one chat for the contact")
	var customerMsgs int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM chat_messages WHERE chat_id = ? AND role = 'customer'", chats[0].ID).
		Scan(t.Context(), &customerMsgs))
	require.Equal(t, 2, customerMsgs, "the redelivered message is stored once")
	eventually(t, 20*time.Second, func() bool { return len(fake.to(contact)) >= 2 }, "the prompt goes out on WhatsApp")
	var first struct {
		Events []struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"events"`
	}
	s.call(t, s.admin, "GET", "/api/v1/chats/"+chats[0].ID, nil).expect(200).decode(&first)
	require.Equal(t, workflows.ChatEventOffline, first.Events[0].Type)
	require.Equal(t, workflows.OfflineOutOfHours, first.Events[0].Reason)
	require.Equal(t, workflows.DefaultOfflinePrompt, fake.to(contact)[0])

	// YES, a message and //end: a WhatsApp chat ticket, the autoresponder sent to the contact.
	require.Equal(t, 200, s.inbound(t, waMessage("SM-b1", contact, "YES"), ""))
	require.Equal(t, 200, s.inbound(t, waMessage("SM-b2", contact, "invoice 99"), ""))
	eventually(t, 20*time.Second, func() bool {
		out := fake.to(contact)
		return len(out) > 0 && out[len(out)-1] == workflows.DefaultOfflineAutoresponder
	}, "the autoresponder goes out")
	require.Equal(t, 200, s.inbound(t, waMessage("SM-b3", contact, "//end"), ""))
	var ticketID int64
	eventually(t, 20*time.Second, func() bool {
		return s.db.NewRaw("SELECT ticket_id FROM chat_tickets WHERE channel = 'whatsapp' AND channel_contact = ? AND intake_closed_at IS NOT NULL",
			contact).Scan(t.Context(), &ticketID) == nil
	}, "the window ended on the chat ticket")
	eventually(t, 20*time.Second, func() bool {
		return s.call(t, s.admin, "GET", fmt.Sprintf("/api/v1/tickets/%d", ticketID), nil).status == 200
	}, "the ticket is stored")
	tk := s.ticket(t, s.admin, ticketID)
	got := actionBodies(tk)
	require.Len(t, got, 3)
	require.ElementsMatch(t, []string{"hello", "my bill is wrong"}, got[:2], "the two first messages, in the order they landed")
	require.Equal(t, "invoice 99", got[2])

	// The agent accepts and answers: the reply goes out through the Messages API.
	s.call(t, agentTok, "POST", fmt.Sprintf("/api/v1/chat-tickets/%d/accept", ticketID), nil).expect(200)
	before := len(fake.to(contact))
	s.send(t, agentTok, ticketID, map[string]any{"body": "We fixed invoice 99."}).expect(201)
	out := fake.to(contact)
	require.Len(t, out, before+1)
	require.Equal(t, "We fixed invoice 99.", out[len(out)-1])
	var queued struct {
		Data []struct {
			Channel        string  `json:"channel"`
			ChannelContact *string `json:"channelContact"`
		} `json:"data"`
	}
	s.call(t, agentTok, "GET", "/api/v1/chat-tickets?queue=assigned", nil).expect(200).decode(&queued)
	require.Equal(t, "whatsapp", queued.Data[0].Channel)
	require.Equal(t, contact, *queued.Data[0].ChannelContact)

	var detail struct {
		WindowEndsAt *time.Time `json:"whatsappWindowEndsAt"`
	}
	s.call(t, agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", ticketID), nil).expect(200).decode(&detail)
	require.NotNil(t, detail.WindowEndsAt)
	require.WithinDuration(t, time.Now().Add(24*time.Hour), *detail.WindowEndsAt, time.Minute, "24 h after the last inbound message")
	s.call(t, agentTok, "GET", "/api/v1/chats/"+chats[0].ID, nil).expect(200).decode(&detail)
	require.NotNil(t, detail.WindowEndsAt)

	// A minute before the 24 hours are up, free text still goes out.
	_, err := s.db.ExecContext(t.Context(), "UPDATE channel_contacts SET last_inbound_at = now() - interval '23 hours 59 minutes' WHERE contact = ?", contact)
	require.NoError(t, err)
	s.send(t, agentTok, ticketID, map[string]any{"body": "Just checking in."}).expect(201)
	sentSoFar := len(fake.to(contact))
	require.Equal(t, "Just checking in.", fake.to(contact)[sentSoFar-1])

	// 24 hours after the contact's last message the window is closed: free text is refused
	// with 422 before anything is stored or sent; an internal note still goes on the ticket.
	_, err = s.db.ExecContext(t.Context(), "UPDATE channel_contacts SET last_inbound_at = now() - interval '24 hours 1 second' WHERE contact = ?", contact)
	require.NoError(t, err)
	actions := len(s.ticket(t, s.admin, ticketID).Actions)
	s.send(t, agentTok, ticketID, map[string]any{"body": "Anything else?"}).expectError(422, "validation_failed", "body")
	require.Len(t, fake.to(contact), sentSoFar, "nothing sent")
	require.Len(t, s.ticket(t, s.admin, ticketID).Actions, actions, "nothing stored")
	s.send(t, agentTok, ticketID, map[string]any{"type": "internal", "body": "customer silent for a day"}).expect(201)
	require.Len(t, fake.to(contact), sentSoFar, "notes never go out")

	// A message template goes out whatever the window: the body filled in on the ticket, the
	// content id and parameters to the provider.
	tplPath := "/api/v1/message-templates"
	sid := "HX" + strings.Repeat("ab", 16)
	for _, bad := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"language": "en", "body": "Hi {{1}}", "contentSid": sid}, "name"},
		{map[string]any{"name": "x", "language": "English!", "body": "Hi {{1}}", "contentSid": sid}, "language"},
		{map[string]any{"name": "x", "language": "en", "body": "Hi {{1}} and {{3}}", "contentSid": sid}, "body"},
		{map[string]any{"name": "x", "language": "en", "body": strings.Repeat("y", 1025), "contentSid": sid}, "body"},
		{map[string]any{"name": "x", "language": "en", "body": "Hi", "contentSid": "SM123"}, "contentSid"},
		{map[string]any{"name": "x", "language": "en", "body": "Hi \x00", "contentSid": sid}, "body"},
	} {
		s.call(t, s.admin, "POST", tplPath, bad.body).expectError(422, "validation_failed", bad.field)
	}
	var tpl struct {
		ID string `json:"id"`
	}
	s.call(t, s.admin, "POST", tplPath, map[string]any{"name": "follow-up", "language": "en",
		"body": "Hello {{1}}, your case {{2}} is waiting for you.", "contentSid": sid}).expect(201).decode(&tpl)
	s.call(t, s.admin, "POST", tplPath, map[string]any{"name": "follow-up", "language": "pt_BR",
		"body": "Olá", "contentSid": sid}).expectError(409, "conflict")
	s.call(t, agentTok, "POST", tplPath, map[string]any{"name": "mine", "language": "en", "body": "x", "contentSid": sid}).
		expectError(403, "forbidden")
	sendTpl := fmt.Sprintf("/api/v1/tickets/%d/whatsapp-template", ticketID)
	s.call(t, agentTok, "POST", sendTpl, map[string]any{"templateId": tpl.ID, "parameters": []string{"Wanda"}}).
		expectError(422, "validation_failed", "parameters")
	s.call(t, agentTok, "POST", sendTpl, map[string]any{"templateId": "nope", "parameters": []string{"a", "b"}}).
		expectError(422, "validation_failed", "templateId")
	s.call(t, agentTok, "POST", sendTpl, map[string]any{"templateId": tpl.ID, "parameters": []string{"Wanda", "99"}}).expect(201)
	fake.mu.Lock()
	last := fake.sent[len(fake.sent)-1]
	fake.mu.Unlock()
	require.Equal(t, "whatsapp:"+contact, last.Get("To"))
	require.Equal(t, sid, last.Get("ContentSid"))
	require.JSONEq(t, `{"1":"Wanda","2":"99"}`, last.Get("ContentVariables"))
	tk = s.ticket(t, s.admin, ticketID)
	require.Equal(t, "Hello Wanda, your case 99 is waiting for you.", tk.Actions[len(tk.Actions)-1].Body)
	other := s.createTicket(t, s.admin, map[string]any{"subject": "not WhatsApp"})
	s.call(t, agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/whatsapp-template", other.ID),
		map[string]any{"templateId": tpl.ID, "parameters": []string{"a", "b"}}).expectError(409, "conflict")

	// Media: Twilio's files become the message's attachments through the uploads' allow-list;
	// a refused one is named in the text; a URL outside Twilio's API is never fetched.
	media := waMessage("SM-m1", contact, "the receipt")
	media.Set("NumMedia", "3")
	media.Set("MediaUrl0", fake.srv.URL+"/2010-04-01/Accounts/ACtest/Messages/SM-m1/Media/receipt")
	media.Set("MediaUrl1", fake.srv.URL+"/2010-04-01/Accounts/ACtest/Messages/SM-m1/Media/program")
	media.Set("MediaUrl2", "http://169.254.169.254/latest/meta-data")
	require.Equal(t, 200, s.inbound(t, media, ""))
	require.Equal(t, 200, s.inbound(t, media, ""), "redelivered: nothing fetched or stored twice")
	var stored []struct {
		Body        string `bun:"body"`
		Attachments string `bun:"attachments"`
	}
	require.NoError(t, s.db.NewRaw(`SELECT m.body, m.attachments::text AS attachments FROM chat_messages m JOIN chats c ON c.id = m.chat_id
		WHERE c.channel_contact = ? AND m.client_message_id = 'SM-m1'`, contact).Scan(t.Context(), &stored))
	require.Len(t, stored, 1)
	require.Contains(t, stored[0].Attachments, "whatsapp-1.pdf")
	require.NotContains(t, stored[0].Attachments, "whatsapp-2")
	require.Contains(t, stored[0].Body, "file 2 was not accepted")
	require.Contains(t, stored[0].Body, "file 3 could not be fetched")
	var files int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM attachments WHERE filename LIKE 'whatsapp-%' AND uploaded_by = ?",
		s.ticket(t, s.admin, ticketID).ClientIDs[0]).Scan(t.Context(), &files))
	require.Equal(t, 1, files, "one file stored")

	// A new inbound message opens the window again.
	require.Equal(t, 200, s.inbound(t, waMessage("SM-c1", contact, "still there?"), ""))
	s.send(t, agentTok, ticketID, map[string]any{"body": "Yes, all good now."}).expect(201)
	require.Equal(t, "Yes, all good now.", fake.to(contact)[len(fake.to(contact))-1])
}

func actionBodies(tk ticket) []string {
	out := make([]string, len(tk.Actions))
	for i, a := range tk.Actions {
		out[i] = a.Body
	}
	return out
}

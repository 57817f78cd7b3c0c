package api

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/valyala/fasthttp"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/internal/markup"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// The ticket messenger: a ticket's conversation is its actions (messages) and its status and
// owner changes (updates), in one order, listed, sent and streamed here. Messages are
// immutable: nothing edits or deletes one.
func (s *Server) messageRoutes(r fiber.Router) {
	r.Get("/tickets/:id/messages", requirePerm(PermTicketsRead), s.listMessages)
	r.Post("/tickets/:id/messages", requirePerm(PermTicketsWrite), s.sendMessage)
	r.Get("/tickets/:id/stream", requirePerm(PermTicketsRead), s.ticketStream)
	for _, path := range []string{"/tickets/:id/messages/:seq", "/tickets/:id/actions/:seq"} {
		for _, m := range []string{fiber.MethodPut, fiber.MethodPatch, fiber.MethodDelete} {
			r.Add(m, path, requirePerm(PermTicketsWrite), immutableMessage)
		}
	}
}

func immutableMessage(c *fiber.Ctx) error {
	c.Set(fiber.HeaderAllow, "GET, HEAD")
	return &Error{Status: fiber.StatusMethodNotAllowed, Code: "method_not_allowed",
		Message: "messages cannot be edited or deleted once sent; send a new message instead"}
}

// messageInput is a message (and, on /actions, an action) as sent.
type messageInput struct {
	Type            string   `json:"type" validate:"omitempty,oneof=public internal"`
	Kind            string   `json:"kind" validate:"omitempty,max=20"`
	Body            string   `json:"body" validate:"max=65536"`
	Origin          int      `json:"origin"`
	AttachmentIDs   []string `json:"attachmentIds" validate:"max=20,dive,required,max=64"`
	ClientMessageID *string  `json:"clientMessageId" validate:"omitnil,notblank,max=100"`
}

// messageEntry is a sent message as its sender sees it in the conversation.
type messageEntry struct {
	schema.Message
	TicketID int64 `json:"ticketId"`
}

// addTicketAction is POST /tickets/{id}/actions: a message, answered with the ticket.
func (s *Server) addTicketAction(c *fiber.Ctx) error {
	t, in, err := s.messageRequest(c, "public")
	if err != nil || t == nil {
		return err
	}
	var after schema.Ticket
	accepted, err := s.runUpdate(c, t, workflows.UpdateAddAction, in, &after)
	switch {
	case err != nil:
		return err
	case accepted != nil:
		return c.Status(fiber.StatusAccepted).JSON(accepted)
	}
	s.relayToWhatsApp(c.UserContext(), t.ID, int64(after.ActionCount), in)
	return s.respondTicket(c, t.ID, fiber.StatusOK)
}

// sendMessage is POST /tickets/{id}/messages: a message, answered with the message as the
// conversation lists it (201), or the one its sender already sent with the same
// clientMessageId (200).
func (s *Server) sendMessage(c *fiber.Ctx) error {
	t, in, err := s.messageRequest(c, "public")
	if err != nil {
		return err
	}
	if t == nil { // sent before under this clientMessageId
		return s.respondMessage(c, c.Locals("resent").(int64), fiber.StatusOK)
	}
	var after schema.Ticket
	accepted, err := s.runUpdate(c, t, workflows.UpdateAddAction, in, &after)
	if err != nil {
		return err
	}
	if accepted != nil {
		return c.Status(fiber.StatusAccepted).JSON(accepted)
	}
	s.relayToWhatsApp(c.UserContext(), t.ID, int64(after.ActionCount), in)
	return s.respondMessageByAction(c, t.ID, after.ActionCount, fiber.StatusCreated)
}

// messageRequest decodes and checks a message for the ticket in the path. It returns a nil
// ticket (and the message's place in Locals "resent") when the clientMessageId was sent before.
func (s *Server) messageRequest(c *fiber.Ctx, defaultType string) (*schema.Ticket, *workflows.AddActionInput, error) {
	var in messageInput
	if err := decode(c, &in); err != nil {
		return nil, nil, err
	}
	p := principal(c)
	if in.Type == "" {
		in.Type = defaultType
	}
	if in.Kind == "" {
		in.Kind = schema.KindText
	}
	if in.Origin == 0 {
		in.Origin = schema.OriginAPI
		if p.isCustomer() {
			in.Origin = schema.OriginWebCustomer
		}
	}
	if err := checkMessage(p, &in); err != nil {
		return nil, nil, err
	}
	t, err := s.loadTicket(c)
	if err != nil {
		return nil, nil, err
	}
	if p.isCustomer() && t.BaseStatus == schema.BaseClosed {
		return nil, nil, errConflict("ticket %d is closed: its messenger takes no more messages; open a new ticket", t.ID)
	}
	ctx := c.UserContext()
	if !p.isCustomer() && in.Type == "public" {
		if err := s.checkWhatsAppWindow(ctx, t.ID); err != nil {
			return nil, nil, err
		}
	}
	if in.ClientMessageID != nil {
		if seq, found, err := s.sentBefore(ctx, p, t.ID, *in.ClientMessageID); err != nil || found {
			c.Locals("resent", seq)
			return nil, nil, err
		}
	}
	files, err := s.messageAttachments(ctx, p, t.ID, in.AttachmentIDs)
	if err != nil {
		return nil, nil, err
	}
	if in.Kind == schema.KindVoice && !hasAudio(files) {
		return nil, nil, errField("attachmentIds", "a voice message carries an audio attachment (AAC, FLAC, M4A, MP3, OGG, OPUS, VORBIS or WAV)")
	}
	return t, &workflows.AddActionInput{Actor: actor(c), Type: in.Type, Body: in.Body, Origin: in.Origin,
		Kind: in.Kind, HTML: renderBody(in.Body), Attachments: files, ClientID: in.ClientMessageID,
		RequireOwner: s.cfg.MessengerRequireOwner}, nil
}

// checkMessage checks what needs no database: type and kind against the sender, a body or a
// file, and where the messenger's origins apply.
func checkMessage(p *Principal, in *messageInput) error {
	if !contains(schema.Origins, in.Origin) {
		return errField("origin", "unknown origin %d; allowed: %v", in.Origin, schema.Origins)
	}
	if p.isCustomer() && in.Type != "public" {
		return errField("type", "customers can only add public replies")
	}
	switch in.Kind {
	case schema.KindText, schema.KindVoice, schema.KindAssistantLink:
	case schema.KindVideoSession:
		return errField("kind", "video_session messages are sent by POST /tickets/{id}/video-sessions")
	default:
		return errField("kind", "must be one of text, voice, assistant_link (got %q)", in.Kind)
	}
	if strings.TrimSpace(in.Body) == "" && len(in.AttachmentIDs) == 0 {
		return errField("body", "must not be empty (a message without text carries at least one attachment)")
	}
	if in.Kind == schema.KindAssistantLink && !hasAssistantLink(in.Body) {
		return errField("body", "an assistant_link message contains a [[URL | link text]] link")
	}
	return nil
}

// hasAssistantLink says whether a body holds a [[URL | link text]] token to a linkable URL.
func hasAssistantLink(body string) bool {
	for i := strings.Index(body, "[["); i >= 0; {
		if u, _, _, ok := markup.ParseAssistantLink(body[i:]); ok && markup.LinkableURL(u) {
			return true
		}
		next := strings.Index(body[i+2:], "[[")
		if next < 0 {
			break
		}
		i += 2 + next
	}
	return false
}

// sentBefore finds the message a sender already sent with this client id.
func (s *Server) sentBefore(ctx context.Context, p *Principal, ticketID int64, clientID string) (int64, bool, error) {
	var actionID int
	err := s.db.NewSelect().Model((*schema.Action)(nil)).Column("id").
		Where("ticket_id = ? AND author_id = ? AND client_id = ?", ticketID, p.Person.ID, clientID).Scan(ctx, &actionID)
	if isNoRows(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	return int64(actionID), true, nil
}

func (s *Server) respondMessage(c *fiber.Ctx, actionID int64, status int) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	return s.respondMessageByAction(c, t.ID, int(actionID), status)
}

func (s *Server) respondMessageByAction(c *fiber.Ctx, ticketID int64, actionID int, status int) error {
	m, err := schema.MessageOfAction(c.UserContext(), s.db, ticketID, principal(c).isCustomer(), actionID)
	if err != nil {
		return err
	}
	return c.Status(status).JSON(messageEntry{Message: *m, TicketID: ticketID})
}

// listMessages is the conversation in order, paged by place: ?after=<seq>&limit=N, answered
// with {"data": [...], "next_cursor": "<seq>"}.
func (s *Server) listMessages(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	after, err := seqParam(c.Query("cursor"), "cursor")
	if err != nil {
		return err
	}
	rows, err := schema.Messages(c.UserContext(), s.db, t.ID, principal(c).isCustomer(), after, limit+1)
	if err != nil {
		return err
	}
	out := page[schema.Message]{Data: rows}
	if len(rows) > limit {
		out.Data = rows[:limit]
		next := strconv.FormatInt(rows[limit-1].Seq, 10)
		out.NextCursor = &next
	}
	return c.JSON(out)
}

// resumeAfter is where a stream resumes: the seq in Last-Event-ID (which EventSource sends
// when it reconnects), else ?after=, else 0 (from the start).
func resumeAfter(c *fiber.Ctx) (int64, error) {
	if resume := c.Get("Last-Event-ID"); resume != "" {
		return seqParam(resume, "Last-Event-ID")
	}
	return seqParam(c.Query("after"), "after")
}

func seqParam(raw, field string) (int64, error) {
	if raw == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		return 0, errField(field, "must be a message's seq (a whole number from 0), got %q", raw)
	}
	return n, nil
}

// ticketStream is the conversation live, as Server-Sent Events: each entry is an event
// `message` (or `update`) with the entry's seq as its id. A client reconnecting with
// Last-Event-ID (or ?after=) gets every entry after it, in order, once. Wake-ups come through
// PostgreSQL NOTIFY (from whichever process wrote), so a stream on any API instance sees every
// write; the entries themselves are read from the tables.
func (s *Server) ticketStream(c *fiber.Ctx) error {
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	p := principal(c)
	publicOnly := p.isCustomer()
	after, uploads, err := s.ticketResume(c, t.ID, publicOnly)
	if err != nil {
		return err
	}
	if publicOnly {
		uploads.by = p.Person.ID // a customer sees their own uploads, not the agents' unsent ones
	}
	wake, cancel := s.hub.SubscribeTicket(t.ID)
	s.serveStream(c, fmt.Sprintf("ticket %d", t.ID), wake, cancel, func(w *bufio.Writer) bool {
		var ok bool
		after, ok = s.sendNew(w, t.ID, publicOnly, after)
		return ok && s.sendUploads(w, t.ID, after, &uploads)
	})
	return nil
}

// serveStream answers the request with a Server-Sent Events stream, the loop the ticket
// messenger's and chat sessions' streams share: a comment naming what is streamed, then send
// (what is new since the last call; false when the client has gone), again at every wake-up,
// with a heartbeat comment when nothing happens, until the client goes or the app shuts down.
// cancel ends the wake-up subscription when the stream ends.
func (s *Server) serveStream(c *fiber.Ctx, name string, wake <-chan struct{}, cancel func(), send func(*bufio.Writer) bool) {
	done := s.shutdown
	setStreamHeaders(c)
	c.Context().SetBodyStreamWriter(fasthttp.StreamWriter(func(w *bufio.Writer) {
		defer cancel()
		fmt.Fprintf(w, ": %s\nretry: 2000\n\n", name)
		if w.Flush() != nil {
			return
		}
		tick := time.NewTicker(streamHeartbeat)
		defer tick.Stop()
		for {
			if !send(w) {
				return
			}
			select {
			case <-wake:
			case <-tick.C:
				fmt.Fprint(w, ": heartbeat\n\n")
				if w.Flush() != nil {
					return
				}
			case <-done:
				return
			}
		}
	}))
}

// sendNew writes the entries after `after` and returns the last one sent; false when the
// client has gone.
func (s *Server) sendNew(w *bufio.Writer, ticketID int64, publicOnly bool, after int64) (int64, bool) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		rows, err := schema.Messages(ctx, s.db, ticketID, publicOnly, after, 100)
		cancel()
		if err != nil {
			// PostgreSQL is away: the next wake-up (or the reconnect's) reads again.
			s.log.Warn("ticket stream: read failed", "ticket", ticketID, "err", err)
			return after, true
		}
		for _, m := range rows {
			data, _ := json.Marshal(m)
			event := "message"
			if m.Kind == schema.KindUpdate {
				event = "update"
			}
			fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", m.Seq, event, data)
			after = m.Seq
		}
		if w.Flush() != nil {
			return after, false
		}
		if len(rows) < 100 {
			return after, true
		}
	}
}

// uploadCursor is how far a stream has told of the ticket's uploads.
type uploadCursor struct {
	at time.Time
	id string
	by string // only this person's uploads ("" for staff: all)
}

// ticketResume is where a ticket stream starts: the entries after `after` (Last-Event-ID or
// ?after=), and the uploads after a cursor. A new stream tells of uploads from now on. A
// reconnect whose last event was an attachment.ready sends its id, "<seq>.<unix µs>.<upload
// id>", and resumes both exactly; one whose last event was an entry ("<seq>") gets the uploads
// since that entry was written, so an upload told after it and before the drop comes again
// (attachment.ready is at least once: a client keys it by the upload's id).
func (s *Server) ticketResume(c *fiber.Ctx, ticketID int64, publicOnly bool) (int64, uploadCursor, error) {
	now := uploadCursor{at: time.Now().UTC()}
	raw := c.Get("Last-Event-ID")
	if raw == "" {
		after, err := seqParam(c.Query("after"), "after")
		return after, now, err
	}
	if seq, rest, ok := strings.Cut(raw, "."); ok {
		micros, id, _ := strings.Cut(rest, ".")
		n, err := seqParam(seq, "Last-Event-ID")
		us, perr := strconv.ParseInt(micros, 10, 64)
		if _, uerr := uuid.Parse(id); err != nil || perr != nil || uerr != nil || us < 0 {
			return 0, now, errField("Last-Event-ID", "must be an event's id: a message's seq, or <seq>.<µs>.<upload id>, got %q", raw)
		}
		return n, uploadCursor{at: time.UnixMicro(us).UTC(), id: id}, nil
	}
	after, err := seqParam(raw, "Last-Event-ID")
	if err != nil || after == 0 {
		return after, now, err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 10*time.Second)
	defer cancel()
	rows, err := schema.Messages(ctx, s.db, ticketID, publicOnly, after-1, 1)
	if err != nil {
		return 0, now, err
	}
	if len(rows) == 1 && rows[0].Seq == after {
		return after, uploadCursor{at: rows[0].CreatedAt.UTC()}, nil
	}
	return after, now, nil
}

// sendUploads writes an `attachment.ready` event for each upload since the cursor, with an id
// that names the cursor after it (see ticketResume). The upload's own answer and the message
// that carries it are the record. False when the client has gone.
func (s *Server) sendUploads(w *bufio.Writer, ticketID int64, after int64, cur *uploadCursor) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	rows, err := schema.UploadsSince(ctx, s.db, ticketID, cur.by, cur.at, cur.id)
	cancel()
	if err != nil {
		s.log.Warn("ticket stream: uploads not read", "ticket", ticketID, "err", err)
		return true
	}
	for _, a := range rows {
		data, _ := json.Marshal(a)
		cur.at, cur.id = a.CreatedAt, a.ID
		fmt.Fprintf(w, "id: %d.%d.%s\nevent: attachment.ready\ndata: %s\n\n", after, cur.at.UnixMicro(), cur.id, data)
	}
	return len(rows) == 0 || w.Flush() == nil
}

func setStreamHeaders(c *fiber.Ctx) {
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderConnection, "keep-alive")
	c.Set("X-Accel-Buffering", "no")
}

// runUpdate sends a ticket update and waits for it, decoding its result into out. A non-nil
// updateAccepted means the change was accepted but not yet stored when the wait ended (202).
func (s *Server) runUpdate(c *fiber.Ctx, t *schema.Ticket, name string, arg workflows.UpdateArg, out any) (*updateAccepted, error) {
	if workflows.IsTerminal(t.BaseStatus) {
		return nil, errConflict("ticket %d is %s; reopen it first", t.ID, t.BaseStatus)
	}
	ctx, cancel := s.updateContext(c, arg)
	defer cancel()
	opts := client.UpdateWorkflowOptions{
		WorkflowID: workflows.TicketWorkflowID(t.ID), UpdateName: name, Args: []any{arg},
		WaitForStage: client.WorkflowUpdateStageAccepted, UpdateID: s.updateID(c),
	}
	if opts.UpdateID == "" {
		opts.UpdateID = s.defaultUpdateID(arg)
	}
	h, err := s.sendUpdate(ctx, opts)
	if err != nil {
		return nil, err
	}
	return s.awaitUpdate(ctx, t.ID, h, out)
}

// renderBody is a message body as readers get it: markdown rendered and sanitized.
func renderBody(body string) string { return markup.Render(body) }

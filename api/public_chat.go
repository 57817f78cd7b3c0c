package api

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/web"
	"github.com/switchboardhq/switchboard/workflows"
)

// The public widget API (/public/chat/v1): what a site's visitors use, through widget.js, to
// chat. There is no staff token here. A session is started with a widget's public key and
// answers a visitor token, which authorizes that one chat session only (Authorization: Bearer
// on every session route; on the stream also ?token=, since EventSource sends no headers). Only
// the token's SHA-256 is stored (chat_visitors). The token stops working visitorTokenGrace
// after its chat closed.
//
// Every visitor is a customer person, so that their chats and tickets join up: a visitor who
// gives an e-mail is matched to the customer (profile customer or both) holding it, or a
// customer with that e-mail is created; a visitor without an e-mail (or whose e-mail belongs to
// staff) gets a new customer person of their own with no e-mail. The chat's customerId is that
// person and the visitor writes as them. Anyone may claim any e-mail here: the claim only
// attributes the chat, it shows the visitor nothing but this chat.
//
// Origins: a request with an Origin header must come from one of the widget's allowedOrigins
// (or from Switchboard's own origin, the demo page); others are refused with 403. Requests
// without Origin (not from a browser) are not checked: CORS protects browsers, nothing else.
// A preflight (OPTIONS) carries neither the widget key nor the token, so it is answered for an
// origin any widget allows; the request itself is then checked against its own widget.
func (s *Server) publicChatRoutes(app *fiber.App) {
	ipLimit := publicLimiter(s.cfg.PublicChatRate, (*fiber.Ctx).IP, "requests from this address")
	startLimit := publicLimiter(s.cfg.PublicChatStartRate, (*fiber.Ctx).IP, "chat sessions started from this address")
	sessionLimit := publicLimiter(s.cfg.PublicChatSessionRate, func(c *fiber.Ctx) string { return "session:" + c.Params("id") },
		"requests on this chat session")
	g := app.Group("/public/chat/v1", s.publicChatCORS, s.limitAuthFailures, ipLimit, publicChatBodyLimit)
	g.Post("/sessions", startLimit, s.startVisitorSession)
	session := func(h fiber.Handler) []fiber.Handler { return []fiber.Handler{s.visitorAuth, sessionLimit, h} }
	g.Get("/sessions/:id", session(s.getVisitorSession)...)
	g.Get("/sessions/:id/messages", session(s.listVisitorMessages)...)
	g.Post("/sessions/:id/messages", session(s.sendVisitorMessage)...)
	g.Post("/sessions/:id/attachments", session(s.uploadVisitorAttachments)...)
	g.Get("/sessions/:id/attachments/:attachmentId", session(s.getVisitorAttachment)...)
	g.Get("/sessions/:id/stream", session(s.visitorStream)...)
	g.Post("/sessions/:id/close", session(s.closeVisitorSession)...)
}

// visitorTokenGrace is how long a visitor token still reads its chat after the chat closed.
const visitorTokenGrace = 24 * time.Hour

// publicChatMaxBody bounds a JSON body on the public widget API (uploads are streamed and
// bounded per file; a chat message is at most workflows.MaxChatMessageChars characters).
const publicChatMaxBody = 64 << 10

// publicLimiter allows perMinute requests per key in a sliding minute (per API instance; 0:
// unlimited); past that, 429 with Retry-After. Preflights are not counted.
func publicLimiter(perMinute int, key func(*fiber.Ctx) string, what string) fiber.Handler {
	if perMinute <= 0 {
		return func(c *fiber.Ctx) error { return c.Next() }
	}
	return limiter.New(limiter.Config{
		Max: perMinute, Expiration: time.Minute, LimiterMiddleware: limiter.SlidingWindow{}, KeyGenerator: key,
		Next: func(c *fiber.Ctx) bool { return c.Method() == fiber.MethodOptions },
		LimitReached: func(c *fiber.Ctx) error {
			retry, _ := strconv.Atoi(string(c.Response().Header.Peek(fiber.HeaderRetryAfter)))
			return &Error{Status: fiber.StatusTooManyRequests, Code: "rate_limited",
				Message: fmt.Sprintf("more than %d %s in a minute; retry later", perMinute, what), RetryAfter: max(retry, 1)}
		},
	})
}

// publicChatBodyLimit refuses a JSON body over publicChatMaxBody.
func publicChatBodyLimit(c *fiber.Ctx) error {
	if !streamedBody(c) && len(c.Body()) > publicChatMaxBody {
		return &Error{Status: fiber.StatusRequestEntityTooLarge, Code: "payload_too_large",
			Message: fmt.Sprintf("the request body is larger than the limit of %d bytes", publicChatMaxBody)}
	}
	return c.Next()
}

// --- CORS

// publicChatCORS answers preflights and remembers the request's origin for the widget check.
func (s *Server) publicChatCORS(c *fiber.Ctx) error {
	c.Vary(fiber.HeaderOrigin)
	origin := c.Get(fiber.HeaderOrigin)
	if c.Method() != fiber.MethodOptions {
		return c.Next()
	}
	if origin == "" {
		return errBadRequest("a preflight request carries an Origin header")
	}
	if !sameOrigin(c, origin) {
		n, err := s.db.NewSelect().Model((*schema.ChatWidget)(nil)).Where("? = ANY(allowed_origins)", origin).Count(c.UserContext())
		if err != nil {
			return err
		}
		if n == 0 {
			return errForbidden("origin %s is not allowed by any chat widget", origin)
		}
	}
	allowOrigin(c, origin)
	c.Set(fiber.HeaderAccessControlAllowMethods, "GET, POST, OPTIONS")
	c.Set(fiber.HeaderAccessControlAllowHeaders, "Authorization, Content-Type, Last-Event-ID")
	c.Set(fiber.HeaderAccessControlMaxAge, "600")
	return c.SendStatus(fiber.StatusNoContent)
}

func allowOrigin(c *fiber.Ctx, origin string) {
	c.Set(fiber.HeaderAccessControlAllowOrigin, origin)
	c.Set(fiber.HeaderAccessControlExposeHeaders, "Retry-After")
}

// sameOrigin: the page is Switchboard's own (the demo page).
func sameOrigin(c *fiber.Ctx, origin string) bool { return strings.EqualFold(origin, c.BaseURL()) }

// checkOrigin refuses a browser request from an origin the widget does not list (403) and
// lets the browser read the answer of one it does.
func checkOrigin(c *fiber.Ctx, w *schema.ChatWidget) error {
	origin := c.Get(fiber.HeaderOrigin)
	switch {
	case origin == "":
		return nil
	case sameOrigin(c, origin), slices.Contains(w.AllowedOrigins, origin):
		allowOrigin(c, origin)
		return nil
	}
	return errForbidden("origin %s is not allowed for this chat widget", origin)
}

// --- visitors

// chatVisitor is a visitor token's record.
type chatVisitor struct {
	bun.BaseModel `bun:"table:chat_visitors"`

	TokenHash  string    `bun:"token_hash,pk"`
	ChatID     string    `bun:"chat_id"`
	WidgetID   string    `bun:"widget_id"`
	CustomerID string    `bun:"customer_id"`
	CreatedAt  time.Time `bun:"created_at"`
}

// visitorSession is what visitorAuth puts in Locals("visitor").
type visitorSession struct {
	visitor chatVisitor
	widget  *schema.ChatWidget
	chat    workflows.Chat
}

func visitorOf(c *fiber.Ctx) *visitorSession { return c.Locals("visitor").(*visitorSession) }

func newVisitorToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return "sbv_" + base64.RawURLEncoding.EncodeToString(b)
}

func hashVisitorToken(tok string) string {
	h := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(h[:])
}

// visitorAuth admits a request on /sessions/{id} with that session's visitor token: a missing or
// unknown token is 401, another session's token 403, an expired one 401.
func (s *Server) visitorAuth(c *fiber.Ctx) error {
	tok, found := strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	if !found && strings.HasSuffix(c.Path(), "/stream") {
		tok = c.Query("token") // EventSource cannot send headers
	}
	if tok == "" {
		return errUnauthorized("send the visitor token (from POST /public/chat/v1/sessions) as Authorization: Bearer <token>")
	}
	ctx := c.UserContext()
	var v chatVisitor
	if err := s.db.NewSelect().Model(&v).Where("token_hash = ?", hashVisitorToken(tok)).Scan(ctx); err != nil {
		if isNoRows(err) {
			return errUnauthorized("unknown visitor token")
		}
		return err
	}
	if v.ChatID != c.Params("id") {
		return errForbidden("this visitor token is for another chat session")
	}
	w, err := findOne[schema.ChatWidget](ctx, s.db, "id", v.WidgetID, "the chat widget of this session no longer exists")
	if err != nil {
		return err
	}
	if err := checkOrigin(c, w); err != nil {
		return err
	}
	chat, err := s.visitorChat(ctx, v.ChatID)
	if err != nil {
		return err
	}
	if chat.ClosedAt != nil && time.Since(*chat.ClosedAt) > visitorTokenGrace {
		return errUnauthorized("this visitor token expired: its chat closed more than 24 hours ago")
	}
	c.Locals("visitor", &visitorSession{visitor: v, widget: w, chat: chat})
	return c.Next()
}

// visitorChat reads the chat as last stored, with its queue position when the chats table has
// one (the distributor's column; 0 otherwise). A chat just started whose first write is not
// stored yet is asked of its workflow.
func (s *Server) visitorChat(ctx context.Context, id string) (workflows.Chat, error) {
	row, err := s.loadChatRow(ctx, id)
	if err != nil {
		if e, ok := err.(*Error); ok && e.Status == fiber.StatusNotFound {
			if v, qerr := s.queryChat(ctx, id); qerr == nil {
				return v.Chat, nil
			}
		}
		return workflows.Chat{}, err
	}
	chat := chatOfRow(row)
	var pos sql.NullInt64
	err = s.db.NewRaw("SELECT (to_jsonb(c) ->> 'queue_position')::bigint FROM chats c WHERE c.id = ?", id).Scan(ctx, &pos)
	if err != nil && !isNoRows(err) {
		return chat, err
	}
	chat.QueuePosition = int(pos.Int64)
	return chat, nil
}

// visitorPerson finds or makes the customer person a visitor writes as (see the package comment
// above publicChatRoutes).
func (s *Server) visitorPerson(ctx context.Context, name, email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	name = strings.TrimSpace(name)
	var id string
	err := s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if email != "" {
			// Two first chats with one new e-mail at once make one person.
			if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 7462))", "person-email:"+email); err != nil {
				return err
			}
			var found []schema.Person
			if err := tx.NewSelect().Model(&found).Where("? = ANY(emails)", email).Order("created_at").Scan(ctx); err != nil {
				return err
			}
			for _, p := range found {
				if p.Kind == "person" && (p.Profile == schema.RoleCustomer || p.Profile == "both") {
					id = p.ID
					return nil
				}
			}
			if len(found) > 0 {
				email = "" // staff's (or an organization's) address: a person of their own, without it
			}
		}
		if name == "" {
			name = email
		}
		if name == "" {
			name = "Chat visitor"
		}
		now := time.Now().UTC()
		p := schema.Person{ID: uuid.Must(uuid.NewV7()).String(), Kind: "person", Profile: schema.RoleCustomer,
			Role: schema.RoleCustomer, Name: name, Emails: []string{}, Phones: []string{}, DepartmentIDs: []string{},
			CustomFields: map[string]any{}, IsActive: true, CreatedAt: now, UpdatedAt: now}
		if email != "" {
			p.Emails = []string{email}
		}
		if _, err := tx.NewInsert().Model(&p).Exec(ctx); err != nil {
			return err
		}
		id = p.ID
		return audit(ctx, tx, workflows.SystemActor.ID, "person", p.ID, "create", nil, p)
	})
	return id, err
}

// --- routes

type visitorStartInput struct {
	WidgetKey *string `json:"widgetKey" validate:"required,min=1,max=200"`
	Name      *string `json:"name" validate:"omitnil,max=100"`
	Email     *string `json:"email" validate:"omitnil,email,max=254"`
	Group     *string `json:"group" validate:"omitnil,min=1,max=64"`
	Message   *string `json:"message" validate:"omitnil,max=10000"`
}

// visitorSessionAnswer is a started session.
type visitorSessionAnswer struct {
	Session      workflows.Chat `json:"session"`
	VisitorToken string         `json:"visitorToken"`
	Welcome      string         `json:"welcome"`
}

// firstMessageID is the clientMessageId of the message given with the session's start.
const firstMessageID = "session-start"

// startVisitorSession is POST /public/chat/v1/sessions.
func (s *Server) startVisitorSession(c *fiber.Ctx) error {
	var in visitorStartInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Message != nil && strings.TrimSpace(*in.Message) == "" {
		return errField("message", "must not be blank (leave it out to start without a message)")
	}
	ctx := c.UserContext()
	var w schema.ChatWidget
	if err := s.db.NewSelect().Model(&w).Where("key = ?", *in.WidgetKey).Scan(ctx); err != nil {
		if isNoRows(err) {
			return errField("widgetKey", "no chat widget has this key (was it rotated?)")
		}
		return err
	}
	if err := checkOrigin(c, &w); err != nil {
		return err
	}
	if len(w.GroupIDs) == 0 {
		return errConflict("chat widget %s has no chat group", w.ID)
	}
	groupID := w.GroupIDs[0]
	if in.Group != nil {
		if !slices.Contains(w.GroupIDs, *in.Group) {
			return errField("group", "group %q is not one of this widget's groups %v", *in.Group, w.GroupIDs)
		}
		groupID = *in.Group
	}
	g, err := s.loadChatGroup(ctx, groupID)
	if err != nil {
		return errField("group", "the chat group %s of this widget no longer exists", groupID)
	}
	var name, email string
	if in.Name != nil {
		name = *in.Name
	}
	if in.Email != nil {
		email = *in.Email
	}
	customerID, err := s.visitorPerson(ctx, name, email)
	if err != nil {
		return err
	}
	offline, err := s.offlineReason(ctx, g, time.Now())
	if err != nil {
		return err
	}
	tok := newVisitorToken()
	v := chatVisitor{TokenHash: hashVisitorToken(tok), ChatID: uuid.NewString(), WidgetID: w.ID, CustomerID: customerID,
		CreatedAt: time.Now().UTC()}
	if _, err := s.db.NewInsert().Model(&v).Exec(ctx); err != nil {
		return err
	}
	chat, err := s.startChat(ctx, workflows.ChatInput{ID: v.ChatID, Kind: workflows.ChatKindCustomer, GroupID: g.ID,
		WidgetID: w.ID, CustomerID: customerID, Group: chatGroupSettings(g), Offline: offline})
	if err != nil {
		return err
	}
	if in.Message != nil {
		id := firstMessageID
		if _, err := s.sendChatMessage(c, v.ChatID, customerID, workflows.ChatRoleCustomer,
			chatMessageInput{Body: in.Message, ClientMessageID: &id}); err != nil {
			return err
		}
		if view, err := s.queryChat(ctx, v.ChatID); err == nil {
			chat = view.Chat
		}
	}
	if chat.AgentIDs == nil {
		chat.AgentIDs = []string{}
	}
	return c.Status(fiber.StatusCreated).JSON(visitorSessionAnswer{Session: chat, VisitorToken: tok, Welcome: w.Welcome})
}

func (s *Server) getVisitorSession(c *fiber.Ctx) error {
	return c.JSON(visitorChatJSON(visitorOf(c).chat))
}

func visitorChatJSON(c workflows.Chat) workflows.Chat {
	if c.AgentIDs == nil {
		c.AgentIDs = []string{}
	}
	return c
}

// sendVisitorMessage is POST .../messages: a customer message, through the same path as the
// agents' (sendChatMessage). A retried clientMessageId answers the first message.
func (s *Server) sendVisitorMessage(c *fiber.Ctx) error {
	var in chatMessageInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Body != nil && utf8.RuneCountInString(*in.Body) > workflows.MaxChatMessageChars {
		return errField("body", "must be at most %d characters", workflows.MaxChatMessageChars)
	}
	if (in.Body == nil || strings.TrimSpace(*in.Body) == "") && len(in.AttachmentIDs) == 0 {
		return errField("body", "must not be empty (a message without text carries at least one attachment)")
	}
	v := visitorOf(c)
	m, err := s.sendChatMessage(c, v.visitor.ChatID, v.visitor.CustomerID, workflows.ChatRoleCustomer, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

// listVisitorMessages is GET .../messages?after=<seq>&limit=N, in order.
func (s *Server) listVisitorMessages(c *fiber.Ctx) error {
	limit, err := pageLimit(c)
	if err != nil {
		return err
	}
	after, err := seqParam(c.Query("after"), "after")
	if err != nil {
		return err
	}
	rows, err := s.chatMessagesAfter(c.UserContext(), visitorOf(c).visitor.ChatID, after, limit+1)
	if err != nil {
		return err
	}
	out := page[workflows.ChatMessage]{Data: rows}
	if len(rows) > limit {
		out.Data = rows[:limit]
		next := strconv.FormatInt(rows[limit-1].Seq, 10)
		out.NextCursor = &next
	}
	return c.JSON(out)
}

// closeVisitorSession is POST .../close: the visitor ends the chat (reason customer).
func (s *Server) closeVisitorSession(c *fiber.Ctx) error {
	v := visitorOf(c)
	if v.chat.State == workflows.ChatClosed {
		return errConflict("chat %s is closed", v.visitor.ChatID)
	}
	var out workflows.Chat
	err := s.runChatUpdate(c, v.visitor.ChatID, workflows.UpdateChatClose, "", &workflows.CloseChatInput{
		By: v.visitor.CustomerID, Reason: workflows.CloseByCustomer}, &out)
	if err != nil {
		return err
	}
	return c.JSON(visitorChatJSON(out))
}

// uploadVisitorAttachments is POST .../attachments: the messenger's upload pipeline and
// allow-list, the uploads belonging to the chat (a message of it carries them by attachmentIds).
func (s *Server) uploadVisitorAttachments(c *fiber.Ctx) error {
	body := bodyReader(c) // bodyLimit drains what is left
	v := visitorOf(c)
	if v.chat.State == workflows.ChatClosed {
		return errConflict("chat %s is closed", v.visitor.ChatID)
	}
	chatID := v.visitor.ChatID
	rows, err := s.receiveUploads(c, body, v.visitor.CustomerID, func(a *schema.Attachment) { a.ChatID = &chatID })
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(attachmentsAnswer{Attachments: rows})
}

// getVisitorAttachment is GET .../attachments/{attachmentId}: a file of this chat that a message
// carries, or the visitor's own upload.
func (s *Server) getVisitorAttachment(c *fiber.Ctx) error {
	v := visitorOf(c)
	id := c.Params("attachmentId")
	notFound := errNotFound("no attachment %q in this chat", id)
	if _, err := uuid.Parse(id); err != nil {
		return notFound
	}
	var a schema.Attachment
	err := s.db.NewSelect().Model(&a).Where("id = ?", id).Where("chat_id = ?", v.visitor.ChatID).Scan(c.UserContext())
	if isNoRows(err) || (err == nil && a.ActionID == nil && a.UploadedBy != v.visitor.CustomerID) {
		return notFound
	}
	if err != nil {
		return err
	}
	return s.serveAttachment(c, &a)
}

// visitorStream is GET .../stream: the chat live, as Server-Sent Events. Each message is an
// event `message` whose id is its seq; a client reconnecting with Last-Event-ID (or ?after=)
// gets every message after it, in order, once. The chat itself (state, agent, queuePosition)
// is an event `chat` without an id, sent at the start and whenever it changes: it is the
// present, not history, so it is not replayed.
func (s *Server) visitorStream(c *fiber.Ctx) error {
	after, err := resumeAfter(c)
	if err != nil {
		return err
	}
	id := visitorOf(c).visitor.ChatID
	wake, cancel := s.hub.SubscribeChat(id)
	var last *workflows.Chat
	s.serveStream(c, "chat "+id, wake, cancel, func(w *bufio.Writer) bool {
		var ok bool
		if after, ok = s.sendChatMessages(w, id, after); !ok {
			return false
		}
		return s.sendChatState(w, id, &last)
	})
	return nil
}

// sendChatMessages writes the messages after `after` and returns the last one sent; false
// when the client has gone.
func (s *Server) sendChatMessages(w *bufio.Writer, chatID string, after int64) (int64, bool) {
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		rows, err := s.chatMessagesAfter(ctx, chatID, after, 100)
		cancel()
		if err != nil {
			s.log.Warn("chat stream: read failed", "chat", chatID, "err", err)
			return after, true
		}
		for _, m := range rows {
			data, _ := json.Marshal(m)
			fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", m.Seq, data)
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

// sendChatState writes the chat when it differs from the last one sent.
func (s *Server) sendChatState(w *bufio.Writer, chatID string, last **workflows.Chat) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	chat, err := s.visitorChat(ctx, chatID)
	cancel()
	if err != nil {
		s.log.Warn("chat stream: chat not read", "chat", chatID, "err", err)
		return true
	}
	if *last != nil && (*last).Version == chat.Version && (*last).QueuePosition == chat.QueuePosition {
		return true
	}
	*last = &chat
	data, _ := json.Marshal(visitorChatJSON(chat))
	fmt.Fprintf(w, "event: chat\ndata: %s\n\n", data)
	return w.Flush() == nil
}

// --- the widget's files

// widgetRoutes serves the chat widget's script and its demo page (no token: they are public).
func (s *Server) widgetRoutes(app *fiber.App) {
	app.Get("/widget.js", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, "text/javascript; charset=utf-8")
		c.Set(fiber.HeaderCacheControl, "public, max-age=300")
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.Send(web.WidgetJS)
	})
	app.Get("/widget/demo", func(c *fiber.Ctx) error {
		key := c.Query("key")
		if len(key) > 200 {
			return errField("key", "must be at most 200 characters")
		}
		page, err := web.DemoPage("/widget.js", key)
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
		return c.Send(page)
	})
}

package api

import (
	"context"
	"fmt"
	"io"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/blobstore"
	"github.com/switchboardhq/switchboard/internal/channel"
	"github.com/switchboardhq/switchboard/internal/channel/twilio"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// WhatsApp through Twilio. Twilio posts each inbound message to POST /public/whatsapp/v1/twilio
// (signed with X-Twilio-Signature over PublicURL + the path: refused with 403 otherwise). The
// contact becomes a customer person (channel_contacts), the message a customer message of the
// contact's open WhatsApp chat, or of a new one in the WhatsApp chat group (which goes to the
// offline flow out of hours or with nobody online, like the widget's). The provider's message
// id is the message's clientMessageId, so a webhook delivered twice stores one message; a
// contact's first messages arriving together open one chat (an advisory lock per contact).
// Every inbound message restarts WhatsApp's 24-hour window (channel_contacts.last_inbound_at).

// WhatsAppConfig turns the channel on (nil: the webhook answers 404).
type WhatsAppConfig struct {
	// Sender sends to contacts and Media fetches inbound media (twilio.Client); AuthToken
	// checks Twilio's signatures.
	Sender    channel.Sender
	Media     MediaFetcher
	AuthToken string
	// PublicURL is this API's address as Twilio calls it (the signature covers it).
	PublicURL string
	// GroupID is the chat group WhatsApp chats join.
	GroupID string
}

// MediaFetcher downloads an inbound message's media: the body and its content type.
type MediaFetcher interface {
	Fetch(ctx context.Context, url string) (io.ReadCloser, string, error)
}

// whatsappPath is the inbound webhook's path.
const whatsappPath = "/public/whatsapp/v1/twilio"

func (s *Server) whatsappRoutes(app *fiber.App) {
	app.Post(whatsappPath, s.whatsappInbound)
}

// maxMedia is how many media links of one inbound message are kept.
const maxMedia = 10

func (s *Server) whatsappInbound(c *fiber.Ctx) error {
	wa := s.cfg.WhatsApp
	if wa == nil {
		return errNotFound("WhatsApp is not configured")
	}
	form := url.Values{}
	c.Request().PostArgs().VisitAll(func(k, v []byte) { form.Add(string(k), string(v)) })
	full := strings.TrimRight(wa.PublicURL, "/") + string(c.Request().RequestURI())
	if !twilio.ValidSignature(wa.AuthToken, full, form, c.Get("X-Twilio-Signature")) {
		return errForbidden("the request is not signed by Twilio for %s", full)
	}
	in, err := parseInbound(form)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	chatID, customerID, err := s.whatsappChat(ctx, wa, in)
	if err != nil {
		return err
	}
	msg := chatMessageInput{Body: &in.Body, ClientMessageID: &in.MessageSID}
	seen, err := s.db.NewSelect().Model((*schema.ChatMessageRow)(nil)).
		Where("chat_id = ? AND author_id = ? AND client_message_id = ?", chatID, customerID, in.MessageSID).Exists(ctx)
	if err != nil {
		return err
	}
	if !seen && len(in.Media) > 0 { // a redelivery carries the media already stored
		ids, refused, err := s.storeMedia(ctx, wa, chatID, customerID, in)
		if err != nil {
			return err
		}
		msg.AttachmentIDs = ids
		if refused != "" {
			body := strings.TrimSpace(in.Body + "\n" + refused)
			msg.Body = &body
		}
	}
	if _, err := s.sendChatMessage(c, chatID, customerID, workflows.ChatRoleCustomer, msg); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/xml")
	return c.SendString("<Response/>") // nothing to answer by TwiML: replies go through the Messages API
}

// inboundMessage is what a Twilio webhook carries of one WhatsApp message.
type inboundMessage struct {
	Contact, Name, Body, MessageSID string
	Media                           []string // MediaUrl0..N
}

// parseInbound reads Twilio's parameters.
func parseInbound(form url.Values) (inboundMessage, error) {
	in := inboundMessage{MessageSID: form.Get("MessageSid"), Name: strings.TrimSpace(form.Get("ProfileName")),
		Contact: strings.TrimPrefix(form.Get("From"), "whatsapp:"), Body: strings.TrimSpace(form.Get("Body"))}
	fields := map[string]string{}
	for k, vs := range form { // NUL and control bytes never reach a chat or PostgreSQL
		for _, v := range vs {
			if why := textProblem(v); why != "" && len(k) <= 64 && textProblem(k) == "" {
				fields[k] = why
			}
		}
	}
	if in.MessageSID == "" || len(in.MessageSID) > 64 {
		fields["MessageSid"] = "is required (at most 64 characters)"
	}
	if !strings.HasPrefix(form.Get("From"), "whatsapp:+") || len(in.Contact) < 4 || len(in.Contact) > 20 {
		fields["From"] = "must be whatsapp:+<number>"
	}
	n, _ := strconv.Atoi(form.Get("NumMedia"))
	for i := 0; i < min(n, maxMedia); i++ {
		if u := form.Get(fmt.Sprintf("MediaUrl%d", i)); u != "" {
			in.Media = append(in.Media, u)
		}
	}
	if in.Body == "" && len(in.Media) == 0 {
		fields["Body"] = "an empty message (no text, no media)"
	}
	if len(fields) > 0 {
		return in, errInvalid(fields)
	}
	return in, nil
}

// whatsappChat is the contact's open WhatsApp chat, or a new one, with the contact's customer.
func (s *Server) whatsappChat(ctx context.Context, wa *WhatsAppConfig, in inboundMessage) (chatID, customerID string, err error) {
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 7463))", "whatsapp:"+in.Contact); err != nil {
			return err
		}
		var err error
		if customerID, err = s.whatsappContact(ctx, tx, in); err != nil {
			return err
		}
		var open []string
		if err := tx.NewRaw(`SELECT id FROM chats WHERE channel = ? AND channel_contact = ? AND state <> ?
			ORDER BY created_at DESC LIMIT 1`, schema.ChannelWhatsApp, in.Contact, workflows.ChatClosed).Scan(ctx, &open); err != nil && !isNoRows(err) {
			return err
		}
		if len(open) > 0 {
			chatID = open[0]
			return nil
		}
		g, err := s.loadChatGroup(ctx, wa.GroupID)
		if err != nil {
			return fmt.Errorf("the WhatsApp chat group %s: %w", wa.GroupID, err)
		}
		offline, err := s.offlineReason(ctx, g, time.Now())
		if err != nil {
			return err
		}
		// Started inside the lock: the chat's creation is stored before the workflow answers,
		// so the next message of the contact finds it.
		chat, err := s.startChat(ctx, workflows.ChatInput{Kind: workflows.ChatKindCustomer, GroupID: g.ID, CustomerID: customerID,
			Group: chatGroupSettings(g), Offline: offline, Channel: schema.ChannelWhatsApp, ChannelContact: in.Contact})
		chatID = chat.ID
		return err
	})
	return chatID, customerID, err
}

// whatsappContact is the contact's customer person (made on their first message), and
// restarts their 24-hour window.
func (s *Server) whatsappContact(ctx context.Context, tx bun.Tx, in inboundMessage) (string, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	var cc schema.ChannelContact
	err := tx.NewSelect().Model(&cc).Where("channel = ? AND contact = ?", schema.ChannelWhatsApp, in.Contact).Scan(ctx)
	if err != nil && !isNoRows(err) {
		return "", err
	}
	if isNoRows(err) {
		name := in.Name
		if name == "" {
			name = in.Contact
		}
		p := schema.Person{ID: uuid.Must(uuid.NewV7()).String(), Kind: "person", Profile: schema.RoleCustomer,
			Role: schema.RoleCustomer, Name: name, Emails: []string{}, Phones: []string{in.Contact}, DepartmentIDs: []string{},
			CustomFields: map[string]any{}, IsActive: true, CreatedAt: now, UpdatedAt: now}
		if _, err := tx.NewInsert().Model(&p).Exec(ctx); err != nil {
			return "", err
		}
		if err := audit(ctx, tx, workflows.SystemActor.ID, "person", p.ID, "create", nil, p); err != nil {
			return "", err
		}
		cc = schema.ChannelContact{Channel: schema.ChannelWhatsApp, Contact: in.Contact, CustomerID: p.ID}
		if _, err := tx.NewInsert().Model(&cc).Exec(ctx); err != nil {
			return "", err
		}
	}
	_, err = tx.NewRaw(`UPDATE channel_contacts SET last_inbound_at = GREATEST(COALESCE(last_inbound_at, ?), ?)
		WHERE channel = ? AND contact = ?`, now, now, schema.ChannelWhatsApp, in.Contact).Exec(ctx)
	return cc.CustomerID, err
}

// whatsappContactOf is the WhatsApp contact a ticket's public messages go to (a chat ticket
// of a WhatsApp chat) and when their 24-hour window ends; "" when the ticket is not one.
func (s *Server) whatsappContactOf(ctx context.Context, ticketID int64) (string, *time.Time, error) {
	var ct schema.ChatTicket
	err := s.db.NewSelect().Model(&ct).Where("ticket_id = ? AND channel = ?", ticketID, schema.ChannelWhatsApp).Scan(ctx)
	if isNoRows(err) || err == nil && ct.ChannelContact == nil {
		return "", nil, nil
	}
	if err != nil {
		return "", nil, err
	}
	ends, err := schema.ChannelWindowEndsAt(ctx, s.db, ct.Channel, ct.ChannelContact)
	return *ct.ChannelContact, ends, err
}

// checkWhatsAppWindow refuses free text to a WhatsApp contact whose 24-hour window has ended,
// before anything is stored or sent: only a message template may reach them then.
func (s *Server) checkWhatsAppWindow(ctx context.Context, ticketID int64) error {
	contact, ends, err := s.whatsappContactOf(ctx, ticketID)
	if err != nil || contact == "" {
		return err
	}
	if ends == nil || !time.Now().Before(*ends) {
		at := "never opened"
		if ends != nil {
			at = "ended at " + ends.Format(time.RFC3339)
		}
		return errField("body", "the WhatsApp 24-hour window of %s %s: free text cannot be sent; a message template is required "+
			"(POST /api/v1/tickets/%d/whatsapp-template)", contact, at, ticketID)
	}
	return nil
}

// relayToWhatsApp sends a staff member's public message on a WhatsApp chat ticket to the
// contact, once (schema.SendOnce). The message is on the ticket whatever the send does; a
// failed send is recorded in whatsapp_outbox and logged.
func (s *Server) relayToWhatsApp(ctx context.Context, ticketID, actionID int64, in *workflows.AddActionInput) {
	wa := s.cfg.WhatsApp
	if wa == nil || in.Type != "public" || in.Actor.Role == schema.RoleCustomer {
		return
	}
	contact, _, err := s.whatsappContactOf(ctx, ticketID)
	if err == nil && contact != "" {
		key := fmt.Sprintf("ticket/%d/%d", ticketID, actionID)
		err = schema.SendOnce(ctx, s.db, key, contact, in.Body, "", func() (string, error) {
			return wa.Sender.Send(ctx, channel.Outbound{To: contact, Body: in.Body})
		})
	}
	if err != nil {
		s.log.Warn("WhatsApp message not sent", "ticket", ticketID, "action", actionID, "err", err)
	}
}

// storeMedia downloads the message's media into the attachment store, through the uploads'
// allow-list, as files of the chat uploaded by the customer; answers their ids, and a line
// saying which were refused (the message keeps its text and the files that passed).
func (s *Server) storeMedia(ctx context.Context, wa *WhatsAppConfig, chatID, customerID string, in inboundMessage) ([]string, string, error) {
	store := s.cfg.Blobs
	if store == nil || wa.Media == nil {
		return nil, "(files were sent, but this desk stores no files)", nil
	}
	maxBytes := s.cfg.AttachmentMaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultAttachmentMaxBytes
	}
	var staged []*blobstore.Staged
	var rows []schema.Attachment
	var refused []string
	ok := false
	defer func() {
		if !ok {
			for _, st := range staged {
				store.Discard(ctx, st)
			}
		}
	}()
	for i, u := range in.Media {
		body, ctype, err := wa.Media.Fetch(ctx, u)
		if err != nil {
			refused = append(refused, fmt.Sprintf("file %d could not be fetched", i+1))
			continue
		}
		name := fmt.Sprintf("whatsapp-%d%s", i+1, extensionOf(ctype))
		st, typ, err := s.stageFile(ctx, store, body, name, maxBytes)
		body.Close()
		if err != nil {
			refused = append(refused, fmt.Sprintf("file %d was not accepted: %s", i+1, toAPIError(err).Message))
			continue
		}
		staged = append(staged, st)
		chat := chatID
		rows = append(rows, schema.Attachment{ID: uuid.Must(uuid.NewV7()).String(), SHA256: st.SHA256, Size: st.Size,
			ContentType: typ.ContentType, Filename: name, UploadedBy: customerID, ChatID: &chat,
			CreatedAt: time.Now().UTC().Truncate(time.Microsecond)})
	}
	if len(rows) > 0 {
		if err := s.commitUploads(ctx, store, staged, rows); err != nil {
			return nil, "", err
		}
	}
	ok = true
	ids := make([]string, len(rows))
	for i, r := range rows {
		ids[i] = r.ID
	}
	note := ""
	if len(refused) > 0 {
		note = "(" + strings.Join(refused, "; ") + ")"
	}
	return ids, note, nil
}

// mediaExtensions are the usual extensions of what WhatsApp carries (mime's lists several).
var mediaExtensions = map[string]string{"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp",
	"audio/ogg": ".ogg", "audio/mpeg": ".mp3", "audio/amr": ".amr", "video/mp4": ".mp4", "application/pdf": ".pdf",
	"text/plain": ".txt"}

// extensionOf is a file name extension for a media type ("" when none is known).
func extensionOf(contentType string) string {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	if ext, ok := mediaExtensions[mt]; ok {
		return ext
	}
	if exts, _ := mime.ExtensionsByType(mt); len(exts) > 0 {
		slices.Sort(exts)
		return exts[0]
	}
	return ""
}

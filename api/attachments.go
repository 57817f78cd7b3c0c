package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/switchboardhq/switchboard/internal/blobstore"
	"github.com/switchboardhq/switchboard/internal/filetype"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// Attachments: files uploaded to a ticket's messenger, typed by their content (internal/filetype),
// streamed into the content-addressed blob store (internal/blobstore) and served with the
// visibility of the message that carries them. An upload no message references within 24 hours
// is removed by its AttachmentExpiry workflow.

func (s *Server) attachmentRoutes(r fiber.Router) {
	r.Post("/tickets/:id/attachments", requirePerm(PermTicketsWrite), s.uploadAttachments)
	r.Get("/attachments/:id", requirePerm(PermTicketsRead), s.getAttachment)
}

// DefaultAttachmentMaxBytes is the largest file an upload may carry unless configured
// (SWITCHBOARD_ATTACHMENT_MAX_BYTES).
const DefaultAttachmentMaxBytes = 25 << 20

// maxFilesPerUpload bounds the file parts of one request.
const maxFilesPerUpload = 20

// maxFilenameBytes is the longest file name kept (most file systems' limit).
const maxFilenameBytes = 255

// drainLimit is how much of a refused upload's remaining body is read and thrown away so that
// a client still sending gets the answer; past it the connection is closed after the answer.
const drainLimit = 8 << 20

var uploadPath = regexp.MustCompile(`(?i)^(/api/v1/tickets/[^/]+/attachments|/api/v1/chats/[^/]+/attachments|/public/chat/v1/sessions/[^/]+/attachments)/?$`)

// streamedBody tells the requests whose body is read as a stream by their handler and never held
// in memory: attachment uploads (a ticket's, a chat session's). Every other request's body is read whole, within the body
// limit, by bodyLimit before anything else sees it.
func streamedBody(c *fiber.Ctx) bool {
	return c.Method() == fiber.MethodPost && uploadPath.MatchString(c.Path())
}

// bodyReader is the request body as a stream: fasthttp's (StreamRequestBody), or the buffered
// body when there is no stream.
func bodyReader(c *fiber.Ctx) io.Reader {
	if r := c.Context().RequestBodyStream(); r != nil {
		return r
	}
	return bytes.NewReader(c.Body())
}

// readBody reads a streamed request body into memory, up to hard bytes, for every route but
// uploads: the whole-body limit fasthttp enforced itself before request bodies were streamed. A
// body past hard is refused without being read further, and its connection closed.
func readBody(c *fiber.Ctx, hard int) error {
	stream := c.Context().RequestBodyStream()
	if stream == nil {
		return nil
	}
	if cl := c.Request().Header.ContentLength(); cl > hard {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	buf, err := io.ReadAll(io.LimitReader(stream, int64(hard)+1))
	if err != nil {
		c.Context().SetConnectionClose()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fiber.ErrRequestTimeout
		}
		return errBadRequest("the request body could not be read: %v", err)
	}
	if len(buf) > hard {
		c.Context().SetConnectionClose()
		return fiber.ErrRequestEntityTooLarge
	}
	c.Request().SetBodyRaw(buf)
	return nil
}

// drain reads what is left of a streamed body, up to drainLimit; the connection is closed after
// the answer when more is left or the body is broken.
func drain(c *fiber.Ctx, r io.Reader) {
	if _, err := io.CopyN(io.Discard, r, drainLimit); !errors.Is(err, io.EOF) {
		c.Context().SetConnectionClose()
	}
}

type attachmentsAnswer struct {
	Attachments []schema.Attachment `json:"attachments"`
}

// uploadAttachments takes a multipart/form-data body of one or more "file" parts for a ticket's
// messenger (receiveUploads).
func (s *Server) uploadAttachments(c *fiber.Ctx) error {
	body := bodyReader(c) // bodyLimit drains what is left
	if s.cfg.Blobs == nil {
		return errUnavailable("the attachment store")
	}
	t, err := s.loadTicket(c)
	if err != nil {
		return err
	}
	p := principal(c)
	if p.isCustomer() && t.BaseStatus == schema.BaseClosed {
		return errConflict("ticket %d is closed; open a new ticket", t.ID)
	}
	ctx := c.UserContext()
	rows, err := s.receiveUploads(c, body, p.Person.ID, func(a *schema.Attachment) { a.TicketID = t.ID })
	if err != nil {
		return err
	}
	if err := schema.NotifyTicket(ctx, s.db, t.ID); err != nil { // the ticket's streams say it is ready
		s.log.Warn("attachment ready not notified", "ticket", t.ID, "err", err)
	}
	return c.Status(fiber.StatusCreated).JSON(attachmentsAnswer{Attachments: rows})
}

// receiveUploads is the upload pipeline the ticket messenger and chat sessions share: a
// multipart/form-data body of one or more "file" parts. Each part is named, typed from its
// first bytes, then streamed into the blob store while it is hashed and counted; any refusal
// refuses the whole request and nothing of it is kept. owner sets what the uploads belong to
// (a ticket or a chat) on each row before it is stored.
func (s *Server) receiveUploads(c *fiber.Ctx, body io.Reader, uploader string, owner func(*schema.Attachment)) ([]schema.Attachment, error) {
	store := s.cfg.Blobs
	if store == nil {
		return nil, errUnavailable("the attachment store")
	}
	mt, params, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEMultipartForm || params["boundary"] == "" {
		return nil, errBadRequest("send the files as multipart/form-data, one \"file\" part each")
	}
	ctx := c.UserContext()
	var staged []*blobstore.Staged
	var rows []schema.Attachment
	ok := false
	defer func() {
		if !ok {
			for _, st := range staged {
				store.Discard(ctx, st)
			}
		}
	}()
	maxBytes := s.cfg.AttachmentMaxBytes
	if maxBytes <= 0 {
		maxBytes = DefaultAttachmentMaxBytes
	}
	mr := multipart.NewReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, errBadRequest("malformed multipart body: %v", err)
		}
		if part.FormName() != "file" {
			name := part.FormName()
			if why := textProblem(name); why != "" || name == "" {
				name = "body"
			}
			return nil, errField(name, "unknown part; send files as \"file\" parts")
		}
		if len(staged) == maxFilesPerUpload {
			return nil, errField("file", "at most %d files per upload", maxFilesPerUpload)
		}
		name, err := checkFilename(part.FileName())
		if err != nil {
			return nil, err
		}
		st, typ, err := s.stageFile(ctx, store, part, name, maxBytes)
		if err != nil {
			return nil, err
		}
		staged = append(staged, st)
		row := schema.Attachment{ID: uuid.Must(uuid.NewV7()).String(), SHA256: st.SHA256,
			Size: st.Size, ContentType: typ.ContentType, Filename: name, UploadedBy: uploader,
			CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
		owner(&row)
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil, errField("file", "send at least one \"file\" part")
	}
	if err := s.commitUploads(ctx, store, staged, rows); err != nil {
		return nil, err
	}
	ok = true
	return rows, nil
}

// commitUploads starts the expiry of each staged upload and writes their rows, promoting the
// staged content. On an error the caller discards what was staged.
func (s *Server) commitUploads(ctx context.Context, store *blobstore.Store, staged []*blobstore.Staged, rows []schema.Attachment) error {
	// Each upload's expiry starts first: a row is never left without the workflow that removes
	// it. An expiry whose row was never written (the insert below failed) removes the content.
	for _, r := range rows {
		_, err := s.temporal.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: workflows.AttachmentWorkflowID(r.ID),
			TaskQueue: s.cfg.TaskQueue, WorkflowExecutionErrorWhenAlreadyStarted: true},
			workflows.AttachmentExpiryWorkflowType, workflows.AttachmentExpiryInput{AttachmentID: r.ID,
				After: s.cfg.AttachmentExpireAfter, SHA256: r.SHA256})
		if err != nil {
			return err
		}
	}
	return schema.InsertAttachments(ctx, s.db, rows, func(ctx context.Context, sha string) error {
		for _, st := range staged {
			if st.SHA256 == sha {
				if err := store.Promote(ctx, st); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

// stageFile types one file from its first bytes and streams it into the store.
func (s *Server) stageFile(ctx context.Context, store *blobstore.Store, part io.Reader, name string, maxBytes int64) (*blobstore.Staged, filetype.Type, error) {
	head := make([]byte, filetype.HeadSize)
	n, err := io.ReadFull(part, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return nil, filetype.Type{}, errBadRequest("the file %q could not be read: %v", name, err)
	}
	head = head[:n]
	if int64(n) > maxBytes {
		return nil, filetype.Type{}, errTooLargeFile(name, maxBytes)
	}
	typ, err := filetype.Check(name, head)
	if err != nil {
		return nil, filetype.Type{}, &Error{Status: fiber.StatusUnprocessableEntity, Code: "validation_failed",
			Message: err.Error(), Fields: map[string]string{"file": err.Error()}}
	}
	st, err := store.Stage(ctx, io.MultiReader(bytes.NewReader(head), part), maxBytes, typ.ContentType)
	switch {
	case errors.Is(err, blobstore.ErrTooLarge):
		return nil, typ, errTooLargeFile(name, maxBytes)
	case err != nil && ctx.Err() == nil && isBodyError(err):
		return nil, typ, errBadRequest("the file %q could not be read: %v", name, err)
	case err != nil:
		return nil, typ, err
	}
	return st, typ, nil
}

// isBodyError tells a broken request body (a malformed part, a client gone) from a store failure.
func isBodyError(err error) bool {
	return errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "multipart")
}

func errTooLargeFile(name string, max int64) *Error {
	msg := fmt.Sprintf("%q is larger than the limit of %d bytes (%s) per file", name, max, humanBytes(max))
	return &Error{Status: fiber.StatusRequestEntityTooLarge, Code: "payload_too_large", Message: msg,
		Fields: map[string]string{"file": msg}}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkFilename applies the API's text policy to a file name: valid UTF-8 with no control
// character at all (NUL, tab, line breaks included), at most 255 bytes, not blank, no path (the
// multipart reader keeps only the last path element). A name that breaks it is refused with a
// 422 naming it (escaped), never silently rewritten: the name shown to the recipient is the
// one the sender chose.
func checkFilename(raw string) (string, error) {
	name := strings.TrimSpace(raw)
	fail := func(why string) error {
		return errField("file", "the file name %q %s", raw, why)
	}
	switch {
	case name == "":
		return "", errField("file", "each file part needs a file name")
	case !utf8.ValidString(name):
		return "", fail("is not valid UTF-8")
	case len(name) > maxFilenameBytes:
		return "", fail(fmt.Sprintf("is longer than %d bytes", maxFilenameBytes))
	case name == "." || name == "..":
		return "", fail("is not a file name")
	}
	for _, r := range name {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == '\u2028' || r == '\u2029' {
			return "", fail(fmt.Sprintf("contains the control character U+%04X", r))
		}
	}
	return name, nil
}

// --- download

func (s *Server) getAttachment(c *fiber.Ctx) error {
	ctx := c.UserContext()
	id := c.Params("id")
	notFound := errNotFound("no attachment %q", id)
	if _, err := uuid.Parse(id); err != nil {
		return notFound
	}
	var a schema.Attachment
	if err := s.db.NewSelect().Model(&a).Where("id = ?", id).Scan(ctx); err != nil {
		if isNoRows(err) {
			return notFound
		}
		return err
	}
	visible, err := s.attachmentVisible(ctx, principal(c), &a)
	if err != nil {
		return err
	}
	if !visible {
		return notFound
	}
	return s.serveAttachment(c, &a)
}

// serveAttachment answers a download of a (whose visibility the caller checked): the stored
// content, as its detected type, never rendered by the browser.
func (s *Server) serveAttachment(c *fiber.Ctx, a *schema.Attachment) error {
	ctx := c.UserContext()
	notFound := errNotFound("no attachment %q", a.ID)
	if s.cfg.Blobs == nil {
		return errUnavailable("the attachment store")
	}
	obj, err := s.cfg.Blobs.Open(ctx, a.SHA256)
	if errors.Is(err, blobstore.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, a.ContentType)
	c.Set(fiber.HeaderContentDisposition, contentDisposition(a.Filename))
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'; sandbox")
	c.Set(fiber.HeaderCacheControl, "private, max-age=0, must-revalidate")
	c.Set(fiber.HeaderETag, `"`+a.SHA256+`"`)
	if c.Method() == fiber.MethodHead {
		_ = obj.Close()
		c.Response().Header.SetContentLength(int(obj.Size))
		c.Response().SkipBody = true
		return nil
	}
	// fasthttp sends Content-Length from the size and closes the reader when done.
	c.Context().SetBodyStream(obj, int(obj.Size))
	return nil
}

// contentDisposition is `attachment; filename="<ASCII fallback>"; filename*=UTF-8”<RFC 5987>`:
// the fallback replaces every character that is not printable ASCII, a quote or a backslash.
func contentDisposition(name string) string {
	var ascii, ext strings.Builder
	for _, r := range name {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			ascii.WriteByte('_')
		} else {
			ascii.WriteRune(r)
		}
	}
	for _, b := range []byte(name) {
		if isAttrChar(b) {
			ext.WriteByte(b)
		} else {
			fmt.Fprintf(&ext, "%%%02X", b)
		}
	}
	return fmt.Sprintf(`attachment; filename="%s"; filename*=UTF-8''%s`, ascii.String(), ext.String())
}

// isAttrChar is RFC 5987's attr-char.
func isAttrChar(b byte) bool {
	switch {
	case b >= 'a' && b <= 'z', b >= 'A' && b <= 'Z', b >= '0' && b <= '9':
		return true
	}
	return strings.IndexByte("!#$&+-.^_`|~", b) >= 0
}

// --- visibility: what the messages code calls

// attachmentVisible tells whether p may download attachment a. Staff see every attachment. A
// customer must see the ticket (loadTicket's rules: a client of it, or of their organisation
// when allowed; never an internal ticket), and then sees an unreferenced upload only when they
// uploaded it, and a referenced one only when the message carrying it is public: a customer never
// gets an internal note's file. Callers answer "not visible" with a 404.
func (s *Server) attachmentVisible(ctx context.Context, p *Principal, a *schema.Attachment) (bool, error) {
	if !p.isCustomer() {
		return true, nil
	}
	if a.ChatID != nil {
		return s.chatAttachmentVisible(ctx, p, a)
	}
	var t schema.Ticket
	if err := s.db.NewSelect().Model(&t).Where("id = ?", a.TicketID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return false, nil
		}
		return false, err
	}
	clients, err := s.visibleClients(ctx, p)
	if err != nil {
		return false, err
	}
	if !canSee(&t, clients) {
		return false, nil
	}
	if a.ActionID == nil {
		return a.UploadedBy == p.Person.ID, nil
	}
	var types []string
	err = s.db.NewSelect().Model((*schema.Action)(nil)).Column("type").
		Where("ticket_id = ?", a.TicketID).Where("id = ?", *a.ActionID).Scan(ctx, &types)
	if err != nil && !isNoRows(err) {
		return false, err
	}
	return len(types) == 1 && types[0] == "public", nil
}

// chatAttachmentVisible: a customer downloads a chat's upload once a message carries it (every
// message of a customer chat is the customer's to read), when the chat is theirs (its customer
// is among the clients they see) or its ticket is one they see (the transcript joined it);
// before it is sent, only its uploader. An internal chat's files are never a customer's.
func (s *Server) chatAttachmentVisible(ctx context.Context, p *Principal, a *schema.Attachment) (bool, error) {
	if a.ActionID == nil {
		return a.UploadedBy == p.Person.ID, nil
	}
	var ch schema.ChatRow
	if err := s.db.NewSelect().Model(&ch).Column("kind", "customer_id", "ticket_id").Where("id = ?", *a.ChatID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return false, nil
		}
		return false, err
	}
	if ch.Kind != workflows.ChatKindCustomer {
		return false, nil
	}
	clients, err := s.visibleClients(ctx, p)
	if err != nil {
		return false, err
	}
	if ch.CustomerID != nil && contains(clients, *ch.CustomerID) {
		return true, nil
	}
	if ch.TicketID == nil {
		return false, nil
	}
	var t schema.Ticket
	if err := s.db.NewSelect().Model(&t).Where("id = ?", *ch.TicketID).Scan(ctx); err != nil {
		if isNoRows(err) {
			return false, nil
		}
		return false, err
	}
	return canSee(&t, clients), nil
}

// attachmentsForMessage checks the attachment ids a message of ticketID is sent with, by p: each
// must be an upload to that ticket not yet carried by another message, uploaded by p unless p
// is staff. A bad id is a 422 naming attachmentIds[i]. The messages code calls it before the
// send, and schema.ReferenceAttachments from the ticket's projection once the action exists.
func (s *Server) attachmentsForMessage(ctx context.Context, p *Principal, ticketID int64, ids []string) ([]schema.Attachment, error) {
	return s.messageFiles(ctx, ids, func(a *schema.Attachment) bool {
		return a.TicketID == ticketID && (!p.isCustomer() || a.UploadedBy == p.Person.ID)
	}, fmt.Sprintf("uploaded to ticket %d", ticketID), func(ids []string) ([]string, error) {
		return schema.ClaimAttachments(ctx, s.db, ticketID, ids)
	})
}

// messageFiles checks the uploads a message names, for tickets' and chats' messages alike:
// each listed once, an upload the sender may send here (usable; where says where it must have
// been uploaded), not carried by another message. Then claim claims them, so their expiry keeps
// them until the message is stored; one that expired since the read is refused. A bad id is a
// 422 naming attachmentIds[i].
func (s *Server) messageFiles(ctx context.Context, ids []string, usable func(*schema.Attachment) bool, where string,
	claim func([]string) ([]string, error)) ([]schema.Attachment, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []schema.Attachment
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if _, err := uuid.Parse(id); err == nil {
			valid = append(valid, id)
		}
	}
	if len(valid) > 0 {
		if err := s.db.NewSelect().Model(&rows).Where("id IN (?)", bun.In(valid)).Scan(ctx); err != nil && !isNoRows(err) {
			return nil, err
		}
	}
	byID := map[string]schema.Attachment{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	out := make([]schema.Attachment, 0, len(ids))
	seen := map[string]bool{}
	for i, id := range ids {
		field := fmt.Sprintf("attachmentIds[%d]", i)
		a, found := byID[id]
		switch {
		case seen[id]:
			return nil, errField(field, "attachment %q is listed twice", id)
		case !found || !usable(&a):
			return nil, errField(field, "no attachment %q %s", id, where)
		case a.ActionID != nil:
			return nil, errField(field, "attachment %q is already part of another message", id)
		}
		seen[id] = true
		out = append(out, a)
	}
	claimed, err := claim(ids)
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		if !slices.Contains(claimed, id) {
			return nil, errField(fmt.Sprintf("attachmentIds[%d]", i), "attachment %q expired or was taken by another message; upload it again", id)
		}
	}
	return out, nil
}

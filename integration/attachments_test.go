package integration

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"mime/multipart"
	"net"
	"net/textproto"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/switchboardhq/switchboard/internal/filetype/sample"
	"github.com/switchboardhq/switchboard/schema"
	"github.com/switchboardhq/switchboard/workflows"
)

// upFile is one "file" part of an upload. disposition, when set, is the part's whole
// Content-Disposition (to send names the multipart writer would not).
type upFile struct {
	name        string
	data        []byte
	disposition string
}

func multipartBody(t *testing.T, files ...upFile) ([]byte, string) {
	t.Helper()
	var b bytes.Buffer
	w := multipart.NewWriter(&b)
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", fmt.Sprintf(`form-data; name="file"; filename=%q`, f.name))
		if f.disposition != "" {
			h.Set("Content-Disposition", f.disposition)
		}
		h.Set("Content-Type", "application/octet-stream") // what a client says is never used
		pw, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = pw.Write(f.data)
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	return b.Bytes(), w.FormDataContentType()
}

type attachmentJSON struct {
	ID          string    `json:"id"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"contentType"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"createdAt"`
}

func (s *stack) upload(t *testing.T, token string, ticketID int64, files ...upFile) *resp {
	t.Helper()
	body, ct := multipartBody(t, files...)
	return s.call(t, token, "POST", fmt.Sprintf("/api/v1/tickets/%d/attachments", ticketID), body, header{"Content-Type", ct})
}

func (s *stack) uploaded(t *testing.T, token string, ticketID int64, files ...upFile) []attachmentJSON {
	t.Helper()
	var out struct {
		Attachments []attachmentJSON `json:"attachments"`
	}
	s.upload(t, token, ticketID, files...).expect(201).decode(&out)
	require.Len(t, out.Attachments, len(files))
	return out.Attachments
}

func (s *stack) download(t *testing.T, token, id string) *resp {
	t.Helper()
	return s.call(t, token, "GET", "/api/v1/attachments/"+id, nil)
}

// stored is what is kept: attachment rows and content blobs.
func (s *stack) stored(t *testing.T) (rows, blobs int) {
	t.Helper()
	ctx := context.Background()
	n, err := s.db.NewSelect().Model((*schema.Attachment)(nil)).Count(ctx)
	require.NoError(t, err)
	rows = int(n)
	blobs, err = s.blobs.Count(ctx, "sha256/")
	require.NoError(t, err)
	tmp, err := s.blobs.Count(ctx, "tmp/")
	require.NoError(t, err)
	require.Zero(t, tmp, "no temporary upload is left behind")
	return rows, blobs
}

// unique makes content no other test uploads: text with a random line.
func unique(prefix string) []byte {
	b := make([]byte, 8)
	_, _ = rand.Read(b)
	return []byte(prefix + " " + hex.EncodeToString(b) + "\n")
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// actionID adds an action to a ticket and returns its id, as staff see it.
func (s *stack) actionID(t *testing.T, token string, ticketID int64, typ, body string) int {
	t.Helper()
	s.call(t, token, "POST", fmt.Sprintf("/api/v1/tickets/%d/actions", ticketID), map[string]any{"type": typ, "body": body}).expect(200)
	for _, a := range s.ticket(t, s.admin, ticketID).Actions {
		if a.Body == body {
			return a.ID
		}
	}
	t.Fatalf("action %q not found", body)
	return 0
}

func TestAttachmentUploadAndDownload(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Broken screen", "clientIds": []string{p.customer}})

	pdf, png, wav := sample.PDF(), sample.PNG(), sample.WAV()
	up := s.uploaded(t, p.agentTok, tk.ID,
		upFile{name: "relatório de março.pdf", data: pdf},
		upFile{name: "screen.png", data: png},
		upFile{name: "voice-note.wav", data: wav})
	want := []struct {
		name, ct string
		data     []byte
	}{{"relatório de março.pdf", "application/pdf", pdf}, {"screen.png", "image/png", png}, {"voice-note.wav", "audio/wav", wav}}
	for i, w := range want {
		a := up[i]
		require.Equal(t, w.name, a.Filename)
		require.Equal(t, w.ct, a.ContentType, "typed from the content, not the part's Content-Type")
		require.Equal(t, int64(len(w.data)), a.Size)
		require.Equal(t, sha(w.data), a.SHA256)
		require.WithinDuration(t, time.Now(), a.CreatedAt, time.Minute)

		r := s.download(t, p.agentTok, a.ID).expect(200)
		require.Equal(t, w.data, r.body)
		require.Equal(t, w.ct, r.header.Get("Content-Type"))
		require.Equal(t, fmt.Sprint(len(w.data)), r.header.Get("Content-Length"))
		require.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
		require.True(t, strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment; "), r.header.Get("Content-Disposition"))
	}
	require.Equal(t, `attachment; filename="relat_rio de mar_o.pdf"; filename*=UTF-8''relat%C3%B3rio%20de%20mar%C3%A7o.pdf`,
		s.download(t, p.agentTok, up[0].ID).header.Get("Content-Disposition"))

	// A customer records a voice note (Ogg Opus) on their own ticket, and gets it back.
	ogg := sample.OggOpus()
	note := s.uploaded(t, p.customerTok, tk.ID, upFile{name: "voice.ogg", data: ogg})[0]
	require.Equal(t, "audio/ogg", note.ContentType)
	r := s.download(t, p.customerTok, note.ID).expect(200)
	require.Equal(t, ogg, r.body)
	require.Equal(t, "audio/ogg", r.header.Get("Content-Type"))
	// Staff see it too.
	s.download(t, p.agentTok, note.ID).expect(200)
}

func TestAttachmentRefusals(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Refusals", "clientIds": []string{p.customer}})
	rows, blobs := s.stored(t)

	message := func(r *resp) string {
		var e struct {
			Error struct {
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields"`
			} `json:"error"`
		}
		r.decode(&e)
		return e.Error.Message
	}

	// A program renamed .pdf: refused, named, with the allowed types.
	for _, exe := range [][]byte{sample.ELF(), sample.EXE()} {
		r := s.upload(t, p.agentTok, tk.ID, upFile{name: "invoice.pdf", data: exe})
		r.expectError(422, "validation_failed", "file")
		require.Contains(t, message(r), `"invoice.pdf"`)
		require.Contains(t, message(r), "allowed: AAC, AVI, DOCX, FLAC, GIF, JPEG, M4A, MATROSKA, MP3, MP4, MSVIDEO, ODT, OGG, OPUS, PDF, PNG, PPT, PPTX, QUICKTIME, TXT, VORBIS, WAV, WEBM, WMV, XLS, XLSX")
	}
	// A PNG named .pdf.
	r := s.upload(t, p.agentTok, tk.ID, upFile{name: "scan.pdf", data: sample.PNG()})
	r.expectError(422, "validation_failed", "file")
	require.Contains(t, message(r), `"scan.pdf" is named .pdf but its content is image/png`)

	// A good file and a bad one in the same request: neither is kept.
	s.upload(t, p.agentTok, tk.ID, upFile{name: "ok.pdf", data: sample.PDF()}, upFile{name: "bad.pdf", data: sample.ELF()}).
		expectError(422, "validation_failed", "file")

	// Over the per-file limit: 413 naming the file and the limit, after a good file.
	big := bytes.Repeat([]byte("0123456789abcdef\n"), testAttachmentMax/17+1)
	first := unique("first")
	r = s.upload(t, p.agentTok, tk.ID, upFile{name: "first.txt", data: first}, upFile{name: "huge.txt", data: big})
	r.expectError(413, "payload_too_large", "file")
	require.Contains(t, message(r), `"huge.txt" is larger than the limit of 6291456 bytes (6 MiB) per file`)

	// File names: NUL and control bytes are refused (422), never rewritten.
	for _, d := range []string{
		`form-data; name="file"; filename*=UTF-8''a%00b.pdf`,
		`form-data; name="file"; filename*=UTF-8''line%0Abreak.pdf`,
		`form-data; name="file"; filename*=UTF-8''esc%1B%5B31m.pdf`,
		`form-data; name="file"; filename*=UTF-8''c1%C2%85.pdf`,
		`form-data; name="file"; filename=""`,
		`form-data; name="file"`,
	} {
		s.upload(t, p.agentTok, tk.ID, upFile{data: sample.PDF(), disposition: d}).expectError(422, "validation_failed", "file")
	}
	// A raw NUL in the part's header is a malformed body.
	raw := s.upload(t, p.agentTok, tk.ID, upFile{data: sample.PDF(), disposition: "form-data; name=\"file\"; filename=\"a\x00b.pdf\""})
	require.Contains(t, []int{400, 422}, raw.status, "body: %s", raw.body)
	// A path is dropped: only the name is kept.
	a := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "../../etc/report.pdf", data: sample.PDF()})[0]
	require.Equal(t, "report.pdf", a.Filename)
	rows++

	// Parts other than "file", bodies that are not multipart, nothing to upload.
	body, ct := multipartBody(t)
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/attachments", tk.ID), body, header{"Content-Type", ct}).
		expectError(422, "validation_failed", "file")
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/attachments", tk.ID), `{"file":"x"}`).
		expectError(400, "bad_request")
	var other bytes.Buffer
	w := multipart.NewWriter(&other)
	_ = w.WriteField("note", "hello")
	_ = w.Close()
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/attachments", tk.ID), other.Bytes(),
		header{"Content-Type", w.FormDataContentType()}).expectError(422, "validation_failed", "note")

	// Tickets that do not exist, or that the customer does not see: 404.
	s.upload(t, p.agentTok, 999_999_999_999, upFile{name: "x.pdf", data: sample.PDF()}).expectError(404, "not_found")
	s.upload(t, p.otherTok, tk.ID, upFile{name: "x.pdf", data: sample.PDF()}).expectError(404, "not_found")
	s.call(t, p.agentTok, "POST", "/api/v1/tickets/abc/attachments", body, header{"Content-Type", ct}).expectError(404, "not_found")

	gotRows, gotBlobs := s.stored(t)
	require.Equal(t, rows, gotRows, "no refused upload left a row")
	require.LessOrEqual(t, gotBlobs, blobs+1, "no refused upload left a blob (the sample PDF may be new)")
	for _, b := range [][]byte{first, big} {
		ok, err := s.blobs.Exists(context.Background(), sha(b))
		require.NoError(t, err)
		require.False(t, ok, "a refused request keeps none of its files")
	}
}

func TestAttachmentSameFileIsStoredOnce(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Twice"})
	data := unique("the same log")
	_, before := s.stored(t)
	first := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "a.txt", data: data}, upFile{name: "b.log", data: data})
	second := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "c.txt", data: data})
	require.Equal(t, first[0].SHA256, second[0].SHA256)
	require.NotEqual(t, first[0].ID, second[0].ID, "each upload is its own attachment")
	_, after := s.stored(t)
	require.Equal(t, before+1, after, "one blob for the same content three times")
	ok, err := s.blobs.Exists(context.Background(), sha(data))
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, data, s.download(t, p.agentTok, second[0].ID).expect(200).body)
	require.Equal(t, "text/plain; charset=utf-8", first[1].ContentType)
}

func TestAttachmentVisibility(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	ctx := context.Background()
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Visibility", "clientIds": []string{p.customer}})
	otherTk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Someone else's", "clientIds": []string{p.other}})

	up := s.uploaded(t, p.agentTok, tk.ID,
		upFile{name: "public.pdf", data: sample.PDF()}, upFile{name: "internal.png", data: sample.PNG()},
		upFile{name: "draft.txt", data: unique("draft")})
	pub, internal, draft := up[0], up[1], up[2]
	mine := s.uploaded(t, p.customerTok, tk.ID, upFile{name: "mine.txt", data: unique("mine")})[0]
	elsewhere := s.uploaded(t, p.otherTok, otherTk.ID, upFile{name: "theirs.txt", data: unique("theirs")})[0]

	// Unreferenced: the uploader and staff only.
	for _, id := range []string{pub.ID, internal.ID, draft.ID} {
		s.download(t, p.customerTok, id).expectError(404, "not_found")
		s.download(t, p.agentTok, id).expect(200)
		s.download(t, p.agent2Tok, id).expect(200)
	}
	s.download(t, p.customerTok, mine.ID).expect(200)
	s.download(t, p.orgMateTok, mine.ID).expectError(404, "not_found")
	s.download(t, p.agentTok, mine.ID).expect(200)
	// Another ticket's customer learns nothing, and neither does this one of theirs.
	s.download(t, p.otherTok, mine.ID).expectError(404, "not_found")
	s.download(t, p.customerTok, elsewhere.ID).expectError(404, "not_found")
	s.download(t, p.customerTok, "not-a-uuid").expectError(404, "not_found")
	s.download(t, p.agentTok, "0190a0a0-0000-7000-8000-000000000000").expectError(404, "not_found")

	// Referenced (as the messages code does from the ticket's projection): the message's visibility.
	public := s.actionID(t, p.agentTok, tk.ID, "public", "Here is the report")
	note := s.actionID(t, p.agentTok, tk.ID, "internal", "Screenshot of the admin console")
	require.NoError(t, schema.ReferenceAttachments(ctx, s.db, tk.ID, public, []string{pub.ID}))
	require.NoError(t, schema.ReferenceAttachments(ctx, s.db, tk.ID, note, []string{internal.ID}))
	s.download(t, p.customerTok, pub.ID).expect(200)
	s.download(t, p.orgMateTok, pub.ID).expect(200) // sees the organisation's tickets
	s.download(t, p.otherTok, pub.ID).expectError(404, "not_found")
	s.download(t, p.customerTok, internal.ID).expectError(404, "not_found")
	s.download(t, p.agentTok, internal.ID).expect(200)

	// ReferenceAttachments is idempotent, and leaves an attachment carried by another action (or
	// of another ticket) alone.
	require.NoError(t, schema.ReferenceAttachments(ctx, s.db, tk.ID, public, []string{pub.ID}))
	require.NoError(t, schema.ReferenceAttachments(ctx, s.db, tk.ID, public, []string{internal.ID}))
	require.NoError(t, schema.ReferenceAttachments(ctx, s.db, otherTk.ID, 1, []string{draft.ID}))
	var got []schema.Attachment
	require.NoError(t, s.db.NewSelect().Model(&got).Where("id IN (?)", bun.In([]string{pub.ID, internal.ID, draft.ID})).Order("filename").Scan(ctx))
	byName := map[string]schema.Attachment{}
	for _, a := range got {
		byName[a.Filename] = a
	}
	require.Equal(t, public, *byName["public.pdf"].ActionID)
	require.Equal(t, note, *byName["internal.png"].ActionID, "an attachment already carried stays with its message")
	require.Nil(t, byName["draft.txt"].ActionID, "another ticket's action does not take it")
	s.download(t, p.customerTok, internal.ID).expectError(404, "not_found")
}

// The body limit of every other route is what it was: uploads alone are streamed past it.
func TestBodyLimitOnlyUploadsAreStreamed(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Limits"})
	limit := 1 << 20 // api.DefaultConfig's BodyLimit

	json := func(n int) string { // a ticket create body of exactly n bytes
		pre, post := `{"subject":"`, `"}`
		return pre + strings.Repeat("x", n-len(pre)-len(post)) + post
	}
	r := s.call(t, p.agentTok, "POST", "/api/v1/tickets", json(limit+1))
	r.expectError(413, "payload_too_large")
	require.Contains(t, string(r.body), fmt.Sprintf("larger than the limit of %d bytes", limit))
	// At the limit the body is read and judged on its content (the subject is too long).
	s.call(t, p.agentTok, "POST", "/api/v1/tickets", json(limit)).expectError(422, "validation_failed", "subject")
	// A multipart body is not an upload elsewhere: the same limit.
	body, ct := multipartBody(t, upFile{name: "big.txt", data: bytes.Repeat([]byte("y"), limit+1)})
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/actions", tk.ID), body, header{"Content-Type", ct}).
		expectError(413, "payload_too_large")
	// Past 4x the limit: refused unread. Sent over a bare connection that announces the length
	// and writes only 16 KiB (fasthttp reads the first 8 KiB before any handler): a 413 then
	// proves the server did not wait for the rest. (A whole body written by a client can meet
	// the closed connection and lose the answer to a reset.)
	status := refusedUnread(t, s.base, p.agentTok, 4*limit+10)
	require.Contains(t, status, " 413 ", "the answer to an announced body past 4x the limit")

	// An upload of 5 MiB, past 4x the API-wide limit, goes through.
	data := append(unique("five MiB"), bytes.Repeat([]byte("streamed, never buffered\n"), (5<<20)/25)...)
	a := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "big.log", data: data})[0]
	require.Equal(t, int64(len(data)), a.Size)
	require.Equal(t, sha(data), a.SHA256)
	require.Equal(t, data, s.download(t, p.agentTok, a.ID).expect(200).body)

	// And the next ordinary request is judged as before.
	s.call(t, p.agentTok, "POST", "/api/v1/tickets", json(limit+1)).expectError(413, "payload_too_large")
	s.call(t, p.agentTok, "GET", fmt.Sprintf("/api/v1/tickets/%d", tk.ID), nil).expect(200)
}

// Uploads no message references are removed by their expiry workflow on the real worker; a
// referenced one is kept, and content another upload still has stays.
func TestAttachmentExpiry(t *testing.T) {
	s := newStack(t, stackOptions{worker: true, autoClose: autoClose, attachmentExpireAfter: 3 * time.Second})
	defer s.close()
	p := s.newPeople(t)
	ctx := context.Background()
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Expiry", "clientIds": []string{p.customer}})

	lonely, shared := unique("lonely"), unique("shared")
	up := s.uploaded(t, p.customerTok, tk.ID, upFile{name: "lonely.txt", data: lonely},
		upFile{name: "shared-1.txt", data: shared}, upFile{name: "shared-2.txt", data: shared})
	gone, sharedGone, kept := up[0], up[1], up[2]
	msg := s.actionID(t, p.agentTok, tk.ID, "public", "Thanks, attached to this reply")
	require.NoError(t, schema.ReferenceAttachments(ctx, s.db, tk.ID, msg, []string{kept.ID}))

	// Not before its time.
	s.download(t, p.customerTok, gone.ID).expect(200)

	results := map[string]workflows.AttachmentExpiryResult{}
	for _, a := range up {
		var res workflows.AttachmentExpiryResult
		wctx, cancel := context.WithTimeout(ctx, time.Minute)
		require.NoError(t, s.tc.GetWorkflow(wctx, workflows.AttachmentWorkflowID(a.ID), "").Get(wctx, &res))
		cancel()
		results[a.ID] = res
	}
	require.Equal(t, workflows.AttachmentExpiryResult{RowDeleted: true, BlobDeleted: true}, results[gone.ID])
	require.Equal(t, workflows.AttachmentExpiryResult{RowDeleted: true}, results[sharedGone.ID], "content another upload has stays")
	require.Equal(t, workflows.AttachmentExpiryResult{Kept: true}, results[kept.ID])

	s.download(t, p.customerTok, gone.ID).expectError(404, "not_found")
	s.download(t, p.agentTok, sharedGone.ID).expectError(404, "not_found")
	require.Equal(t, shared, s.download(t, p.customerTok, kept.ID).expect(200).body)
	ok, err := s.blobs.Exists(ctx, sha(lonely))
	require.NoError(t, err)
	require.False(t, ok, "the blob of an expired upload no one else has is deleted")
	ok, err = s.blobs.Exists(ctx, sha(shared))
	require.NoError(t, err)
	require.True(t, ok)
	rows, blobs := s.stored(t)
	require.Equal(t, 1, rows)
	require.Equal(t, 1, blobs)
}

// refusedUnread announces a ticket-create body of n bytes, writes 16 KiB of it and returns the
// status line the server answers with.
func refusedUnread(t *testing.T, base, token string, n int) string {
	t.Helper()
	conn, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), 5*time.Second)
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(30*time.Second)))
	_, err = fmt.Fprintf(conn, "POST /api/v1/tickets HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
		"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"subject\":\"%s", token, n, strings.Repeat("x", 16<<10))
	require.NoError(t, err)
	line, err := bufio.NewReader(conn).ReadString('\n')
	require.NoError(t, err, "the server answers before the body is sent")
	return line
}

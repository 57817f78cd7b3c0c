package integration

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/switchboardhq/switchboard/schema"
)

// A message naming an upload claims it: the expiry then keeps the file for the claim's hold
// (the message may still be on its way to PostgreSQL), and once the hold is over an upload no
// message took goes.
func TestAClaimedUploadOutlivesItsExpiry(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	ctx := context.Background()
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Claims"})
	a := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "claimed.txt", data: unique("claimed")})[0]

	claimed, err := schema.ClaimAttachments(ctx, s.db, tk.ID, []string{a.ID})
	require.NoError(t, err)
	require.Equal(t, []string{a.ID}, claimed)
	noBlob := func(context.Context, string) error { t.Fatal("a claimed upload's blob was deleted"); return nil }
	r, err := schema.ExpireAttachment(ctx, s.db, a.ID, a.SHA256, time.Hour, noBlob)
	require.NoError(t, err)
	require.NotNil(t, r.KeepUntil, "claimed within the hold: kept")
	require.WithinDuration(t, time.Now().Add(time.Hour), *r.KeepUntil, time.Minute)
	require.False(t, r.RowDeleted)
	s.download(t, p.agentTok, a.ID).expect(200)

	// The hold over and no message written: the expiry removes it, and a late claim finds nothing.
	deleted := false
	r, err = schema.ExpireAttachment(ctx, s.db, a.ID, a.SHA256, 0, func(context.Context, string) error { deleted = true; return nil })
	require.NoError(t, err)
	require.True(t, r.RowDeleted)
	require.True(t, deleted)
	claimed, err = schema.ClaimAttachments(ctx, s.db, tk.ID, []string{a.ID})
	require.NoError(t, err)
	require.Empty(t, claimed)
}

// An expiry deleting an upload at the moment a message names it: the message waits for the
// expiry's lock and is then refused with the field named, never stored with a file that is gone.
func TestAMessageRacingTheExpiryOfItsFileIsRefused(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	ctx := context.Background()
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Expiry race"})
	a := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "late.txt", data: unique("late")})[0]

	// The expiry's transaction, held open with the row deleted, as ExpireAttachment does it.
	tx, err := s.db.BeginTx(ctx, nil)
	require.NoError(t, err)
	_, err = tx.NewSelect().Model((*schema.Attachment)(nil)).Where("id = ?", a.ID).For("UPDATE").Exec(ctx)
	require.NoError(t, err)
	_, err = tx.NewDelete().Model((*schema.Attachment)(nil)).Where("id = ?", a.ID).Exec(ctx)
	require.NoError(t, err)
	done := make(chan *resp, 1)
	go func() {
		done <- s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID),
			map[string]any{"body": "the file", "attachmentIds": []string{a.ID}})
	}()
	select {
	case r := <-done:
		t.Fatalf("the message did not wait for the expiry's lock: %d %s", r.status, r.body)
	case <-time.After(2 * time.Second):
	}
	require.NoError(t, tx.Commit())
	r := <-done
	r.expectError(422, "validation_failed", "attachmentIds[0]")
	var n int
	require.NoError(t, s.db.NewRaw("SELECT count(*) FROM ticket_actions WHERE ticket_id = ? AND body = 'the file'", tk.ID).Scan(ctx, &n))
	require.Zero(t, n, "nothing of the refused message is stored")
}

// An upload while the attachments table is locked for longer than every timeout: a 503 with
// Retry-After, no row and no temporary blob; the content promoted before the insert failed is
// removed by the upload's expiry (which waits out the lock itself), and the retry after the
// lock is stored.
func TestAnUploadUnderAHeldLockIsRefusedAndLeavesNothing(t *testing.T) {
	t.Parallel()
	s := newStack(t, stackOptions{worker: true, autoClose: autoClose, attachmentExpireAfter: 3 * time.Second})
	defer s.close()
	p := s.newPeople(t)
	ctx := context.Background()
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Upload under a lock"})
	data := unique("locked out")

	release := s.lockTables(t, "EXCLUSIVE", "attachments")
	began := time.Now()
	r := s.upload(t, p.agentTok, tk.ID, upFile{name: "locked.txt", data: data})
	t.Logf("the upload answered %d after %s", r.status, time.Since(began).Round(time.Millisecond))
	r.expectError(503, "unavailable")
	require.NotEmpty(t, r.header.Get("Retry-After"))
	require.Less(t, time.Since(began), 20*time.Second, "refused within the database timeout, not when the lock ends")
	time.Sleep(time.Until(began.Add(stallFor - 5*time.Second))) // the lock outlasts every timeout
	release()

	rows, _ := s.stored(t) // and no temporary blob
	require.Zero(t, rows)
	eventually(t, time.Minute, func() bool {
		ok, err := s.blobs.Exists(ctx, sha(data))
		require.NoError(t, err)
		return !ok
	}, "the content whose row was never written is removed by its expiry")

	a := s.uploaded(t, p.agentTok, tk.ID, upFile{name: "locked.txt", data: data})[0]
	require.Equal(t, data, s.download(t, p.agentTok, a.ID).expect(200).body)
}

// An agent sends a file in a chat: uploaded to the chat with the messenger's pipeline, carried
// by one message (marked so in the chat's projection, so its expiry keeps it), refused on a
// second message, downloadable by staff; a closed chat takes no upload.
func TestAnAgentSendsAFileInAChat(t *testing.T) {
	s := env(t)
	p := s.newPeople(t)
	ctx := context.Background()
	g := s.manualChatGroup(t, p.agent)
	tk := s.createTicket(t, p.agentTok, map[string]any{"subject": "Chat file", "clientIds": []string{p.customer}})
	var ch chatJSON
	s.call(t, p.agentTok, "POST", fmt.Sprintf("/api/v1/tickets/%d/chat", tk.ID), map[string]any{"groupId": g.ID}).expect(201).decode(&ch)

	data := unique("chat file")
	body, ct := multipartBody(t, upFile{name: "guide.txt", data: data})
	var up struct {
		Attachments []attachmentJSON `json:"attachments"`
	}
	s.call(t, p.agentTok, "POST", "/api/v1/chats/"+ch.ID+"/attachments", body, header{"Content-Type", ct}).expect(201).decode(&up)
	require.Len(t, up.Attachments, 1)
	a := up.Attachments[0]
	s.download(t, p.customerTok, a.ID).expectError(404, "not_found") // not sent yet
	s.chatCall(t, p.agentTok, ch.ID, "messages", map[string]any{"body": "the guide", "clientMessageId": "f-1",
		"attachmentIds": []string{a.ID}}).expect(201)
	// Sent: the chat's customer downloads it (their chat); another customer learns nothing.
	require.Equal(t, data, s.download(t, p.customerTok, a.ID).expect(200).body)
	s.download(t, p.otherTok, a.ID).expectError(404, "not_found")
	var row schema.Attachment
	require.NoError(t, s.db.NewSelect().Model(&row).Where("id = ?", a.ID).Scan(ctx))
	require.NotNil(t, row.ActionID, "the stored message carries it")
	require.EqualValues(t, 1, *row.ActionID)
	s.chatCall(t, p.agentTok, ch.ID, "messages", map[string]any{"body": "again", "clientMessageId": "f-2",
		"attachmentIds": []string{a.ID}}).expectError(422, "validation_failed", "attachmentIds[0]")
	require.Equal(t, data, s.download(t, p.agentTok, a.ID).expect(200).body)

	s.chatChange(t, p.agentTok, ch.ID, "close", nil)
	// The transcript joins the ticket with the file: its customer downloads it from there.
	eventually(t, 20*time.Second, func() bool { return s.ticket(t, p.agentTok, tk.ID).ActionCount == tk.ActionCount+1 }, "transcript on the ticket")
	var msgs struct {
		Data []struct {
			Attachments []attachmentJSON `json:"attachments"`
		} `json:"data"`
	}
	s.call(t, p.customerTok, "GET", fmt.Sprintf("/api/v1/tickets/%d/messages", tk.ID), nil).expect(200).decode(&msgs)
	last := msgs.Data[len(msgs.Data)-1]
	require.Len(t, last.Attachments, 1)
	require.Equal(t, a.ID, last.Attachments[0].ID)
	require.Equal(t, data, s.download(t, p.customerTok, last.Attachments[0].ID).expect(200).body)
	// Once the chat is no longer the customer's own (its customer moved on), the ticket still lets them.
	_, err := s.db.ExecContext(ctx, "UPDATE chats SET customer_id = NULL WHERE id = ?", ch.ID)
	require.NoError(t, err)
	require.Equal(t, data, s.download(t, p.customerTok, a.ID).expect(200).body)
	s.download(t, p.otherTok, a.ID).expectError(404, "not_found")

	body, ct = multipartBody(t, upFile{name: "late.txt", data: unique("late")})
	s.call(t, p.agentTok, "POST", "/api/v1/chats/"+ch.ID+"/attachments", body, header{"Content-Type", ct}).expectError(409, "conflict")
	s.call(t, p.customerTok, "POST", "/api/v1/chats/"+ch.ID+"/attachments", body, header{"Content-Type", ct}).expectError(403, "forbidden")
}

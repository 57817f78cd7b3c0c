package schema

import (
	"context"
	"database/sql"
	"time"

	"github.com/uptrace/bun"
)

// Attachment is one upload of a file to a ticket. Its content is the blob named by SHA256 in
// the blob store (internal/blobstore): the same content uploaded twice is two rows and one blob.
// ActionID is the ticket action (message) that carries it, set once by ReferenceAttachments;
// an attachment with no action is visible only to its uploader and staff, and is removed 24 hours
// after its upload by its AttachmentExpiry workflow.
type Attachment struct {
	bun.BaseModel `bun:"table:attachments" json:"-"`

	ID           string     `bun:"id,pk" json:"id"`
	TicketID     int64      `bun:"ticket_id,nullzero" json:"-"` // 0 (NULL) for a chat's upload
	ChatID       *string    `bun:"chat_id" json:"-"`            // nil for a ticket's upload
	SHA256       string     `bun:"sha256" json:"sha256"`
	Size         int64      `bun:"size" json:"size"`
	ContentType  string     `bun:"content_type" json:"contentType"`
	Filename     string     `bun:"filename" json:"filename"`
	UploadedBy   string     `bun:"uploaded_by" json:"-"`
	CreatedAt    time.Time  `bun:"created_at" json:"createdAt"`
	ActionID     *int       `bun:"action_id" json:"-"`
	ReferencedAt *time.Time `bun:"referenced_at" json:"-"`
	ClaimedAt    *time.Time `bun:"claimed_at" json:"-"`
}

// ClaimAttachments marks the unreferenced uploads ids of a ticket as named by a message on its
// way (the API calls it once the message's checks pass) and answers the ids it claimed: an id
// missing from the answer expired meanwhile. A claim keeps the upload from its expiry for the
// hold given to ExpireAttachment; one that no message follows lapses then.
func ClaimAttachments(ctx context.Context, db bun.IDB, ticketID int64, ids []string) ([]string, error) {
	return claim(ctx, db, "ticket_id", ticketID, ids)
}

// ClaimChatAttachments is ClaimAttachments for the uploads of a chat.
func ClaimChatAttachments(ctx context.Context, db bun.IDB, chatID string, ids []string) ([]string, error) {
	return claim(ctx, db, "chat_id", chatID, ids)
}

func claim(ctx context.Context, db bun.IDB, ownerColumn string, owner any, ids []string) ([]string, error) {
	var claimed []string
	if len(ids) == 0 {
		return claimed, nil
	}
	err := db.NewUpdate().Model((*Attachment)(nil)).Set("claimed_at = now()").
		Where("id IN (?)", bun.In(ids)).Where("? = ?", bun.Ident(ownerColumn), owner).Where("action_id IS NULL").
		Returning("id").Scan(ctx, &claimed)
	if isNoRowsErr(err) {
		err = nil
	}
	return claimed, err
}

// ReferenceChatAttachments marks the uploads ids of chat chatID as carried by its message seq,
// in the chat's projection transaction (SaveChat). Idempotent: an upload already carried by a
// message is left alone.
func ReferenceChatAttachments(ctx context.Context, db bun.IDB, chatID string, seq int64, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.NewUpdate().Model((*Attachment)(nil)).Set("action_id = ?", seq).Set("referenced_at = now()").
		Where("id IN (?)", bun.In(ids)).Where("chat_id = ?", chatID).Where("action_id IS NULL").Exec(ctx)
	return err
}

func isNoRowsErr(err error) bool { return err == sql.ErrNoRows }

// lockContent serialises, within tx, everything that adds or removes a row of one content hash
// with the decision to delete that content's blob: an upload of the same file cannot slip in
// between the expiry's "no row has this hash any more" and its deletion of the blob.
func lockContent(ctx context.Context, tx bun.Tx, sha string) error {
	_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(hashtextextended(?, 7461))", "attachment:"+sha)
	return err
}

// InsertAttachments records uploads. For each distinct hash it takes the content's lock, then
// calls store (which makes the blob exist under its hash), then inserts the rows, all in one
// transaction: when it returns an error no row was written.
func InsertAttachments(ctx context.Context, db *bun.DB, rows []Attachment, store func(ctx context.Context, sha string) error) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		done := map[string]bool{}
		for _, r := range rows {
			if done[r.SHA256] {
				continue
			}
			done[r.SHA256] = true
			if err := lockContent(ctx, tx, r.SHA256); err != nil {
				return err
			}
			if err := store(ctx, r.SHA256); err != nil {
				return err
			}
		}
		_, err := tx.NewInsert().Model(&rows).Exec(ctx)
		return err
	})
}

// ReferenceAttachments marks the attachments ids of ticket ticketID as carried by its action
// actionID. It is idempotent: running it again for the same action changes nothing, and an
// attachment already carried by another action (or of another ticket) is left alone. The
// ticket's projection calls it when a message with attachments is persisted.
func ReferenceAttachments(ctx context.Context, db bun.IDB, ticketID int64, actionID int, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	_, err := db.NewUpdate().Model((*Attachment)(nil)).
		Set("action_id = ?", actionID).Set("referenced_at = now()").
		Where("id IN (?)", bun.In(ids)).Where("ticket_id = ?", ticketID).Where("action_id IS NULL").
		Exec(ctx)
	return err
}

// AttachmentExpiry is what ExpireAttachment did.
type AttachmentExpiry struct {
	RowDeleted  bool // the upload was still unreferenced and its row is gone
	BlobDeleted bool // no row had its content any more, and the blob was deleted
	Kept        bool // the upload is referenced by a message: nothing was deleted
	// KeepUntil: a message claimed the upload (ClaimAttachments) within the hold; nothing was
	// deleted and the expiry runs again then.
	KeepUntil *time.Time
}

// ExpireAttachment removes upload id unless a message references it or claimed it less than
// hold ago, and then its content (deleteBlob) when no other row has the same hash. A missing
// row (never written, or already expired) still lets an orphaned blob of sha go. The row is
// locked first, so a claim racing the expiry waits for it and then finds the row gone. Safe to
// run twice.
func ExpireAttachment(ctx context.Context, db *bun.DB, id, sha string, hold time.Duration,
	deleteBlob func(ctx context.Context, sha string) error) (AttachmentExpiry, error) {
	var out AttachmentExpiry
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		out = AttachmentExpiry{}
		var row Attachment
		var now time.Time // the transaction's, the clock ClaimAttachments wrote with
		if err := tx.NewRaw("SELECT now()").Scan(ctx, &now); err != nil {
			return err
		}
		err := tx.NewSelect().Model(&row).Where("id = ?", id).For("UPDATE").Scan(ctx)
		switch {
		case err == nil:
			sha = row.SHA256
			if row.ActionID != nil {
				out.Kept = true
				return nil
			}
			if row.ClaimedAt != nil && now.Before(row.ClaimedAt.Add(hold)) {
				until := row.ClaimedAt.Add(hold).UTC()
				out.KeepUntil = &until
				return nil
			}
		case err == sql.ErrNoRows:
		default:
			return err
		}
		if sha == "" {
			return nil
		}
		if err := lockContent(ctx, tx, sha); err != nil {
			return err
		}
		res, err := tx.NewDelete().Model((*Attachment)(nil)).Where("id = ?", id).Where("action_id IS NULL").Exec(ctx)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out.RowDeleted = true
		} else if row.ID != "" {
			// Referenced between the read and the delete: keep it.
			out.Kept = true
			return nil
		}
		others, err := tx.NewSelect().Model((*Attachment)(nil)).Where("sha256 = ?", sha).Count(ctx)
		if err != nil {
			return err
		}
		if others > 0 {
			return nil
		}
		if err := deleteBlob(ctx, sha); err != nil {
			return err
		}
		out.BlobDeleted = true
		return nil
	})
	return out, err
}

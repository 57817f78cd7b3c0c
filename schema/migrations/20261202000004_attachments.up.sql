-- Files uploaded to a ticket's messenger. The content lives in the blob store under its
-- sha256 (one blob for the same content uploaded twice); a row is one upload of it.
-- action_id is the ticket action (message) that carries the file, set once when the message is
-- sent (schema.ReferenceAttachments); an upload never referenced is removed after 24 hours by
-- its AttachmentExpiry workflow.
CREATE TABLE IF NOT EXISTS attachments (
    id            text PRIMARY KEY,
    ticket_id     bigint NOT NULL REFERENCES tickets (id),
    sha256        text NOT NULL,
    size          bigint NOT NULL,
    content_type  text NOT NULL,
    filename      text NOT NULL,
    uploaded_by   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    action_id     integer NULL,
    referenced_at timestamptz NULL,
    CHECK ((action_id IS NULL) = (referenced_at IS NULL))
);

CREATE INDEX IF NOT EXISTS attachments_sha256 ON attachments (sha256);
CREATE INDEX IF NOT EXISTS attachments_ticket_action ON attachments (ticket_id, action_id);

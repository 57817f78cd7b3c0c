-- Visitors of the public chat widget API (/public/chat/v1). A visitor token authorizes one chat
-- session only; only its SHA-256 (hex) is stored. The token is valid while the chat is open and
-- for a while after it closed (api.visitorTokenGrace, counted from chats.closed_at), so that a
-- visitor can still read the transcript they were in. There is no foreign key to chats: the
-- row is written before the chat's workflow starts (and stores its first row).
CREATE TABLE IF NOT EXISTS chat_visitors (
    token_hash  text PRIMARY KEY,
    chat_id     text NOT NULL,
    widget_id   text NOT NULL,
    customer_id text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS chat_visitors_chat ON chat_visitors (chat_id);

-- Uploads to a chat session (visitors' and agents'): an attachment belongs to a ticket or to a
-- chat, never both. For a chat upload action_id is the seq of the chat message that carries it
-- (set once the message is stored), so the AttachmentExpiry workflow keeps it like a ticket's.
ALTER TABLE attachments ALTER COLUMN ticket_id DROP NOT NULL;
ALTER TABLE attachments ADD COLUMN IF NOT EXISTS chat_id text NULL;
ALTER TABLE attachments DROP CONSTRAINT IF EXISTS attachments_one_owner;
ALTER TABLE attachments ADD CONSTRAINT attachments_one_owner CHECK ((ticket_id IS NULL) <> (chat_id IS NULL));
CREATE INDEX IF NOT EXISTS attachments_chat_action ON attachments (chat_id, action_id) WHERE chat_id IS NOT NULL;

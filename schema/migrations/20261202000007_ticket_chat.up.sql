-- A closed customer chat becomes a ticket (activities.ChatClosed): the ticket keeps the chat it
-- came from (chat_id, unique, so a retried hand-over never makes a second ticket), the chat's
-- group and widget, how long the visitor waited in the queue and how long the chat was active.
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS chat_id text;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS chat_group text;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS chat_widget text;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS chat_waiting_time bigint;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS chat_talk_time bigint;
CREATE UNIQUE INDEX IF NOT EXISTS tickets_chat_id ON tickets (chat_id) WHERE chat_id IS NOT NULL;
-- A chat's list filters.
CREATE INDEX IF NOT EXISTS chats_created ON chats (created_at DESC, id DESC);
-- Invitations to a chat waiting for the invited agent's accept (the agent joins the chat, through
-- its workflow's Invite update, when they accept).
CREATE TABLE IF NOT EXISTS chat_invitations (
    chat_id     text NOT NULL REFERENCES chats (id),
    agent_id    text NOT NULL,
    invited_by  text NOT NULL,
    invited_at  timestamptz NOT NULL,
    PRIMARY KEY (chat_id, agent_id)
);

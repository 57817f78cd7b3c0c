-- The ticket messenger: a ticket's actions are its messages. Each action, status entry and
-- owner entry records the ticket write that made it (write_seq), which orders a ticket's
-- conversation for its list and its live stream without trusting clocks. An action gains its
-- kind, rendered HTML, attachments and the sender's client id (a retried send is a no-op).
ALTER TABLE ticket_actions ADD COLUMN IF NOT EXISTS kind text NOT NULL DEFAULT 'text';
ALTER TABLE ticket_actions ADD COLUMN IF NOT EXISTS html text NOT NULL DEFAULT '';
ALTER TABLE ticket_actions ADD COLUMN IF NOT EXISTS attachments jsonb NOT NULL DEFAULT '[]';
ALTER TABLE ticket_actions ADD COLUMN IF NOT EXISTS client_id text;
ALTER TABLE ticket_actions ADD COLUMN IF NOT EXISTS write_seq bigint NOT NULL DEFAULT 0;
-- A client id is the sender's own: two senders may pick the same one.
CREATE UNIQUE INDEX IF NOT EXISTS ticket_actions_client_id ON ticket_actions (ticket_id, author_id, client_id) WHERE client_id IS NOT NULL;
ALTER TABLE ticket_status_history ADD COLUMN IF NOT EXISTS write_seq bigint NOT NULL DEFAULT 0;
ALTER TABLE ticket_owner_history ADD COLUMN IF NOT EXISTS write_seq bigint NOT NULL DEFAULT 0;

-- Video sessions linked to a ticket; closing the ticket closes them (schema.SaveTicket).
CREATE TABLE IF NOT EXISTS video_sessions (
    id          text PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES tickets (id),
    room        text NOT NULL UNIQUE,
    url         text NOT NULL,
    status      text NOT NULL DEFAULT 'Open',   -- Open or Closed
    created_by  text NOT NULL,
    action_id   integer,                         -- the message that sent the link
    created_at  timestamptz NOT NULL DEFAULT now(),
    closed_at   timestamptz
);
CREATE INDEX IF NOT EXISTS video_sessions_ticket ON video_sessions (ticket_id, created_at);

-- Teams can turn video sessions off.
ALTER TABLE teams ADD COLUMN IF NOT EXISTS video_sessions boolean NOT NULL DEFAULT true;

-- Agent events (a call put through, a call ended): the body lives here and the NOTIFY carries
-- only its id, so an event is never too big for PostgreSQL's 8,000-byte NOTIFY payload. Rows
-- older than a day are removed as new ones are written.
CREATE TABLE IF NOT EXISTS agent_events (
    id         bigserial PRIMARY KEY,
    agent_id   text NOT NULL,
    type       text NOT NULL,
    data       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS agent_events_created_at ON agent_events (created_at);

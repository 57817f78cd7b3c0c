-- Chat sessions as their ChatSession workflows persist them (activities.PersistChat): the chat's
-- row (upserted only by a newer version, so a retried or late write is a no-op), its transcript
-- (immutable, one row per seq) and the facts of its life (one row per write and place).
CREATE TABLE IF NOT EXISTS chats (
    id             text PRIMARY KEY,
    kind           text NOT NULL,
    state          text NOT NULL,
    group_id       text NOT NULL,
    widget_id      text,
    agent_id       text,
    agent_ids      text[] NOT NULL DEFAULT '{}',
    customer_id    text,
    ticket_id      bigint,
    close_reason   text,
    arrived_at     timestamptz NOT NULL,
    accepted_at    timestamptz,
    created_at     timestamptz NOT NULL,
    closed_at      timestamptz,
    message_count  bigint NOT NULL DEFAULT 0,
    version        bigint NOT NULL
);
CREATE INDEX IF NOT EXISTS chats_queue ON chats (group_id, state, arrived_at);
CREATE INDEX IF NOT EXISTS chats_agents ON chats USING gin (agent_ids);

CREATE TABLE IF NOT EXISTS chat_messages (
    chat_id            text NOT NULL REFERENCES chats (id),
    seq                bigint NOT NULL,
    author_id          text NOT NULL,
    role               text NOT NULL,
    body               text NOT NULL,
    html               text NOT NULL DEFAULT '',
    attachments        jsonb NOT NULL DEFAULT '[]',
    client_message_id  text,
    created_at         timestamptz NOT NULL,
    PRIMARY KEY (chat_id, seq)
);

CREATE TABLE IF NOT EXISTS chat_events (
    chat_id   text NOT NULL REFERENCES chats (id),
    version   bigint NOT NULL,   -- the chat write that recorded it
    n         integer NOT NULL,  -- its place in that write
    type      text NOT NULL,
    agent_id  text,
    group_id  text,
    by_id     text,
    reason    text,
    at        timestamptz NOT NULL,
    PRIMARY KEY (chat_id, version, n)
);

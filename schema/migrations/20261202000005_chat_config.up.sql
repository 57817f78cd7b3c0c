-- Live chat configuration: chat groups (ordered agents, distribution, business hours, timeouts),
-- the widgets a site embeds, and each agent's chat presence. Timeouts are whole seconds.
CREATE TABLE IF NOT EXISTS chat_groups (
    id                          text PRIMARY KEY,
    name                        text NOT NULL UNIQUE,
    display_name                text NOT NULL,
    automatic                   boolean NOT NULL DEFAULT true,
    -- NULL: no limit
    max_concurrent_per_agent    integer NULL CHECK (max_concurrent_per_agent BETWEEN 1 AND 100),
    calendar_id                 text NULL REFERENCES calendars (id),
    department_id               text NULL REFERENCES persons (id),
    accept_within_seconds       integer NOT NULL DEFAULT 60,
    customer_inactivity_seconds integer NOT NULL DEFAULT 600,
    queue_wait_seconds          integer NOT NULL DEFAULT 300,
    version                     integer NOT NULL DEFAULT 1,
    created_at                  timestamptz NOT NULL DEFAULT now(),
    updated_at                  timestamptz NOT NULL DEFAULT now()
);

-- A group's agents in distribution order.
CREATE TABLE IF NOT EXISTS chat_group_members (
    group_id  text NOT NULL REFERENCES chat_groups (id) ON DELETE CASCADE,
    agent_id  text NOT NULL REFERENCES persons (id),
    position  integer NOT NULL,
    PRIMARY KEY (group_id, agent_id),
    UNIQUE (group_id, position)
);
CREATE INDEX IF NOT EXISTS chat_group_members_agent ON chat_group_members (agent_id);

CREATE TABLE IF NOT EXISTS chat_widgets (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    -- public, unguessable: what the embedding page sends
    key              text NOT NULL UNIQUE,
    group_ids        text[] NOT NULL DEFAULT '{}',
    allowed_origins  text[] NOT NULL DEFAULT '{}',
    welcome          text NOT NULL DEFAULT '',
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS chat_widgets_group_ids ON chat_widgets USING gin (group_ids);

CREATE TABLE IF NOT EXISTS agent_chat_presence (
    agent_id        text PRIMARY KEY REFERENCES persons (id),
    status          text NOT NULL DEFAULT 'offline' CHECK (status IN ('online', 'away', 'offline')),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    -- the last time the agent had an event stream open (kept by the stream, read by the chat
    -- distribution's idle check)
    last_stream_at  timestamptz NULL
);

-- Rules engine: triggers, the record of every firing, and agents' in-app notifications.

CREATE TABLE IF NOT EXISTS triggers (
    id               text PRIMARY KEY,
    name             text NOT NULL,
    enabled          boolean NOT NULL DEFAULT true,
    events           text[] NOT NULL,
    condition        text NOT NULL DEFAULT '',
    actions          jsonb NOT NULL DEFAULT '[]',
    position         integer NOT NULL DEFAULT 0,
    stop_processing  boolean NOT NULL DEFAULT false,
    -- a time condition's timer: {"after":"2h","from":"createdAt"}
    timer            jsonb,
    -- rises with every edit; compiled programs are cached by (id, version)
    version          integer NOT NULL DEFAULT 1,
    is_default       boolean NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS triggers_events_idx ON triggers USING gin (events);

CREATE TABLE IF NOT EXISTS trigger_executions (
    id               bigserial PRIMARY KEY,
    ticket_id        bigint NOT NULL,
    trigger_id       text NOT NULL,
    trigger_version  integer NOT NULL,
    event            text NOT NULL,
    matched          boolean NOT NULL,
    actions          jsonb NOT NULL DEFAULT '[]',
    error            text,
    chain            text[] NOT NULL DEFAULT '{}',
    -- the ticket version and position in the evaluation make a retried evaluation write once
    ticket_version   bigint NOT NULL,
    at               timestamptz NOT NULL DEFAULT now(),
    UNIQUE (ticket_id, ticket_version, event, trigger_id)
);
CREATE INDEX IF NOT EXISTS trigger_executions_ticket_idx ON trigger_executions (ticket_id, id);
CREATE INDEX IF NOT EXISTS trigger_executions_trigger_idx ON trigger_executions (trigger_id, id);

CREATE TABLE IF NOT EXISTS notifications (
    id          bigserial PRIMARY KEY,
    person_id   text NOT NULL,
    ticket_id   bigint,
    trigger_id  text,
    message     text NOT NULL,
    dedupe_key  text UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz
);
CREATE INDEX IF NOT EXISTS notifications_person_idx ON notifications (person_id, id);

ALTER TABLE tickets ADD COLUMN IF NOT EXISTS parent_id bigint;

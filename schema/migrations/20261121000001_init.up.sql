-- Switchboard's first schema: people, teams, tokens, statuses, tickets and their timelines.
-- Tickets deliberately carry no foreign keys to people or teams: references are checked by the
-- API before a change reaches the ticket workflow, and a projection write must never fail forever
-- (that would leave a workflow stuck retrying). People are deactivated, never deleted.

CREATE TABLE IF NOT EXISTS persons (
    id                  text PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('person', 'organization', 'department')),
    profile             text NOT NULL CHECK (profile IN ('agent', 'customer', 'both')),
    role                text NOT NULL CHECK (role IN ('admin', 'agent', 'customer')),
    name                text NOT NULL,
    emails              text[] NOT NULL DEFAULT '{}',
    phones              text[] NOT NULL DEFAULT '{}',
    organization_id     text REFERENCES persons (id),
    department_ids      text[] NOT NULL DEFAULT '{}',
    boss_id             text REFERENCES persons (id),
    extension           text,
    sees_org_tickets    boolean NOT NULL DEFAULT false,
    is_active           boolean NOT NULL DEFAULT true,
    custom_fields       jsonb NOT NULL DEFAULT '{}',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS persons_emails_idx ON persons USING gin (emails);
CREATE INDEX IF NOT EXISTS persons_phones_idx ON persons USING gin (phones);
CREATE INDEX IF NOT EXISTS persons_org_idx ON persons (organization_id);

CREATE TABLE IF NOT EXISTS teams (
    id          text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS team_members (
    team_id    text NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    person_id  text NOT NULL REFERENCES persons (id),
    PRIMARY KEY (team_id, person_id)
);
CREATE INDEX IF NOT EXISTS team_members_person_idx ON team_members (person_id);

CREATE TABLE IF NOT EXISTS api_tokens (
    id            text PRIMARY KEY,
    person_id     text NOT NULL REFERENCES persons (id),
    name          text NOT NULL,
    scopes        text[] NOT NULL DEFAULT '{}',
    hash          bytea NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

CREATE TABLE IF NOT EXISTS statuses (
    name                    text PRIMARY KEY,
    base_status             text NOT NULL CHECK (base_status IN ('New', 'InAttendance', 'Stopped', 'Resolved', 'Closed', 'Canceled')),
    requires_justification  boolean NOT NULL DEFAULT false,
    is_system               boolean NOT NULL DEFAULT false,
    is_active               boolean NOT NULL DEFAULT true,
    position                integer NOT NULL DEFAULT 0,
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
-- Every base status has a system status of the same name: the workflow uses it for the moves it
-- makes by itself (accept, customer reply on a resolved ticket, auto-close, reopen).
INSERT INTO statuses (name, base_status, is_system, position) VALUES
    ('New', 'New', true, 10),
    ('InAttendance', 'InAttendance', true, 20),
    ('Stopped', 'Stopped', true, 30),
    ('Resolved', 'Resolved', true, 40),
    ('Closed', 'Closed', true, 50),
    ('Canceled', 'Canceled', true, 60)
ON CONFLICT (name) DO NOTHING;

CREATE SEQUENCE IF NOT EXISTS ticket_id_seq;

CREATE TABLE IF NOT EXISTS tickets (
    id             bigint PRIMARY KEY,
    protocol       text NOT NULL,
    type           text NOT NULL,
    subject        text NOT NULL,
    category       text NOT NULL DEFAULT '',
    urgency        text NOT NULL DEFAULT '',
    status         text NOT NULL,
    base_status    text NOT NULL,
    origin         integer NOT NULL,
    owner_id       text,
    team_id        text,
    client_ids     text[] NOT NULL DEFAULT '{}',
    tags           text[] NOT NULL DEFAULT '{}',
    custom_fields  jsonb NOT NULL DEFAULT '{}',
    created_by     text NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    resolved_at    timestamptz,
    closed_at      timestamptz,
    action_count   integer NOT NULL DEFAULT 0,
    -- seq orders projection writes: a write only lands when it is newer than what is stored.
    seq            bigint NOT NULL,
    run_id         text NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS tickets_created_idx ON tickets (created_at, id);
CREATE INDEX IF NOT EXISTS tickets_updated_idx ON tickets (updated_at, id);
CREATE INDEX IF NOT EXISTS tickets_owner_idx ON tickets (owner_id);
CREATE INDEX IF NOT EXISTS tickets_team_idx ON tickets (team_id);
CREATE INDEX IF NOT EXISTS tickets_status_idx ON tickets (base_status, status);
CREATE INDEX IF NOT EXISTS tickets_clients_idx ON tickets USING gin (client_ids);
CREATE INDEX IF NOT EXISTS tickets_tags_idx ON tickets USING gin (tags);

CREATE TABLE IF NOT EXISTS ticket_actions (
    ticket_id   bigint NOT NULL REFERENCES tickets (id),
    id          integer NOT NULL,
    type        text NOT NULL,
    body        text NOT NULL,
    author_id   text NOT NULL,
    origin      integer NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (ticket_id, id)
);

CREATE TABLE IF NOT EXISTS ticket_status_history (
    ticket_id      bigint NOT NULL REFERENCES tickets (id),
    seq            integer NOT NULL,
    status         text NOT NULL,
    base_status    text NOT NULL,
    justification  text NOT NULL DEFAULT '',
    changed_by     text NOT NULL,
    started_at     timestamptz NOT NULL,
    ended_at       timestamptz,
    PRIMARY KEY (ticket_id, seq)
);

CREATE TABLE IF NOT EXISTS ticket_owner_history (
    ticket_id   bigint NOT NULL REFERENCES tickets (id),
    seq         integer NOT NULL,
    owner_id    text,
    team_id     text,
    changed_by  text NOT NULL,
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    PRIMARY KEY (ticket_id, seq)
);

CREATE TABLE IF NOT EXISTS audit_log (
    id          bigserial PRIMARY KEY,
    actor_id    text NOT NULL,
    entity      text NOT NULL,
    entity_id   text NOT NULL,
    action      text NOT NULL,
    before      jsonb,
    after       jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS audit_log_entity_idx ON audit_log (entity, entity_id);

CREATE TABLE IF NOT EXISTS idempotency_keys (
    owner_id      text NOT NULL,
    key           text NOT NULL,
    method        text NOT NULL,
    path          text NOT NULL,
    request_hash  bytea NOT NULL,
    status        integer NOT NULL DEFAULT 0,
    body          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner_id, key)
);

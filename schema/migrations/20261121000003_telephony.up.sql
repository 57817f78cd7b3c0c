-- Telephony: call groups (the PBX's queues), agents' telephony status, the distribution ledger
-- the API keeps while it offers calls, and the calls themselves (projected by PhoneCall workflows).

CREATE TABLE IF NOT EXISTS call_groups (
    id           text PRIMARY KEY,
    queue_id     bigint NOT NULL UNIQUE,
    name         text NOT NULL,
    calendar_id  text REFERENCES calendars (id),
    -- members in distribution order: [{"agentId": "...", "extension": "5252"}]
    members      jsonb NOT NULL DEFAULT '[]',
    -- round-robin position: the member index the next search starts from
    rr_next      integer NOT NULL DEFAULT 0,
    is_active    boolean NOT NULL DEFAULT true,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS agent_telephony (
    person_id        text PRIMARY KEY REFERENCES persons (id),
    online           boolean NOT NULL DEFAULT false,
    phone_online     boolean NOT NULL DEFAULT false,
    -- the call the agent is on, kept by the call workflows
    current_call_id  text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- One row per PBX call id: what was offered, and whether the call is waiting, ongoing or over.
-- Written by the API under the group's row lock, so two calls are never offered the same free
-- agent while another is free.
CREATE TABLE IF NOT EXISTS call_offers (
    call_id        text PRIMARY KEY,
    queue_id       bigint NOT NULL,
    group_id       text NOT NULL,
    client_number  text NOT NULL,
    received_at    timestamptz NOT NULL,
    -- extensions offered in the current round for this call (reset when every free agent was tried)
    round        text[] NOT NULL DEFAULT '{}',
    -- every extension ever offered for this call
    offered      text[] NOT NULL DEFAULT '{}',
    extension    text,
    agent_id     text,
    offered_at   timestamptz,
    state        text NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'offered', 'ongoing', 'ended')),
    end_kind     text,
    -- the last answer given to the PBX (an extension or a code)
    last_answer  text,
    -- the number reserved for the call's ticket, once
    ticket_id    bigint,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS call_offers_agent_idx ON call_offers (agent_id) WHERE state IN ('offered', 'ongoing');

CREATE TABLE IF NOT EXISTS calls (
    id               text PRIMARY KEY,
    queue_id         bigint NOT NULL,
    group_id         text NOT NULL,
    client_number    text NOT NULL,
    caller_id        text,
    state            text NOT NULL,
    agent_id         text,
    extension        text,
    received_at      timestamptz NOT NULL,
    transferred_at   timestamptz,
    ended_at         timestamptz,
    waiting_seconds  integer,
    talk_seconds     integer,
    link             text,
    ticket_id        bigint,
    end_reason       text,
    events           jsonb NOT NULL DEFAULT '[]',
    seq              bigint NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS calls_received_idx ON calls (received_at, id);
CREATE INDEX IF NOT EXISTS calls_agent_idx ON calls (agent_id);
CREATE INDEX IF NOT EXISTS calls_queue_idx ON calls (queue_id);

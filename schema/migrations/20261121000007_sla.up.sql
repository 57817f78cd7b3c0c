-- SLA: policies with ordered rules, the record of every SLA fact per ticket, and the ticket's
-- current deadlines (kept by its workflow).

CREATE TABLE IF NOT EXISTS sla_policies (
    id               text PRIMARY KEY,
    name             text NOT NULL UNIQUE,
    is_default       boolean NOT NULL DEFAULT false,
    -- ordered rules: [{"condition","firstResponseMinutes","resolutionMinutes","hours","calendarId"}]
    rules            jsonb NOT NULL DEFAULT '[]',
    -- statuses (by name) or base statuses that pause the SLA
    pause_statuses   text[] NOT NULL DEFAULT '{Stopped}',
    warning_minutes  integer NOT NULL DEFAULT 30,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX IF NOT EXISTS sla_policies_one_default ON sla_policies (is_default) WHERE is_default;

CREATE TABLE IF NOT EXISTS sla_events (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL,
    type        text NOT NULL CHECK (type IN ('applied', 'paused', 'resumed', 'recalculated', 'manual', 'warning', 'breached', 'met')),
    target      text CHECK (target IN ('response', 'resolution')),
    due_at      timestamptz,
    at          timestamptz NOT NULL,
    reason      text NOT NULL DEFAULT '',
    actor_id    text,
    -- written by the ticket workflow; the key makes a retried write land once
    dedupe_key  text NOT NULL UNIQUE
);
CREATE INDEX IF NOT EXISTS sla_events_ticket_idx ON sla_events (ticket_id, id);

ALTER TABLE tickets ADD COLUMN IF NOT EXISTS sla_policy_id text;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS sla_response_due timestamptz;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS sla_solution_due timestamptz;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS sla_solution_due_is_paused boolean NOT NULL DEFAULT false;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS sla_real_response_date timestamptz;
ALTER TABLE tickets ADD COLUMN IF NOT EXISTS sla_manual_by text;
CREATE INDEX IF NOT EXISTS tickets_sla_solution_due_idx ON tickets (sla_solution_due);

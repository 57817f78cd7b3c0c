-- Approvals: the rules that ask for them, the requests (each an Approval workflow, this is its
-- read model), the one-time links approvers decide from, the delegation windows, and the job
-- roles people hold (distinct from the access role).
CREATE TABLE IF NOT EXISTS job_roles (
    name        text PRIMARY KEY,
    created_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE persons ADD COLUMN IF NOT EXISTS job_role text REFERENCES job_roles (name) ON UPDATE CASCADE;
CREATE INDEX IF NOT EXISTS persons_job_role_idx ON persons (job_role) WHERE job_role IS NOT NULL;

CREATE TABLE IF NOT EXISTS approval_rules (
    id              text PRIMARY KEY,
    name            text NOT NULL UNIQUE,
    enabled         boolean NOT NULL DEFAULT true,
    position        integer NOT NULL DEFAULT 0,
    condition       text NOT NULL DEFAULT '',
    events          text[] NOT NULL DEFAULT '{}',
    type            text NOT NULL,
    quorum          jsonb NOT NULL,
    rejection       text NOT NULL DEFAULT 'any',
    approvers       jsonb NOT NULL,
    waiting_status  text NOT NULL DEFAULT '',
    on_approved     jsonb NOT NULL DEFAULT '{}',
    on_rejected     jsonb NOT NULL DEFAULT '{}',
    reminders       jsonb,
    expire_after    text NOT NULL DEFAULT '',
    calendar_id     text NOT NULL DEFAULT '',
    on_expire       text NOT NULL DEFAULT 'reject',
    version         integer NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

-- A request's row is written by its workflow only, each write carrying the workflow's sequence
-- number: an older write (a retried activity) never overwrites a newer one.
CREATE TABLE IF NOT EXISTS approval_requests (
    id            text PRIMARY KEY,
    ticket_id     bigint NOT NULL,
    rule_id       text NOT NULL,
    rule_name     text NOT NULL,
    state         text NOT NULL,
    type          text NOT NULL,
    quorum        jsonb NOT NULL,
    steps         jsonb NOT NULL,
    pending       text[] NOT NULL DEFAULT '{}',
    requested_by  text NOT NULL,
    requester_id  text NOT NULL DEFAULT '',
    expires_at    timestamptz,
    end_reason    text NOT NULL DEFAULT '',
    seq           bigint NOT NULL,
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL,
    ended_at      timestamptz
);
CREATE INDEX IF NOT EXISTS approval_requests_ticket_idx ON approval_requests (ticket_id, created_at);
CREATE INDEX IF NOT EXISTS approval_requests_pending_idx ON approval_requests USING gin (pending);

-- A link token is stored as its SHA-256: the database never holds a usable link.
CREATE TABLE IF NOT EXISTS approval_links (
    token_hash   text PRIMARY KEY,
    request_id   text NOT NULL,
    approver_id  text NOT NULL,
    dedupe_key   text NOT NULL UNIQUE,
    expires_at   timestamptz NOT NULL,
    used_at      timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS approval_delegations (
    id             text PRIMARY KEY,
    person_id      text NOT NULL REFERENCES persons (id),
    substitute_id  text NOT NULL REFERENCES persons (id),
    starts_at      timestamptz NOT NULL,
    ends_at        timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    CHECK (ends_at > starts_at),
    CHECK (person_id <> substitute_id)
);
CREATE INDEX IF NOT EXISTS approval_delegations_substitute_idx ON approval_delegations (substitute_id, ends_at);

-- Approval rules are configuration the evaluation reads: their edits raise the generation (so
-- workers' caches reload) and roll out nothing.
CREATE OR REPLACE FUNCTION switchboard_config_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    rec     record;
    change  bigint := 0;
    rollout boolean := true;
BEGIN
    IF TG_OP = 'DELETE' THEN rec := OLD; ELSE rec := NEW; END IF;
    IF TG_OP = 'UPDATE' AND OLD IS NOT DISTINCT FROM NEW THEN
        RETURN NULL;
    END IF;
    UPDATE config_generation SET gen = gen + 1 WHERE id = 1;
    IF TG_TABLE_NAME = 'approval_rules' THEN
        rollout := false; -- read when a ticket event is evaluated; nothing of it lives in open tickets
    ELSIF TG_TABLE_NAME = 'triggers' THEN
        -- Only time conditions live in open tickets (their timers); any other trigger edit is
        -- seen by the next evaluation.
        rollout := false;
        IF TG_OP <> 'INSERT' THEN
            rollout := OLD.timer IS NOT NULL AND 'ticket.time' = ANY(OLD.events);
        END IF;
        IF TG_OP <> 'DELETE' AND NOT rollout THEN
            rollout := NEW.timer IS NOT NULL AND 'ticket.time' = ANY(NEW.events);
        END IF;
    END IF;
    IF rollout THEN
        INSERT INTO config_changes (entity, entity_id, op) VALUES (TG_TABLE_NAME, rec.id, TG_OP)
        RETURNING id INTO change;
    END IF;
    PERFORM pg_notify('switchboard_config', change::text);
    RETURN NULL;
END
$$;

DROP TRIGGER IF EXISTS approval_rules_config_changed ON approval_rules;
CREATE TRIGGER approval_rules_config_changed AFTER INSERT OR UPDATE OR DELETE ON approval_rules
    FOR EACH ROW EXECUTE FUNCTION switchboard_config_changed();

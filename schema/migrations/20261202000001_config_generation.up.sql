-- One number that rises with every committed edit of configuration that evaluations read
-- (triggers, SLA policies, calendars). Workers cache configuration between NOTIFYs; a ticket
-- created or signalled after an edit carries the generation it must see (read in the same
-- statement that reserves its number, or by the rollout's dispatcher), so a worker whose
-- notification has not arrived yet reads again instead of evaluating with what it cached.
-- A single row: the editing transactions queue on its lock, so generations commit in order.
CREATE TABLE IF NOT EXISTS config_generation (
    id   int PRIMARY KEY DEFAULT 1 CHECK (id = 1),
    gen  bigint NOT NULL DEFAULT 0
);
INSERT INTO config_generation (id, gen) VALUES (1, 0) ON CONFLICT DO NOTHING;

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
    IF TG_TABLE_NAME = 'triggers' THEN
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

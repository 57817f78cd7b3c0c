-- Configuration changes that open tickets must learn of (an SLA policy, a calendar, a trigger
-- with a time condition). A trigger on each table writes the change here in the editing
-- transaction and NOTIFYs its id, so a change is never lost when no worker listens (workers
-- drain the rows at start) and a rolled-back edit neither lands nor notifies. A worker starts
-- one ConfigRollout workflow for the pending rows and marks them dispatched. Every edit of
-- these tables also NOTIFYs (payload "0" when no rollout is needed) so workers drop their
-- cached configuration.
CREATE TABLE IF NOT EXISTS config_changes (
    id             bigserial PRIMARY KEY,
    entity         text NOT NULL,   -- sla_policies, calendars or triggers
    entity_id      text NOT NULL,
    op             text NOT NULL,   -- INSERT, UPDATE or DELETE
    created_at     timestamptz NOT NULL DEFAULT now(),
    dispatched_at  timestamptz
);
CREATE INDEX IF NOT EXISTS config_changes_pending ON config_changes (id) WHERE dispatched_at IS NULL;

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

DROP TRIGGER IF EXISTS config_changed ON sla_policies;
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE ON sla_policies
    FOR EACH ROW EXECUTE FUNCTION switchboard_config_changed();
DROP TRIGGER IF EXISTS config_changed ON calendars;
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE ON calendars
    FOR EACH ROW EXECUTE FUNCTION switchboard_config_changed();
DROP TRIGGER IF EXISTS config_changed ON triggers;
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE ON triggers
    FOR EACH ROW EXECUTE FUNCTION switchboard_config_changed();

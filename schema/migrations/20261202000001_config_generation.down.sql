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
DROP TABLE IF EXISTS config_generation;

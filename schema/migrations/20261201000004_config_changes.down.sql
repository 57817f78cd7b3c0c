DROP TRIGGER IF EXISTS config_changed ON triggers;
DROP TRIGGER IF EXISTS config_changed ON calendars;
DROP TRIGGER IF EXISTS config_changed ON sla_policies;
DROP FUNCTION IF EXISTS switchboard_config_changed();
DROP TABLE IF EXISTS config_changes;

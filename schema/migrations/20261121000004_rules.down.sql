ALTER TABLE tickets DROP COLUMN IF EXISTS parent_id;
DROP TABLE IF EXISTS notifications, trigger_executions, triggers;

ALTER TABLE tickets DROP COLUMN IF EXISTS sla_policy_id, DROP COLUMN IF EXISTS sla_response_due,
    DROP COLUMN IF EXISTS sla_solution_due, DROP COLUMN IF EXISTS sla_solution_due_is_paused,
    DROP COLUMN IF EXISTS sla_real_response_date, DROP COLUMN IF EXISTS sla_manual_by;
DROP TABLE IF EXISTS sla_events, sla_policies;

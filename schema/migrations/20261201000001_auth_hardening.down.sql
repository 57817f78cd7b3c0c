ALTER TABLE idempotency_keys DROP COLUMN IF EXISTS redacted;
DROP INDEX IF EXISTS api_tokens_person_idx;
ALTER TABLE idempotency_keys DROP COLUMN IF EXISTS attempt;
ALTER TABLE idempotency_keys DROP COLUMN IF EXISTS lease_until;

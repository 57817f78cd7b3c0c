-- Idempotency keys belong to a token (owner_id holds the token id from now on; older rows,
-- keyed by person, simply expire). An in-progress key holds a lease: a process killed mid-request
-- leaves a key that another request may take over once lease_until has passed. attempt is the
-- generation a ticket change's Temporal update id carries, raised after a request that failed,
-- so that a retry with the same key really retries.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS lease_until timestamptz NOT NULL DEFAULT now() + interval '2 minutes';
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS attempt integer NOT NULL DEFAULT 0;

CREATE INDEX IF NOT EXISTS api_tokens_person_idx ON api_tokens (person_id);
-- The shown-once fields (a webhook secret, a minted token) left out of the stored answer; a
-- replay names them in Idempotent-Redacted.
ALTER TABLE idempotency_keys ADD COLUMN IF NOT EXISTS redacted text NOT NULL DEFAULT '';

-- Webhooks: where events are POSTed, and the execution log of every delivery (one row per
-- delivery, one per attempt). Deliveries are written by WebhookDelivery workflows; they carry no
-- foreign key to webhooks or tickets, because a projection write must never fail forever and
-- leave a workflow stuck (webhooks are deactivated, never deleted).

CREATE TABLE IF NOT EXISTS webhooks (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    url         text NOT NULL,
    -- whsec_ + base64 of 32 random bytes; kept in clear because every attempt signs with it
    secret      text NOT NULL,
    is_active   boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS webhook_deliveries (
    id                text PRIMARY KEY,
    webhook_id        text NOT NULL,
    event             text NOT NULL,
    ticket_id         bigint,
    trigger_id        text,
    -- the URL of the latest attempt (the webhook's URL when the delivery was created, before)
    url               text NOT NULL DEFAULT '',
    state             text NOT NULL DEFAULT 'pending'
                      CHECK (state IN ('pending', 'succeeded', 'dead', 'skipped')),
    attempts          integer NOT NULL DEFAULT 0,
    last_status_code  integer,
    -- when the workflow makes the next attempt, while pending
    next_attempt_at   timestamptz,
    payload           jsonb NOT NULL,
    redelivery_of     text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS webhook_deliveries_webhook ON webhook_deliveries (webhook_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS webhook_deliveries_ticket ON webhook_deliveries (ticket_id, created_at DESC, id DESC)
    WHERE ticket_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS webhook_attempts (
    delivery_id       text NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    attempt           integer NOT NULL,
    at                timestamptz NOT NULL,
    url               text NOT NULL,
    -- null when no answer came (refused, unreachable, timed out): see error
    status_code       integer,
    latency_ms        integer NOT NULL,
    response_excerpt  text NOT NULL DEFAULT '' CHECK (octet_length(response_excerpt) <= 1024),
    error             text,
    PRIMARY KEY (delivery_id, attempt)
);

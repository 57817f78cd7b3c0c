-- Business-hours calendars: a weekly schedule of open intervals in an IANA time zone, less
-- holidays. week and holidays hold internal/calendar's Spec as written (validated by the API):
-- week {"monday": [{"start": "09:00", "end": "18:00"}], ...}, holidays [{"date", "name",
-- "recurring"}]. Call groups (and later SLA policies) refer to a calendar by id.

CREATE TABLE IF NOT EXISTS calendars (
    id          text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    timezone    text NOT NULL,
    week        jsonb NOT NULL DEFAULT '{}',
    holidays    jsonb NOT NULL DEFAULT '[]',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

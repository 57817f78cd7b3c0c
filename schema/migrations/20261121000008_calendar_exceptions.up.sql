-- Calendar exceptions: dates whose own intervals replace their weekday's (none closes the date),
-- as internal/calendar's Spec.Exceptions: [{"date": "2026-12-24", "name": "Christmas Eve",
-- "intervals": [{"start": "09:00", "end": "13:00"}]}, ...].

ALTER TABLE calendars ADD COLUMN IF NOT EXISTS exceptions jsonb NOT NULL DEFAULT '[]';

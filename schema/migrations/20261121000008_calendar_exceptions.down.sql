ALTER TABLE calendars DROP COLUMN IF EXISTS exceptions;

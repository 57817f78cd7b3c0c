ALTER TABLE attachments DROP COLUMN IF EXISTS claimed_at;

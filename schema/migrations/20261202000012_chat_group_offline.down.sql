ALTER TABLE chat_groups DROP COLUMN IF EXISTS intake_close_seconds;
ALTER TABLE chat_groups DROP COLUMN IF EXISTS offline_autoresponder;
ALTER TABLE chat_groups DROP COLUMN IF EXISTS offline_prompt;

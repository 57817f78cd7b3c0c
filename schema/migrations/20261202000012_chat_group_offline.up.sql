-- A chat group's offline flow (chats outside its business hours or with no agent available):
-- the YES/NO prompt and the autoresponder sent once the ticket is made (NULL: the defaults of
-- workflows.DefaultOfflinePrompt / DefaultOfflineAutoresponder), and how long after the
-- customer's last message their message window on the ticket closes without //end.
ALTER TABLE chat_groups ADD COLUMN IF NOT EXISTS offline_prompt text;
ALTER TABLE chat_groups ADD COLUMN IF NOT EXISTS offline_autoresponder text;
ALTER TABLE chat_groups ADD COLUMN IF NOT EXISTS intake_close_seconds integer NOT NULL DEFAULT 600;

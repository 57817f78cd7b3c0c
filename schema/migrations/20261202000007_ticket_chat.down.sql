DROP TABLE IF EXISTS chat_invitations;
DROP INDEX IF EXISTS chats_created;
DROP INDEX IF EXISTS tickets_chat_id;
ALTER TABLE tickets DROP COLUMN IF EXISTS chat_talk_time;
ALTER TABLE tickets DROP COLUMN IF EXISTS chat_waiting_time;
ALTER TABLE tickets DROP COLUMN IF EXISTS chat_widget;
ALTER TABLE tickets DROP COLUMN IF EXISTS chat_group;
ALTER TABLE tickets DROP COLUMN IF EXISTS chat_id;

DROP INDEX IF EXISTS attachments_chat_action;
ALTER TABLE attachments DROP CONSTRAINT IF EXISTS attachments_one_owner;
DELETE FROM attachments WHERE chat_id IS NOT NULL;
ALTER TABLE attachments DROP COLUMN IF EXISTS chat_id;
ALTER TABLE attachments ALTER COLUMN ticket_id SET NOT NULL;
DROP TABLE IF EXISTS chat_visitors;

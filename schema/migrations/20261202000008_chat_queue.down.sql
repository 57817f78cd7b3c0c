ALTER TABLE chats DROP COLUMN IF EXISTS queue_position;

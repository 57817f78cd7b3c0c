-- A waiting chat's place in its group's queue (from 1), written by the chat distributor; NULL
-- when the chat does not wait.
ALTER TABLE chats ADD COLUMN IF NOT EXISTS queue_position int;

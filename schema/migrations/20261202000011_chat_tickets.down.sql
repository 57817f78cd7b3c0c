DROP TABLE IF EXISTS channel_contacts;
ALTER TABLE chats DROP COLUMN IF EXISTS channel_contact;
ALTER TABLE chats DROP COLUMN IF EXISTS channel;
DROP TABLE IF EXISTS chat_ticket_chats;
DROP TABLE IF EXISTS chat_tickets;

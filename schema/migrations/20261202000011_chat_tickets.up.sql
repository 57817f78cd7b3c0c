-- Chat tickets: the tickets of chats that reached no agent (outside the group's business hours,
-- nobody online, or the chat waited queueWait) and went through the offline flow (YES/NO,
-- //end, the intake window). The ticket itself is an ordinary ticket (origin 5, its Ticket
-- workflow); this row is what the agents' queues (/api/v1/chat-tickets) need beside it.
--   accepted_by/accepted_at: the claim of an agent's accept or quick accept (set once, under
--     FOR UPDATE SKIP LOCKED, before the ticket's workflow makes the agent its owner), so two
--     agents accepting at once never get the same ticket.
--   intake_closed_at: the customer's message window ended (//end, or intakeClose after their
--     last message); until then the customer's messages join the ticket.
--   archived_at: 90 days after creation (ChatTicketArchive workflow): out of the queues, still
--     readable and searchable.
--   closed_*: who closed it from the queue, or why it closed by itself (the customer reached
--     an agent in a live chat: close_reason live_chat, closed_chat_id that chat).
CREATE TABLE IF NOT EXISTS chat_tickets (
    ticket_id        bigint PRIMARY KEY,
    chat_id          text NOT NULL,
    customer_id      text,
    group_id         text NOT NULL,
    department_id    text,
    channel          text NOT NULL DEFAULT 'web',
    channel_contact  text,
    created_at       timestamptz NOT NULL,
    intake_closed_at timestamptz,
    accepted_by      text,
    accepted_at      timestamptz,
    closed_at        timestamptz,
    closed_by        text,
    close_reason     text,
    closed_chat_id   text,
    archived_at      timestamptz
);
CREATE INDEX IF NOT EXISTS chat_tickets_queue ON chat_tickets (created_at) WHERE archived_at IS NULL;
CREATE INDEX IF NOT EXISTS chat_tickets_customer ON chat_tickets (customer_id) WHERE closed_at IS NULL;

-- Every chat a ticket of the offline flow took messages from (the first one is chat_tickets.
-- chat_id; a later chat of the same customer merged into the open ticket adds a row).
CREATE TABLE IF NOT EXISTS chat_ticket_chats (
    chat_id   text PRIMARY KEY,
    ticket_id bigint NOT NULL,
    added_at  timestamptz NOT NULL
);

-- The chat's channel: web (the widget) or whatsapp (the Twilio adapter), and the customer's
-- address on it (a WhatsApp number).
ALTER TABLE chats ADD COLUMN IF NOT EXISTS channel text NOT NULL DEFAULT 'web';
ALTER TABLE chats ADD COLUMN IF NOT EXISTS channel_contact text;

-- A contact on a messaging channel (WhatsApp): the customer person it is and when they last
-- wrote, which opens or restarts WhatsApp's 24-hour window.
CREATE TABLE IF NOT EXISTS channel_contacts (
    channel         text NOT NULL,
    contact         text NOT NULL,
    customer_id     text NOT NULL,
    last_inbound_at timestamptz,
    PRIMARY KEY (channel, contact)
);

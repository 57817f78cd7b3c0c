-- Messages sent to WhatsApp contacts (through Twilio), one row per message of a chat or a
-- ticket (key chat/<chat>/<seq> or ticket/<ticket>/<action>): inserted before the send, so a
-- message is sent at most once by Switchboard (a send whose answer was lost is not repeated;
-- error says why a send failed).
CREATE TABLE IF NOT EXISTS whatsapp_outbox (
    key          text PRIMARY KEY,
    contact      text NOT NULL,
    body         text NOT NULL DEFAULT '',
    template_id  text,
    provider_sid text,
    error        text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    sent_at      timestamptz
);

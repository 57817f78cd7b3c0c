-- WhatsApp message templates: what an agent sends a contact whose 24-hour window has closed.
-- body has numbered parameters {{1}}, {{2}}, ...; content_sid is the provider's id of the
-- approved template (Twilio's Content API: HX + 32 hex digits), which the send names.
CREATE TABLE IF NOT EXISTS message_templates (
    id          text PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    language    text NOT NULL,
    body        text NOT NULL,
    content_sid text NOT NULL,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);

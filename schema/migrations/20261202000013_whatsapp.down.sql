DROP TABLE IF EXISTS whatsapp_outbox;

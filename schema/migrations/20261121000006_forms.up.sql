-- Forms: custom field definitions (tickets and persons) and the display rules that shape the
-- ticket form.

CREATE TABLE IF NOT EXISTS custom_fields (
    id          text PRIMARY KEY,
    entity      text NOT NULL CHECK (entity IN ('ticket', 'person')),
    key         text NOT NULL,
    label       text NOT NULL,
    type        text NOT NULL,
    options     text[] NOT NULL DEFAULT '{}',
    is_active   boolean NOT NULL DEFAULT true,
    position    integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- a key names one field per entity, whatever its case
CREATE UNIQUE INDEX IF NOT EXISTS custom_fields_entity_key_idx ON custom_fields (entity, lower(key));

CREATE TABLE IF NOT EXISTS display_rules (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    entity      text NOT NULL DEFAULT 'ticket',
    condition   text NOT NULL DEFAULT '',
    fields      jsonb NOT NULL DEFAULT '[]',
    position    integer NOT NULL DEFAULT 0,
    enabled     boolean NOT NULL DEFAULT true,
    -- rises with every edit; compiled conditions are cached by (id, version)
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS display_rules_entity_idx ON display_rules (entity, position, id);

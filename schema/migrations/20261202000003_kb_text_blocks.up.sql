-- The knowledge base (articles in markdown, published ones readable by anyone at /kb/{slug})
-- and the text building blocks agents insert into messages (shared, or personal to their
-- owner). Both are configuration: versioned, audited, written through the API's config path.

CREATE TABLE IF NOT EXISTS kb_articles (
    id            text PRIMARY KEY,
    slug          text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    title         text NOT NULL,
    body          text NOT NULL DEFAULT '',   -- markdown
    category      text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published')),
    version       integer NOT NULL DEFAULT 1,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz                 -- set when first published, kept while published
);
CREATE INDEX IF NOT EXISTS kb_articles_status_idx ON kb_articles (status, id);

CREATE TABLE IF NOT EXISTS text_blocks (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    body        text NOT NULL,                -- markdown with {{ticket.subject}}-style placeholders
    -- NULL: shared by every agent; else personal to that person
    owner_id    text REFERENCES persons (id) ON DELETE CASCADE,
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS text_blocks_owner_idx ON text_blocks (owner_id, id);

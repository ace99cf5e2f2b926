-- The knowledge base: categories, articles with their word index, bookmarks and
-- what each agent read last.
CREATE TABLE kb_categories (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    -- Deferred: a copy of the table may bring a child before its parent.
    parent_id TEXT REFERENCES kb_categories (id) DEFERRABLE INITIALLY DEFERRED,
    created_at BIGINT NOT NULL
);
CREATE INDEX kb_categories_parent ON kb_categories (parent_id);

CREATE TABLE kb_articles (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category_id TEXT REFERENCES kb_categories (id),
    tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    visibility TEXT NOT NULL CHECK (visibility IN ('internal', 'public')),
    author_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    views BIGINT NOT NULL DEFAULT 0,
    helpful_yes BIGINT NOT NULL DEFAULT 0,
    helpful_no BIGINT NOT NULL DEFAULT 0,
    -- Weighted like the SQLite index: title A, tags B, body D. The english
    -- configuration stems word forms.
    search tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A')
        || setweight(to_tsvector('english', translate(tags, '[]",', '    ')), 'B')
        || setweight(to_tsvector('english', body), 'D')
    ) STORED
);
CREATE INDEX kb_articles_category ON kb_articles (category_id);
CREATE INDEX kb_articles_views ON kb_articles (views DESC);
CREATE INDEX kb_articles_updated ON kb_articles (updated_at DESC);
CREATE INDEX kb_articles_search ON kb_articles USING GIN (search);

-- Small typos: trigram similarity on titles when pg_trgm can be had; without it the
-- store falls back to prefix matching.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'pg_trgm is not available: knowledge-base typo matching uses prefixes';
END
$$;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm') THEN
        EXECUTE 'CREATE INDEX kb_articles_title_trgm ON kb_articles USING GIN (title gin_trgm_ops)';
    END IF;
END
$$;

CREATE TABLE kb_bookmarks (
    agent_id TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (agent_id, article_id)
);

CREATE TABLE kb_reads (
    agent_id TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    read_at BIGINT NOT NULL,
    PRIMARY KEY (agent_id, article_id)
);
CREATE INDEX kb_reads_recent ON kb_reads (agent_id, read_at DESC);

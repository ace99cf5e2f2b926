-- The knowledge base: categories, articles, their full-text indexes, bookmarks and
-- what each agent read last.
CREATE TABLE kb_categories (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id TEXT REFERENCES kb_categories (id),
    created_at INTEGER NOT NULL
);
CREATE INDEX kb_categories_parent ON kb_categories (parent_id);

CREATE TABLE kb_articles (
    id TEXT PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    category_id TEXT REFERENCES kb_categories (id),
    -- A JSON array of strings.
    tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL CHECK (status IN ('draft', 'published')),
    visibility TEXT NOT NULL CHECK (visibility IN ('internal', 'public')),
    author_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    views INTEGER NOT NULL DEFAULT 0,
    helpful_yes INTEGER NOT NULL DEFAULT 0,
    helpful_no INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX kb_articles_category ON kb_articles (category_id);
CREATE INDEX kb_articles_views ON kb_articles (views DESC);
CREATE INDEX kb_articles_updated ON kb_articles (updated_at DESC);

-- Words: the porter stemmer folds word forms (connect, connected, connecting),
-- unicode61 folds case and accents. Weighted by column in bm25(): title, tags, body.
-- It keeps its own copy of the text (an external-content index would need a rowid
-- that VACUUM never renumbers); the triggers keep it exact.
CREATE VIRTUAL TABLE kb_fts USING fts5 (
    id UNINDEXED,
    title,
    tags,
    body,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
-- Letters: trigrams of the title and tags, for small typos the word index misses.
CREATE VIRTUAL TABLE kb_fts_tri USING fts5 (
    id UNINDEXED,
    title,
    tags,
    tokenize = 'trigram'
);
-- The rank of each index: bm25 with the column weights (the unindexed id counts
-- nothing). Queries `ORDER BY rank` so FTS5 sorts, and a LIMIT stops the scan early.
INSERT INTO kb_fts (kb_fts, rank) VALUES ('rank', 'bm25(0.0, 10.0, 4.0, 1.0)');
INSERT INTO kb_fts_tri (kb_fts_tri, rank) VALUES ('rank', 'bm25(0.0, 3.0, 1.0)');

CREATE TRIGGER kb_articles_fts_insert AFTER INSERT ON kb_articles BEGIN
    INSERT INTO kb_fts (id, title, tags, body) VALUES (
        new.id, new.title,
        (SELECT group_concat(value, ' ') FROM json_each(new.tags)), new.body);
    INSERT INTO kb_fts_tri (id, title, tags) VALUES (
        new.id, new.title, (SELECT group_concat(value, ' ') FROM json_each(new.tags)));
END;
CREATE TRIGGER kb_articles_fts_delete AFTER DELETE ON kb_articles BEGIN
    DELETE FROM kb_fts WHERE id = old.id;
    DELETE FROM kb_fts_tri WHERE id = old.id;
END;
CREATE TRIGGER kb_articles_fts_update AFTER UPDATE OF title, tags, body ON kb_articles BEGIN
    DELETE FROM kb_fts WHERE id = old.id;
    DELETE FROM kb_fts_tri WHERE id = old.id;
    INSERT INTO kb_fts (id, title, tags, body) VALUES (
        new.id, new.title,
        (SELECT group_concat(value, ' ') FROM json_each(new.tags)), new.body);
    INSERT INTO kb_fts_tri (id, title, tags) VALUES (
        new.id, new.title, (SELECT group_concat(value, ' ') FROM json_each(new.tags)));
END;

CREATE TABLE kb_bookmarks (
    agent_id TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, article_id)
);

-- The last time each agent opened each article (the "recent" list).
CREATE TABLE kb_reads (
    agent_id TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES kb_articles (id) ON DELETE CASCADE,
    read_at INTEGER NOT NULL,
    PRIMARY KEY (agent_id, article_id)
);
CREATE INDEX kb_reads_recent ON kb_reads (agent_id, read_at DESC);

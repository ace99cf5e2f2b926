-- Canned responses. Written so it can run more than once: the server also creates
-- the table on start-up when this migration has not been applied.
CREATE TABLE IF NOT EXISTS canned_responses (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    shortcut TEXT NOT NULL,
    body TEXT NOT NULL,
    category TEXT,
    scope TEXT NOT NULL CHECK (scope IN ('personal', 'team')),
    owner_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
-- A shortcut names one team response, and one personal response per agent.
CREATE UNIQUE INDEX IF NOT EXISTS canned_responses_shortcut ON canned_responses (
    scope,
    (CASE WHEN scope = 'team' THEN '' ELSE owner_id END),
    shortcut
);
CREATE INDEX IF NOT EXISTS canned_responses_owner ON canned_responses (owner_id);

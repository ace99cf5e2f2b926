-- Reports (PostgreSQL): the response-time rollup (derived from messages, rebuilt at will) and the
-- index the handled/resolution/CSAT aggregates read.

-- One row per answered wait (see docs/reports.md): who answered, when, how long the
-- customer had waited, and whether it was the chat's first response.
CREATE TABLE report_responses (
    chat_id TEXT NOT NULL,
    agent_id TEXT NOT NULL,
    department_id TEXT NOT NULL,
    answered_at BIGINT NOT NULL,
    wait_ms BIGINT NOT NULL,
    first BIGINT NOT NULL
);
CREATE INDEX report_responses_chat ON report_responses(chat_id);
-- Covering: the aggregates read nothing but the index.
CREATE INDEX report_responses_at ON report_responses(answered_at, agent_id, department_id, first, wait_ms);

-- The seq up to which each chat's responses are in the rollup.
CREATE TABLE report_chats (
    chat_id TEXT PRIMARY KEY,
    last_seq BIGINT NOT NULL
);

-- Chats with messages at or after this Unix millisecond may be newer than the rollup.
CREATE TABLE report_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    watermark BIGINT NOT NULL
);
INSERT INTO report_state (id, watermark) VALUES (1, 0);

CREATE INDEX chats_report_closed ON chats(closed_at, assignee_id, department_id, created_at, rating_score, status)
    WHERE status = 'closed';

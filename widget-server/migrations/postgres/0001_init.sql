-- Agent Panel schema (PostgreSQL): the same tables as the SQLite schema after its
-- migrations 0001..0004, so one installation can move from one to the other.
--
-- Times are Unix milliseconds (UTC) in BIGINT, as SQLite stores them. Every other
-- number is BIGINT too, so rows decode into the same `i64`s on both backends.
-- JSON (tags, custom fields, attachments, event payloads) is TEXT holding exactly the
-- text SQLite holds: nothing queries inside it, the same serde decoder reads it, and
-- the payload a client receives from `sync` is byte-for-byte what was written.
-- Flags are BOOLEAN.

CREATE TABLE departments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
-- SQLite's `UNIQUE COLLATE NOCASE`: look names up with `lower(name) = lower($1)`.
CREATE UNIQUE INDEX departments_name ON departments (lower(name));

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    status TEXT NOT NULL DEFAULT 'offline',
    max_chats BIGINT NOT NULL DEFAULT 8,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- Tokens issued before this moment are refused: a password reset signs the
    -- agent out everywhere.
    sessions_valid_after BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE agent_departments (
    agent_id TEXT NOT NULL REFERENCES agents(id) ON DELETE CASCADE,
    department_id TEXT NOT NULL REFERENCES departments(id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, department_id)
);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    visitor_token_hash TEXT UNIQUE,
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    location TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    custom_fields TEXT NOT NULL DEFAULT '{}',
    blocked BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX customers_email ON customers (email);
CREATE INDEX customers_name ON customers (name);

CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    department_id TEXT NOT NULL REFERENCES departments(id),
    status TEXT NOT NULL CHECK (status IN ('waiting', 'active', 'closed')),
    assignee_id TEXT REFERENCES agents(id),
    tags TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    last_message_at BIGINT NOT NULL,
    waiting_since BIGINT NOT NULL,
    last_seq BIGINT NOT NULL DEFAULT 0,
    agent_read_seq BIGINT NOT NULL DEFAULT 0,
    customer_read_seq BIGINT NOT NULL DEFAULT 0,
    unread_count BIGINT NOT NULL DEFAULT 0,
    last_message_id TEXT,
    last_public_message_id TEXT,
    rating_score BIGINT,
    rating_comment TEXT,
    closed_at BIGINT,
    resolution TEXT
);
CREATE INDEX chats_queue ON chats (status, department_id, waiting_since);
CREATE INDEX chats_customer ON chats (customer_id, created_at);
CREATE INDEX chats_assignee ON chats (assignee_id, status);
CREATE INDEX chats_last_message ON chats (last_message_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL REFERENCES chats(id),
    seq BIGINT NOT NULL,
    client_msg_id TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'note', 'event')),
    body TEXT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    UNIQUE (chat_id, seq),
    UNIQUE (chat_id, client_msg_id)
);

-- The event log: one increasing id across the deployment. Who may see an event is
-- kept beside it so that `sync` can filter without decoding payloads.
-- The id is assigned by the writer under a transaction-level advisory lock, not by a
-- sequence: a sequence hands out ids in call order but transactions commit in any
-- order, so a reader could see id N+1 before N commits (see store/postgres).
CREATE TABLE events (
    id BIGINT PRIMARY KEY CHECK (id > 0),
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    customer_payload TEXT,
    department_id TEXT,
    prev_department_id TEXT,
    agent_id TEXT,
    customer_id TEXT,
    broadcast BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX events_customer ON events (customer_id, id);

CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);

-- Files sent with messages. The bytes live in the store, so one backup holds
-- everything and every node of a deployment can serve them.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('agent', 'customer')),
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    data BYTEA NOT NULL,
    chat_id TEXT,
    message_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

-- Canned responses.
CREATE TABLE canned_responses (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    shortcut TEXT NOT NULL,
    body TEXT NOT NULL,
    category TEXT,
    scope TEXT NOT NULL CHECK (scope IN ('personal', 'team')),
    owner_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- A shortcut names one team response, and one personal response per agent.
CREATE UNIQUE INDEX canned_responses_shortcut ON canned_responses (
    scope,
    (CASE WHEN scope = 'team' THEN '' ELSE owner_id END),
    shortcut
);
CREATE INDEX canned_responses_owner ON canned_responses (owner_id);

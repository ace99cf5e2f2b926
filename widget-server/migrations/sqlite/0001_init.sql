-- Agent Panel schema (SQLite). Times are Unix milliseconds (UTC).
CREATE TABLE departments (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at INTEGER NOT NULL
);

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'supervisor', 'admin')),
    status TEXT NOT NULL DEFAULT 'offline',
    max_chats INTEGER NOT NULL DEFAULT 8,
    password_hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
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
    blocked INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX customers_email ON customers(email);
CREATE INDEX customers_name ON customers(name);

CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    department_id TEXT NOT NULL REFERENCES departments(id),
    status TEXT NOT NULL CHECK (status IN ('waiting', 'active', 'closed')),
    assignee_id TEXT REFERENCES agents(id),
    tags TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    last_message_at INTEGER NOT NULL,
    waiting_since INTEGER NOT NULL,
    last_seq INTEGER NOT NULL DEFAULT 0,
    agent_read_seq INTEGER NOT NULL DEFAULT 0,
    customer_read_seq INTEGER NOT NULL DEFAULT 0,
    unread_count INTEGER NOT NULL DEFAULT 0,
    last_message_id TEXT,
    last_public_message_id TEXT,
    rating_score INTEGER,
    rating_comment TEXT,
    closed_at INTEGER,
    resolution TEXT
);
CREATE INDEX chats_queue ON chats(status, department_id, waiting_since);
CREATE INDEX chats_customer ON chats(customer_id, created_at);
CREATE INDEX chats_assignee ON chats(assignee_id, status);
CREATE INDEX chats_last_message ON chats(last_message_at);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL REFERENCES chats(id),
    seq INTEGER NOT NULL,
    client_msg_id TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('text', 'note', 'event')),
    body TEXT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    UNIQUE (chat_id, seq),
    UNIQUE (chat_id, client_msg_id)
);

-- The event log: one increasing id across the deployment. Who may see an event is
-- kept beside it so that `sync` can filter without decoding payloads.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    payload TEXT NOT NULL,
    customer_payload TEXT,
    department_id TEXT,
    prev_department_id TEXT,
    agent_id TEXT,
    customer_id TEXT,
    broadcast INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX events_customer ON events(customer_id, id);

CREATE TABLE revoked_tokens (
    jti TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);

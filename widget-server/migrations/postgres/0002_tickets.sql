-- Tickets (PostgreSQL): the same tables as SQLite migration 0005: a human number from
-- a counter row (never reused), a timeline of entries with a per-ticket seq and, for
-- what the customer sees, a separate public_seq.
CREATE TABLE ticket_counter (
    id BIGINT PRIMARY KEY CHECK (id = 1),
    next_number BIGINT NOT NULL
);
INSERT INTO ticket_counter (id, next_number) VALUES (1, 1001);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    number BIGINT NOT NULL UNIQUE,
    subject TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'pending', 'resolved', 'closed')),
    priority TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'urgent')),
    priority_rank BIGINT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    department_id TEXT NOT NULL REFERENCES departments(id),
    assignee_id TEXT REFERENCES agents(id),
    tags TEXT NOT NULL DEFAULT '[]',
    due_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('agent', 'chat', 'widget', 'email')),
    chat_id TEXT REFERENCES chats(id),
    -- Deferred: a copied installation may hold a source before its target.
    merged_into TEXT REFERENCES tickets(id) DEFERRABLE INITIALLY DEFERRED,
    resolution TEXT,
    spam BOOLEAN NOT NULL DEFAULT FALSE,
    last_seq BIGINT NOT NULL DEFAULT 0,
    public_seq BIGINT NOT NULL DEFAULT 0,
    entry_count BIGINT NOT NULL DEFAULT 0
);
-- Lists read the live tickets (not merged) from covering indexes, so a count or a
-- page over 100,000 tickets never visits the table rows: by department and status,
-- by assignee, by priority and by last update; the page's rows are fetched last.
CREATE INDEX tickets_list ON tickets(spam, department_id, status, priority_rank, assignee_id, updated_at, created_at, due_at, id) WHERE merged_into IS NULL;
CREATE INDEX tickets_assignee_list ON tickets(assignee_id, spam, status, priority_rank, department_id, updated_at, created_at, due_at, id) WHERE merged_into IS NULL;
CREATE INDEX tickets_priority ON tickets(priority_rank, updated_at, spam, department_id, status, assignee_id, id) WHERE merged_into IS NULL;
-- Tag filters meet the live tickets by id without visiting their rows.
CREATE INDEX tickets_live_by_id ON tickets(id, spam, department_id, status, priority_rank, assignee_id, updated_at, created_at, due_at) WHERE merged_into IS NULL;
CREATE INDEX tickets_updated ON tickets(updated_at);
CREATE INDEX tickets_created ON tickets(created_at);
CREATE INDEX tickets_due ON tickets(due_at);
CREATE INDEX tickets_customer ON tickets(customer_id, created_at);
CREATE INDEX tickets_chat ON tickets(chat_id);

CREATE TABLE ticket_tags (
    tag TEXT NOT NULL,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    PRIMARY KEY (tag, ticket_id)
);

CREATE TABLE ticket_links (
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    other_id TEXT NOT NULL REFERENCES tickets(id),
    kind TEXT NOT NULL CHECK (kind IN ('related', 'duplicate_of', 'split_from')),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (ticket_id, other_id)
);

CREATE TABLE ticket_entries (
    id TEXT PRIMARY KEY,
    ticket_id TEXT NOT NULL REFERENCES tickets(id),
    seq BIGINT NOT NULL,
    public_seq BIGINT,
    client_msg_id TEXT NOT NULL,
    author_kind TEXT NOT NULL,
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('reply', 'note', 'event')),
    body TEXT NOT NULL,
    attachments TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    UNIQUE (ticket_id, seq),
    UNIQUE (ticket_id, client_msg_id)
);

-- Internal notes about a customer (agents only).
CREATE TABLE customer_notes (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    author_id TEXT NOT NULL,
    author_name TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX customer_notes_customer ON customer_notes(customer_id, created_at);

-- Files sent with messages. The bytes live in the store, so one backup holds
-- everything and every node of a deployment can serve them.
CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    owner_kind TEXT NOT NULL CHECK (owner_kind IN ('agent', 'customer')),
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    data BLOB NOT NULL,
    chat_id TEXT,
    message_id TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id);

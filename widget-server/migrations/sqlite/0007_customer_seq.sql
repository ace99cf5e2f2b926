-- The visitor's numbering: a message's `customer_seq` is the count of messages the
-- visitor may see (every kind but `note`) up to and including it; a note repeats the
-- number before it. `customer_last_seq` is the chat's count of visible messages.
ALTER TABLE messages ADD COLUMN customer_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE chats ADD COLUMN customer_last_seq INTEGER NOT NULL DEFAULT 0;

UPDATE messages SET customer_seq = (
    SELECT COUNT(*) FROM messages m
    WHERE m.chat_id = messages.chat_id AND m.seq <= messages.seq AND m.kind != 'note'
);
UPDATE chats SET customer_last_seq = (
    SELECT COUNT(*) FROM messages m WHERE m.chat_id = chats.id AND m.kind != 'note'
);

-- A visitor's history pages and reads by their own numbers.
CREATE INDEX messages_customer_seq ON messages(chat_id, customer_seq);

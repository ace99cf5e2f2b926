-- Tokens issued before this moment (Unix milliseconds) are refused: a password reset
-- signs the agent out everywhere.
ALTER TABLE agents ADD COLUMN sessions_valid_after INTEGER NOT NULL DEFAULT 0;

//! The outbox: messages typed by the agent that the server has not acknowledged yet.
//! It is plain data here; the net layer writes it to disk and sends it.

use serde::{Deserialize, Serialize};
use shared::model::{Attachment, ChatId, MessageKind};
use time::OffsetDateTime;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Waiting for a connection.
    Pending,
    /// Emitted, no ack yet. Resent with the same `client_msg_id` after a reconnect,
    /// which the server deduplicates.
    Sending,
    /// Refused by the server (too long, chat closed, not allowed): kept so the agent
    /// can read the reason and copy the text; never resent on its own.
    Failed { reason: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxItem {
    pub client_msg_id: String,
    pub chat_id: ChatId,
    pub body: String,
    pub kind: MessageKind,
    /// Files uploaded before the message was queued; only their ids go on the wire.
    /// Only queued while online (an upload needs the server), but kept on disk like
    /// the text so a send interrupted by a disconnect is resent with them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    pub status: OutboxStatus,
}

impl OutboxItem {
    pub fn is_failed(&self) -> bool {
        matches!(self.status, OutboxStatus::Failed { .. })
    }
}

/// The file next to the session: whose outbox it is, and the items in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct OutboxFile {
    pub server: String,
    pub agent_id: String,
    pub items: Vec<OutboxItem>,
}

impl OutboxFile {
    /// Items loaded from disk: whatever was in flight when the console stopped is
    /// pending again (the server deduplicates by `client_msg_id`).
    pub fn restored(mut self) -> Vec<OutboxItem> {
        for it in &mut self.items {
            if it.status == OutboxStatus::Sending {
                it.status = OutboxStatus::Pending;
            }
        }
        self.items
    }
}

//! What both backends share to keep the response rollup: how a stored message reads
//! as a history line, and how far back a refresh looks.

use crate::domain::metrics::{Line, Party};

/// Chats refreshed per write job (keeps each job short next to live writes).
pub const REFRESH_CHUNK: i64 = 500;

/// A refresh looks this far behind the previous one, for writes that were in flight
/// (or stamped by a node whose clock is behind) when it ran.
pub const WATERMARK_MARGIN_MS: i64 = 5 * 60_000;

/// A stored message (`author_kind`, `author_id`, `kind`, `created_at`) as a line of
/// the chat's history.
pub fn history_line(author_kind: &str, author_id: &str, kind: &str, at_ms: i64) -> Line {
    let party = match author_kind {
        "customer" => Party::Customer,
        "agent" => Party::Agent(author_id.to_string()),
        _ => Party::System,
    };
    Line {
        at_ms,
        party,
        visible: kind == "text",
    }
}

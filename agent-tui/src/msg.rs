//! Everything that can happen to the console: keys, ticks, and what the network
//! worker reports (already sanitised by the net layer), grouped by domain.

use crossterm::event::KeyEvent;
use shared::ApiError;
use shared::events::{ServerEvent, TypingEvent};
use time::OffsetDateTime;

use crate::action::Action;
pub use crate::net::attachments::AttachmentReply;
pub use crate::net::canned::CannedReply;
pub use crate::net::chats::{ChatOp, ChatReply};
pub use crate::net::dashboard::DashboardReply;
pub use crate::net::directory::DirectoryReply;
pub use crate::net::kb::KbReply;
pub use crate::net::session::SessionReply;
pub use crate::net::tickets::{TicketOp, TicketReply};

// Messages move through a channel a few at a time; boxing the network variant
// would buy nothing measurable.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Msg {
    Key(KeyEvent),
    Paste(String),
    Resize {
        width: u16,
        height: u16,
    },
    /// The clock moved on (typing expiry, flash timeout, wait times).
    Tick(OffsetDateTime),
    /// An action from outside the keymap (tests, the command line).
    Action(Action),
    Net(NetEvent),
}

/// Why a send did not go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// The server answered no: it will say no again, so the item is marked failed.
    Refused(ApiError),
    /// No answer (offline, timeout): the item stays pending and is resent.
    Transient(String),
}

#[derive(Debug, Clone)]
pub enum ConnEvent {
    Connecting {
        attempt: u32,
    },
    Connected,
    Disconnected {
        reason: String,
        retry_in_ms: Option<u64>,
    },
    /// The server refused the token (expired or revoked).
    AuthFailed(String),
    /// The latest ping's round trip, in milliseconds.
    Rtt(u32),
}

/// What the worker reports: the socket's state, pushes, and each domain's results.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum NetEvent {
    Conn(ConnEvent),
    /// A pushed server event (also replayed by `sync`).
    Push(ServerEvent),
    Typing(TypingEvent),
    Session(SessionReply),
    Chats(ChatReply),
    Directory(DirectoryReply),
    Canned(CannedReply),
    Attachments(AttachmentReply),
    Tickets(TicketReply),
    Kb(KbReply),
    Dashboard(DashboardReply),
    /// A request that has no better place to report: shown in the message line.
    Failed {
        what: String,
        error: String,
    },
}

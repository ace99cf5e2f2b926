//! Everything that can happen to the console: keys, ticks, and what the network
//! worker reports (already sanitised by the net layer).

use crossterm::event::KeyEvent;
use shared::ApiError;
use shared::canned::CannedResponse;
use shared::events::{ServerEvent, SyncAck, TypingEvent};
use shared::model::{
    Agent, Attachment, Chat, ChatId, ChatStatus, Customer, CustomerProfile, Department, Message,
};
use time::OffsetDateTime;

use crate::action::Action;
use crate::state::Session;

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

/// Which chat operation an ack answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatOp {
    Claim,
    Transfer,
    Close,
    Reopen,
    Tag,
}

impl ChatOp {
    pub fn verb(self) -> &'static str {
        match self {
            ChatOp::Claim => "claim",
            ChatOp::Transfer => "transfer",
            ChatOp::Close => "close",
            ChatOp::Reopen => "reopen",
            ChatOp::Tag => "tag",
        }
    }
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
}

#[derive(Debug, Clone)]
pub enum NetEvent {
    LoggedIn(Session),
    LoginFailed(String),
    Conn(ConnEvent),
    Rtt(u32),
    ChatsLoaded {
        status: ChatStatus,
        chats: Vec<Chat>,
    },
    ChatLoaded(Chat),
    MessagesLoaded {
        chat_id: ChatId,
        messages: Vec<Message>,
        older: bool,
    },
    CustomerLoaded(CustomerProfile),
    AgentsLoaded(Vec<Agent>),
    DepartmentsLoaded(Vec<Department>),
    Server(ServerEvent),
    Typing(TypingEvent),
    Synced(SyncAck),
    SendAcked {
        client_msg_id: String,
        message: Message,
    },
    SendFailed {
        client_msg_id: String,
        error: SendError,
    },
    ChatActionDone {
        op: ChatOp,
        chat: Chat,
    },
    ChatActionFailed {
        op: ChatOp,
        chat_id: ChatId,
        error: SendError,
    },
    PresenceSet(Agent),
    CustomerBlocked(Customer),
    Exported {
        path: String,
    },
    /// A file is on the server, ready to go with the chat's next message.
    Uploaded {
        chat_id: ChatId,
        /// As typed after `:attach`.
        path: String,
        attachment: Attachment,
    },
    /// A file could not be attached (missing, too large, refused…).
    UploadFailed {
        chat_id: ChatId,
        path: String,
        error: String,
    },
    /// A message's file was written to `path`.
    AttachmentSaved {
        name: String,
        path: String,
    },
    /// A request that has no better place to report: shown in the message line.
    Failed {
        what: String,
        error: String,
    },
    CannedLoaded(Vec<CannedResponse>),
    CannedCreated(CannedResponse),
    CannedDeleted {
        shortcut: String,
    },
    /// A REST call answered 401: the session is over.
    SessionExpired,
}

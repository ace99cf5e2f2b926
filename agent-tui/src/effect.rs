//! What `update` asks the outside world to do: network commands for the worker,
//! files to write, the bell, the clipboard, quitting.

use shared::canned::CannedInput;
use shared::model::{AgentStatus, Attachment, ChatId, ChatStatus, CustomerId, Seq};

use crate::state::{OutboxItem, Session};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    Net(NetCmd),
    /// Write the outbox next to the session (atomically).
    SaveOutbox(Vec<OutboxItem>),
    SaveSession(Session),
    ClearSession,
    Bell,
    /// A desktop notification through the terminal (OSC 9 / OSC 777).
    Notify {
        title: String,
        body: String,
    },
    /// Put text on the clipboard through the terminal (OSC 52).
    Clipboard(String),
    Quit,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetCmd {
    Login {
        server: String,
        email: String,
        password: String,
        remember: bool,
    },
    /// Start (or restart with a new token) the socket and REST client.
    Connect {
        server: String,
        token: String,
    },
    Logout,
    LoadChats {
        status: ChatStatus,
    },
    LoadChat(ChatId),
    LoadMessages {
        chat_id: ChatId,
        before_seq: Option<Seq>,
    },
    LoadCustomer(CustomerId),
    LoadAgents,
    LoadDepartments,
    Sync {
        since_event_id: i64,
    },
    Send(OutboxItem),
    Read {
        chat_id: ChatId,
        seq: Seq,
    },
    Typing {
        chat_id: ChatId,
        typing: bool,
    },
    Claim(ChatId),
    Transfer {
        chat_id: ChatId,
        to_agent_id: Option<String>,
        to_department_id: Option<String>,
    },
    Close {
        chat_id: ChatId,
        resolution: Option<String>,
    },
    Reopen(ChatId),
    Tag {
        chat_id: ChatId,
        add: Vec<String>,
        remove: Vec<String>,
    },
    Block {
        customer_id: CustomerId,
        blocked: bool,
    },
    Presence(AgentStatus),
    Export {
        chat_id: ChatId,
        path: String,
    },
    /// Check and read a local file, then upload it for `chat_id`'s next message.
    Upload {
        chat_id: ChatId,
        /// As typed after `:attach` (`~/` is the home directory).
        path: String,
    },
    /// Download a file of a message into `dir` (None: `~/Downloads` if it exists,
    /// else the current directory), never overwriting anything.
    SaveAttachment {
        attachment: Attachment,
        dir: Option<String>,
    },
    /// The agent's personal canned responses and the team's.
    LoadCanned,
    CreateCanned(CannedInput),
    DeleteCanned {
        id: String,
        shortcut: String,
    },
}

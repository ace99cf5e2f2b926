//! What `update` asks the outside world to do: network commands for the worker
//! (grouped by domain), files to write, the bell, the clipboard, quitting.

pub use crate::net::attachments::AttachmentCmd;
pub use crate::net::canned::CannedCmd;
pub use crate::net::chats::ChatCmd;
pub use crate::net::dashboard::DashboardCmd;
pub use crate::net::directory::DirectoryCmd;
pub use crate::net::kb::KbCmd;
pub use crate::net::session::SessionCmd;
pub use crate::net::tickets::TicketCmd;
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

/// A command for the network worker; each domain's commands are its own enum, run
/// by its own module under `net/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetCmd {
    Session(SessionCmd),
    Chats(ChatCmd),
    Directory(DirectoryCmd),
    Canned(CannedCmd),
    Attachments(AttachmentCmd),
    Tickets(TicketCmd),
    Kb(KbCmd),
    Dashboard(DashboardCmd),
}

macro_rules! into_effect {
    ($($cmd:ident => $variant:ident),* $(,)?) => {$(
        impl From<$cmd> for NetCmd {
            fn from(c: $cmd) -> NetCmd {
                NetCmd::$variant(c)
            }
        }
        impl From<$cmd> for Effect {
            fn from(c: $cmd) -> Effect {
                Effect::Net(NetCmd::$variant(c))
            }
        }
    )*};
}

into_effect!(
    SessionCmd => Session,
    ChatCmd => Chats,
    DirectoryCmd => Directory,
    CannedCmd => Canned,
    AttachmentCmd => Attachments,
    TicketCmd => Tickets,
    KbCmd => Kb,
    DashboardCmd => Dashboard,
);

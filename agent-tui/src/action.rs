//! Everything a key can ask the console to do, named in snake_case so the config
//! file's keymap can refer to each action by name.

use serde::{Deserialize, Serialize};

use crate::state::ViewId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    // Movement inside the focused pane.
    MoveDown,
    MoveUp,
    Top,
    Bottom,
    PageDown,
    PageUp,
    // Panes.
    FocusLeft,
    FocusRight,
    NextPane,
    PrevPane,
    FocusQueue,
    FocusChat,
    FocusCustomer,
    // Queue.
    Open,
    NextUnread,
    Search,
    ClearFilter,
    // Composer.
    Compose,
    ComposeNote,
    ToggleNote,
    Send,
    Normal,
    // Chat actions.
    Claim,
    Close,
    Reopen,
    Transfer,
    Tag,
    Export,
    SetStatus,
    // Overlays and the rest.
    CommandLine,
    Help,
    Notifications,
    Refresh,
    CycleTheme,
    CopyLink,
    // Canned responses.
    CannedResponses,
    CannedBrowse,
    // Notifications.
    ToggleRead,
    MarkAllRead,
    // Tickets.
    NextPage,
    PrevPage,
    CycleSort,
    EditFilter,
    MarkEntry,
    SetTicketStatus,
    SetPriority,
    Assign,
    SetDue,
    Merge,
    // Dashboard.
    NewTicket,
    /// Show a view (`go_chats`, `go_notifications`…; named by `Action::name`).
    #[serde(skip)]
    GoTo(ViewId),
    Quit,
}

impl Action {
    /// Every action but the go-to ones, which `all` adds per view.
    const PLAIN: [Action; 51] = [
        Action::MoveDown,
        Action::MoveUp,
        Action::Top,
        Action::Bottom,
        Action::PageDown,
        Action::PageUp,
        Action::FocusLeft,
        Action::FocusRight,
        Action::NextPane,
        Action::PrevPane,
        Action::FocusQueue,
        Action::FocusChat,
        Action::FocusCustomer,
        Action::Open,
        Action::NextUnread,
        Action::Search,
        Action::ClearFilter,
        Action::Compose,
        Action::ComposeNote,
        Action::ToggleNote,
        Action::Send,
        Action::Normal,
        Action::Claim,
        Action::Close,
        Action::Reopen,
        Action::Transfer,
        Action::Tag,
        Action::Export,
        Action::SetStatus,
        Action::CommandLine,
        Action::Help,
        Action::Notifications,
        Action::Refresh,
        Action::CycleTheme,
        Action::CopyLink,
        Action::CannedResponses,
        Action::CannedBrowse,
        Action::ToggleRead,
        Action::MarkAllRead,
        Action::NextPage,
        Action::PrevPage,
        Action::CycleSort,
        Action::EditFilter,
        Action::MarkEntry,
        Action::SetTicketStatus,
        Action::SetPriority,
        Action::Assign,
        Action::SetDue,
        Action::Merge,
        Action::NewTicket,
        Action::Quit,
    ];

    /// Every action, with one go-to per view.
    pub fn all() -> impl Iterator<Item = Action> {
        Action::PLAIN
            .into_iter()
            .chain(ViewId::all().map(Action::GoTo))
    }

    /// The snake_case name used in the config file.
    pub fn name(self) -> String {
        if let Action::GoTo(v) = self {
            return format!("go_{}", v.name());
        }
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// The action a config file names.
    pub fn parse(name: &str) -> Option<Action> {
        if let Some(v) = name.strip_prefix("go_") {
            return ViewId::parse(v).map(Action::GoTo);
        }
        serde_json::from_value(serde_json::Value::String(name.to_owned())).ok()
    }

    /// What the action does, for the help overlay.
    pub fn describe(self) -> String {
        let text = match self {
            Action::GoTo(v) if crate::views::get(v).is_none() => {
                return format!("go to the {} view (not available yet)", v.title());
            }
            Action::GoTo(v) => return format!("go to the {} view", v.title()),
            Action::MoveDown => "move down / scroll down",
            Action::MoveUp => "move up / scroll up",
            Action::Top => "go to the top",
            Action::Bottom => "go to the bottom (latest)",
            Action::PageDown => "page down",
            Action::PageUp => "page up",
            Action::FocusLeft => "focus the pane on the left",
            Action::FocusRight => "focus the pane on the right",
            Action::NextPane => "next pane",
            Action::PrevPane => "previous pane",
            Action::FocusQueue => "show the queue",
            Action::FocusChat => "show the chat",
            Action::FocusCustomer => "show the customer",
            Action::Open => "open the selected chat, ticket or notification (in pickers: choose)",
            Action::NextUnread => "jump to the next chat with unread messages",
            Action::Search => "search the queue or the tickets",
            Action::ClearFilter => "clear search and filters",
            Action::Compose => "write a reply",
            Action::ComposeNote => "write an internal note",
            Action::ToggleNote => "switch between reply and internal note",
            Action::Send => "send the message",
            Action::Normal => "leave the mode (back to normal)",
            Action::Claim => "claim the chat",
            Action::Close => "close the chat or ticket (asks for a resolution)",
            Action::Reopen => "reopen a closed chat or ticket",
            Action::Transfer => "transfer to an agent or department",
            Action::Tag => "tag the chat or ticket",
            Action::Export => "export the transcript or ticket to a file",
            Action::SetStatus => "set your status",
            Action::CommandLine => "command line",
            Action::Help => "this help",
            Action::Notifications => "the notifications (like g n)",
            Action::Refresh => "reload lists from the server",
            Action::CycleTheme => "next theme (dark, light, high contrast)",
            Action::CopyLink => "copy the chat link (OSC 52)",
            Action::CannedResponses => {
                "canned responses (only as the first character; otherwise types it)"
            }
            Action::CannedBrowse => "switch between typing the search and browsing with j/k",
            Action::ToggleRead => "mark the notification read or unread",
            Action::MarkAllRead => "mark every notification read",
            Action::NextPage => "next page of the list",
            Action::PrevPage => "previous page of the list",
            Action::CycleSort => "next sort order (updated, newest, oldest, priority, due)",
            Action::EditFilter => "edit the filter line (:filter)",
            Action::MarkEntry => "mark or unmark the timeline entry for :split",
            Action::SetTicketStatus => "set the ticket's status (:status)",
            Action::SetPriority => "set the ticket's priority (:priority)",
            Action::Assign => "assign the ticket to an agent or department (picker)",
            Action::SetDue => "set the ticket's due date (:due)",
            Action::Merge => "merge the ticket into another (picker with search)",
            Action::NewTicket => "new ticket (the Tickets view's :ticket new)",
            Action::Quit => "quit",
        };
        text.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_snake_case_and_parse_back() {
        for a in Action::all() {
            let n = a.name();
            assert!(!n.is_empty());
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '_'), "{n}");
            assert_eq!(Action::parse(&n), Some(a), "{n}");
        }
        assert_eq!(Action::MoveDown.name(), "move_down");
        assert_eq!(
            Action::GoTo(ViewId::KnowledgeBase).name(),
            "go_knowledge_base"
        );
        assert_eq!(Action::parse("go_nowhere"), None);
        assert_eq!(Action::parse("no_such_action"), None);
    }
}

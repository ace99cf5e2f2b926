//! The console's state as plain data: the session and connection, the views' own
//! state, the directory every view shares, forms and overlays. Only `update` changes
//! it; `ui` only reads it.

pub mod canned;
pub mod outbox;
pub mod queue;
pub mod views;

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use shared::model::{
    Agent, AgentId, AgentStatus, ChatId, CustomerId, CustomerProfile, Department, DepartmentId,
    EventId,
};
use time::{OffsetDateTime, UtcOffset};

use crate::keys::{KeyPress, Keymap};
pub use canned::CannedPicker;
pub use outbox::{OutboxItem, OutboxStatus};
pub use queue::{QueueFilter, QueueState, Section, SortOrder};
pub use views::ViewId;
pub use views::chats::{
    ChatEntry, ChatScroll, ChatsView, ComposeKind, Composer, History, Pane, new_textarea,
};
pub use views::notifications::{NotificationEntry, NotificationsView};
pub use views::tickets::{TicketPane, TicketsView};

/// A signed-in agent's session, as saved on disk (mode 0600).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub server: String,
    pub token: String,
    pub agent: Agent,
    #[serde(default)]
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Normal,
    Insert,
    Command,
    Search,
    Help,
    Picker,
    /// The canned-response picker over the composer.
    Canned,
    Login,
}

impl Mode {
    pub fn label(self) -> &'static str {
        match self {
            Mode::Normal => "NORMAL",
            Mode::Insert => "INSERT",
            Mode::Command => "COMMAND",
            Mode::Search => "SEARCH",
            Mode::Help => "HELP",
            Mode::Picker => "PICK",
            Mode::Canned => "CANNED",
            Mode::Login => "LOGIN",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ThemeName {
    #[default]
    Dark,
    Light,
    HighContrast,
}

impl ThemeName {
    pub const ALL: [ThemeName; 3] = [ThemeName::Dark, ThemeName::Light, ThemeName::HighContrast];
    pub fn as_str(self) -> &'static str {
        match self {
            ThemeName::Dark => "dark",
            ThemeName::Light => "light",
            ThemeName::HighContrast => "high-contrast",
        }
    }
    pub fn parse(s: &str) -> Option<ThemeName> {
        ThemeName::ALL.into_iter().find(|t| t.as_str() == s)
    }
    pub fn next(self) -> ThemeName {
        match self {
            ThemeName::Dark => ThemeName::Light,
            ThemeName::Light => ThemeName::HighContrast,
            ThemeName::HighContrast => ThemeName::Dark,
        }
    }
}

/// Where the socket stands, as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    /// Not signed in yet.
    Idle,
    Connecting {
        attempt: u32,
    },
    Connected,
    Offline {
        reason: String,
        retry_at: Option<OffsetDateTime>,
    },
    /// The server refused the token: sign in again.
    AuthFailed(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub state: ConnState,
    pub rtt_ms: Option<u32>,
    /// The highest `event_id` applied; `sync` resumes from here.
    pub last_event_id: EventId,
    /// Whether `last_event_id` is a real baseline (after the first sync).
    pub has_baseline: bool,
}

impl Default for Connection {
    fn default() -> Self {
        Connection {
            state: ConnState::Idle,
            rtt_ms: None,
            last_event_id: 0,
            has_baseline: false,
        }
    }
}

impl Connection {
    pub fn is_online(&self) -> bool {
        self.state == ConnState::Connected
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginField {
    Server,
    Email,
    Password,
    Remember,
}

#[derive(Debug, Clone)]
pub struct LoginForm {
    pub server: String,
    pub email: String,
    pub password: String,
    pub remember: bool,
    pub field: LoginField,
    pub error: Option<String>,
    pub busy: bool,
}

impl Default for LoginForm {
    fn default() -> Self {
        LoginForm {
            server: String::new(),
            email: String::new(),
            password: String::new(),
            remember: true,
            field: LoginField::Email,
            error: None,
            busy: false,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct CommandLine {
    pub input: String,
    /// Candidates for the word being completed, and which one is shown.
    pub completions: Vec<String>,
    pub completion_idx: Option<usize>,
    /// The input as typed before cycling through completions.
    pub completion_base: Option<String>,
    pub history: Vec<String>,
    pub history_idx: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickerValue {
    Agent(AgentId),
    Ticket(shared::ticket::TicketId),
    Department(DepartmentId),
    Status(AgentStatus),
    Theme(ThemeName),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PickerItem {
    pub label: String,
    pub detail: String,
    /// A status word shown next to the label (agent presence), never colour alone.
    pub badge: Option<String>,
    pub value: PickerValue,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PickerKind {
    Transfer {
        chat_id: ChatId,
    },
    /// Where to merge a ticket (the search runs over the tickets the console knows).
    MergeTicket {
        ticket_id: shared::ticket::TicketId,
    },
    /// Who gets a ticket: an agent or a department.
    AssignTicket {
        ticket_id: shared::ticket::TicketId,
    },
    Status,
    Theme,
}

#[derive(Debug, Clone)]
pub struct Picker {
    pub kind: PickerKind,
    pub title: String,
    pub items: Vec<PickerItem>,
    pub query: String,
    pub selected: usize,
}

impl Picker {
    /// The items matching the query (case-insensitive, letters in order), best first.
    pub fn visible(&self) -> Vec<&PickerItem> {
        if self.query.is_empty() {
            return self.items.iter().collect();
        }
        let q = self.query.to_lowercase();
        let mut scored: Vec<(usize, &PickerItem)> = self
            .items
            .iter()
            .filter_map(|it| {
                let hay = format!("{} {}", it.label, it.detail).to_lowercase();
                fuzzy_score(&hay, &q).map(|s| (s, it))
            })
            .collect();
        scored.sort_by_key(|(s, _)| *s);
        scored.into_iter().map(|(_, it)| it).collect()
    }
}

/// Lower is better; `None` when `needle`'s characters do not all appear in order.
/// A substring match beats a scattered one, an earlier one beats a later one.
pub fn fuzzy_score(hay: &str, needle: &str) -> Option<usize> {
    if let Some(pos) = hay.find(needle) {
        return Some(pos);
    }
    let mut it = hay.char_indices();
    let mut first = None;
    let mut last = 0;
    for n in needle.chars() {
        let (i, _) = it.by_ref().find(|(_, h)| *h == n)?;
        first.get_or_insert(i);
        last = i;
    }
    Some(1000 + last - first.unwrap_or(0))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlashLevel {
    Info,
    Warn,
    Error,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub text: String,
    pub level: FlashLevel,
    pub at: OffsetDateTime,
}

/// Who is who: agents (with presence and load), departments, and the customer
/// profiles loaded so far. Shared by every view.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    pub agents: Vec<Agent>,
    pub departments: Vec<Department>,
    pub customers: HashMap<CustomerId, CustomerProfile>,
}

#[derive(Debug, Clone)]
pub struct State {
    /// The clock everything time-related reads (tests pin it).
    pub now: OffsetDateTime,
    pub server_url: String,
    pub session: Option<Session>,
    pub mode: Mode,
    /// The view on screen.
    pub view: ViewId,
    pub chats: ChatsView,
    pub notifications: NotificationsView,
    pub tickets: TicketsView,
    pub kb: views::kb::KbView,
    pub dashboard: views::dashboard::DashboardView,
    pub directory: Directory,
    pub conn: Connection,
    pub command: CommandLine,
    pub picker: Option<Picker>,
    pub login: LoginForm,
    pub flash: Option<Flash>,
    pub keymap: Keymap,
    pub pending_keys: Vec<KeyPress>,
    pub theme: ThemeName,
    pub no_color: bool,
    pub help_scroll: u16,
    /// The mode to return to when the help overlay or a picker closes.
    pub prev_mode: Mode,
    /// Extra lines for the help overlay (the demo prints its server URL there).
    pub banner: Vec<String>,
    /// Set by `quit`; the loop exits after the effects run.
    pub quit: bool,
    /// The terminal width, to tell one-pane from three-pane layout.
    pub width: u16,
    /// Whether the terminal tells Ctrl+Enter from Enter (kitty keyboard protocol).
    pub enhanced_keys: bool,
    /// The agent's local time offset, read once at start-up (times show in it).
    pub utc_offset: UtcOffset,
}

impl State {
    pub fn new(server_url: impl Into<String>, now: OffsetDateTime) -> State {
        let server_url = server_url.into();
        State {
            now,
            login: LoginForm {
                server: server_url.clone(),
                ..LoginForm::default()
            },
            server_url,
            session: None,
            mode: Mode::Login,
            view: ViewId::Chats,
            chats: ChatsView::default(),
            notifications: NotificationsView::default(),
            tickets: TicketsView::default(),
            kb: views::kb::KbView::default(),
            dashboard: views::dashboard::DashboardView::default(),
            directory: Directory::default(),
            conn: Connection::default(),
            command: CommandLine::default(),
            picker: None,
            flash: None,
            keymap: Keymap::defaults(),
            pending_keys: Vec::new(),
            theme: ThemeName::Dark,
            no_color: false,
            help_scroll: 0,
            prev_mode: Mode::Normal,
            banner: Vec::new(),
            quit: false,
            width: 160,
            enhanced_keys: false,
            utc_offset: UtcOffset::UTC,
        }
    }

    pub fn me(&self) -> Option<&Agent> {
        self.session.as_ref().map(|s| &s.agent)
    }

    pub fn my_id(&self) -> Option<&str> {
        self.me().map(|a| a.id.as_str())
    }

    /// The composer of the view shown: a ticket's in the Tickets view, else the chat's.
    pub fn composer(&self) -> &Composer {
        if self.view == ViewId::Tickets {
            &self.tickets.composer
        } else {
            &self.chats.composer
        }
    }

    pub fn composer_mut(&mut self) -> &mut Composer {
        if self.view == ViewId::Tickets {
            &mut self.tickets.composer
        } else {
            &mut self.chats.composer
        }
    }

    pub fn is_narrow(&self) -> bool {
        self.width < 100
    }

    pub fn department_name(&self, id: &str) -> Option<&str> {
        self.directory
            .departments
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.as_str())
    }

    pub fn agent_name(&self, id: &str) -> Option<&str> {
        if self.my_id() == Some(id) {
            return self.me().map(|a| a.name.as_str());
        }
        self.directory
            .agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.as_str())
    }
}

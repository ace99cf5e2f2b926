//! The console's state as plain data: chats, messages, the queue view, the outbox, the
//! connection, forms and overlays. Only `update` changes it; `ui` only reads it.

pub mod canned;
pub mod outbox;
pub mod queue;

use std::collections::{BTreeMap, HashMap};

use ratatui_textarea::{TextArea, WrapMode};
use serde::{Deserialize, Serialize};
use shared::canned::CannedResponse;
use shared::model::{
    Agent, AgentId, AgentStatus, Attachment, Chat, ChatId, CustomerId, CustomerProfile, Department,
    DepartmentId, EventId, Message, Notification, Seq,
};
use time::{OffsetDateTime, UtcOffset};

use crate::keys::{KeyPress, Keymap};
pub use canned::CannedPicker;
pub use outbox::{OutboxItem, OutboxStatus};
pub use queue::{QueueFilter, QueueState, Section, SortOrder};

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Queue,
    Chat,
    Customer,
}

impl Pane {
    pub const ALL: [Pane; 3] = [Pane::Queue, Pane::Chat, Pane::Customer];
    pub fn title(self) -> &'static str {
        match self {
            Pane::Queue => "Queue",
            Pane::Chat => "Chat",
            Pane::Customer => "Customer",
        }
    }
    pub fn index(self) -> usize {
        match self {
            Pane::Queue => 0,
            Pane::Chat => 1,
            Pane::Customer => 2,
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
pub enum History {
    NotLoaded,
    Loading,
    /// Loaded the newest page; `complete` when it reaches seq 1.
    Loaded {
        complete: bool,
    },
}

/// One chat and what the console knows about it.
#[derive(Debug, Clone)]
pub struct ChatEntry {
    pub chat: Chat,
    pub messages: BTreeMap<Seq, Message>,
    pub history: History,
    /// The visitor is typing; the indicator expires at this time if no update comes.
    pub customer_typing_until: Option<OffsetDateTime>,
    /// The highest seq this console has marked read.
    pub read_sent: Seq,
    /// When the chat entered the queue (`created_at`, or the last reopen).
    pub waiting_since: OffsetDateTime,
}

impl ChatEntry {
    pub fn new(chat: Chat) -> ChatEntry {
        let waiting_since = chat.created_at;
        ChatEntry {
            chat,
            messages: BTreeMap::new(),
            history: History::NotLoaded,
            customer_typing_until: None,
            read_sent: 0,
            waiting_since,
        }
    }

    pub fn last_seq(&self) -> Seq {
        let local = self.messages.keys().next_back().copied().unwrap_or(0);
        local.max(self.chat.last_seq)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComposeKind {
    Reply,
    Note,
}

impl ComposeKind {
    pub fn label(self) -> &'static str {
        match self {
            ComposeKind::Reply => "REPLY",
            ComposeKind::Note => "NOTE",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Composer {
    pub textarea: TextArea<'static>,
    pub kind: ComposeKind,
    /// Whether the server was last told "typing: true" for `typing_chat`.
    pub typing_on: bool,
    pub typing_chat: Option<ChatId>,
    pub typing_sent_at: Option<OffsetDateTime>,
    pub last_input_at: Option<OffsetDateTime>,
    /// Unsent text per chat, kept when the agent switches chats.
    pub drafts: HashMap<ChatId, (Vec<String>, ComposeKind)>,
    /// Uploaded files waiting for the next message of each chat (`:attach`).
    pub staged: HashMap<ChatId, Vec<Attachment>>,
    /// Uploads under way: the chat they are for and the path as typed.
    pub uploading: Vec<(ChatId, String)>,
}

impl Default for Composer {
    fn default() -> Self {
        Composer {
            textarea: new_textarea(Vec::new()),
            kind: ComposeKind::Reply,
            typing_on: false,
            typing_chat: None,
            typing_sent_at: None,
            last_input_at: None,
            drafts: HashMap::new(),
            staged: HashMap::new(),
            uploading: Vec::new(),
        }
    }
}

pub fn new_textarea(lines: Vec<String>) -> TextArea<'static> {
    let mut ta = if lines.is_empty() {
        TextArea::default()
    } else {
        TextArea::new(lines)
    };
    ta.set_wrap_mode(WrapMode::WordOrGlyph);
    ta.set_max_histories(100);
    ta
}

impl Composer {
    pub fn text(&self) -> String {
        self.textarea.lines().join("\n")
    }
    pub fn is_empty(&self) -> bool {
        self.textarea.lines().iter().all(|l| l.trim().is_empty())
    }
    /// Files staged for `chat_id`'s next message.
    pub fn staged_for(&self, chat_id: &str) -> &[Attachment] {
        self.staged.get(chat_id).map_or(&[], Vec::as_slice)
    }
    /// Paths (as typed) of the files still uploading for `chat_id`.
    pub fn uploading_for<'a>(&'a self, chat_id: &'a str) -> impl Iterator<Item = &'a str> {
        self.uploading
            .iter()
            .filter(move |(c, _)| c == chat_id)
            .map(|(_, n)| n.as_str())
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
    Department(DepartmentId),
    Status(AgentStatus),
    Chat(ChatId),
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
    Transfer { chat_id: ChatId },
    Status,
    Notifications,
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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationEntry {
    pub notification: Notification,
    pub at: OffsetDateTime,
    pub seen: bool,
}

/// Scroll position of the chat history, counted in screen lines from the bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChatScroll {
    pub from_bottom: usize,
    /// Messages that arrived while scrolled up ("new messages below").
    pub unseen: u32,
}

#[derive(Debug, Clone)]
pub struct State {
    /// The clock everything time-related reads (tests pin it).
    pub now: OffsetDateTime,
    pub server_url: String,
    pub session: Option<Session>,
    pub mode: Mode,
    pub focus: Pane,
    pub chats: HashMap<ChatId, ChatEntry>,
    pub queue: QueueState,
    pub open_chat: Option<ChatId>,
    pub chat_scroll: ChatScroll,
    pub customer_scroll: u16,
    pub composer: Composer,
    pub outbox: Vec<OutboxItem>,
    pub conn: Connection,
    pub notifications: Vec<NotificationEntry>,
    pub customers: HashMap<CustomerId, CustomerProfile>,
    pub agents: Vec<Agent>,
    pub departments: Vec<Department>,
    pub command: CommandLine,
    pub picker: Option<Picker>,
    /// Canned responses: the agent's personal ones and the team's, by shortcut.
    pub canned: Vec<CannedResponse>,
    pub canned_picker: Option<CannedPicker>,
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
    /// Whose outbox this is: kept across a sign-out, so another agent signing in on
    /// the same console never sends it.
    pub outbox_agent: Option<String>,
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
            focus: Pane::Queue,
            chats: HashMap::new(),
            queue: QueueState::default(),
            open_chat: None,
            chat_scroll: ChatScroll::default(),
            customer_scroll: 0,
            composer: Composer::default(),
            outbox: Vec::new(),
            conn: Connection::default(),
            notifications: Vec::new(),
            customers: HashMap::new(),
            agents: Vec::new(),
            departments: Vec::new(),
            command: CommandLine::default(),
            picker: None,
            canned: Vec::new(),
            canned_picker: None,
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
            outbox_agent: None,
        }
    }

    pub fn me(&self) -> Option<&Agent> {
        self.session.as_ref().map(|s| &s.agent)
    }

    pub fn my_id(&self) -> Option<&str> {
        self.me().map(|a| a.id.as_str())
    }

    pub fn is_narrow(&self) -> bool {
        self.width < 100
    }

    pub fn open_entry(&self) -> Option<&ChatEntry> {
        self.open_chat.as_ref().and_then(|id| self.chats.get(id))
    }

    pub fn department_name(&self, id: &str) -> Option<&str> {
        self.departments
            .iter()
            .find(|d| d.id == id)
            .map(|d| d.name.as_str())
    }

    pub fn agent_name(&self, id: &str) -> Option<&str> {
        if self.my_id() == Some(id) {
            return self.me().map(|a| a.name.as_str());
        }
        self.agents
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.name.as_str())
    }

    pub fn unseen_notifications(&self) -> usize {
        self.notifications.iter().filter(|n| !n.seen).count()
    }

    /// Outbox items of one chat, in send order.
    pub fn outbox_for<'a>(&'a self, chat_id: &'a str) -> impl Iterator<Item = &'a OutboxItem> {
        self.outbox.iter().filter(move |o| o.chat_id == chat_id)
    }

    /// The chat the chat-level actions (claim, close, transfer…) apply to: the
    /// selected row while the queue has focus, otherwise the open chat.
    pub fn target_chat(&self) -> Option<ChatId> {
        if self.focus == Pane::Queue {
            self.queue
                .selected
                .clone()
                .or_else(|| self.open_chat.clone())
        } else {
            self.open_chat
                .clone()
                .or_else(|| self.queue.selected.clone())
        }
    }
}

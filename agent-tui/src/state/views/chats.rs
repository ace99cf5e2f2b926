//! The Chats view's own state: the chats it knows, the queue, the open chat and its
//! scroll, the composer with drafts and staged files, the outbox, canned responses.

use std::collections::{BTreeMap, HashMap};

use ratatui_textarea::{TextArea, WrapMode};
use shared::canned::CannedResponse;
use shared::model::{Attachment, Chat, ChatId, Message, Seq};
use time::OffsetDateTime;

use crate::state::{CannedPicker, OutboxItem, QueueState};

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

/// Scroll position of the chat history, counted in screen lines from the bottom.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChatScroll {
    pub from_bottom: usize,
    /// Messages that arrived while scrolled up ("new messages below").
    pub unseen: u32,
}

#[derive(Debug, Clone)]
pub struct ChatsView {
    /// Which pane has the keys (and, below 100 columns, which one shows).
    pub focus: Pane,
    /// Every chat the console knows, by id.
    pub entries: HashMap<ChatId, ChatEntry>,
    pub queue: QueueState,
    pub open_chat: Option<ChatId>,
    pub chat_scroll: ChatScroll,
    pub customer_scroll: u16,
    pub composer: Composer,
    pub outbox: Vec<OutboxItem>,
    /// Whose outbox this is: kept across a sign-out, so another agent signing in on
    /// the same console never sends it.
    pub outbox_agent: Option<String>,
    /// Canned responses: the agent's personal ones and the team's, by shortcut.
    pub canned: Vec<CannedResponse>,
    pub canned_picker: Option<CannedPicker>,
}

impl Default for ChatsView {
    fn default() -> Self {
        ChatsView {
            focus: Pane::Queue,
            entries: HashMap::new(),
            queue: QueueState::default(),
            open_chat: None,
            chat_scroll: ChatScroll::default(),
            customer_scroll: 0,
            composer: Composer::default(),
            outbox: Vec::new(),
            outbox_agent: None,
            canned: Vec::new(),
            canned_picker: None,
        }
    }
}

impl ChatsView {
    pub fn open_entry(&self) -> Option<&ChatEntry> {
        self.open_chat.as_ref().and_then(|id| self.entries.get(id))
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

//! The store: one trait per domain that every backend implements, the commands that change state, and
//! what a committed change publishes.
//!
//! Writes are domain operations (claim, send, close…) so that each backend can make
//! its check-then-write atomic. A write is acknowledged only after it is committed;
//! the events it produced carry their store-issued ids and become visible in id order.

use async_trait::async_trait;
use shared::ApiError;
use shared::canned::{CannedInput, CannedResponse, CannedScope};
use shared::events::{
    self, ChatEvent, CustomerEvent, MessageEvent, NotificationEvent, PresenceEvent, ReadEvent,
    ServerEvent,
};
use shared::kb::{Article, ArticleHit, ArticleInput, Category, CategoryInput, ImportReport};
use shared::model::{
    Agent, AgentStatus, Attachment, Chat, ChatStatus, ChatSummary, Customer, CustomerNote,
    CustomerProfile, Department, EventId, Message, MessageKind, Page, Role, Seq,
};
use shared::ticket::{
    EntryKind, LinkKind, Ticket, TicketEntry, TicketEntryEvent, TicketEvent, TicketPriority,
    TicketStatus,
};
use time::OffsetDateTime;

pub mod fail;
pub mod postgres;
pub mod reports;
pub mod sqlite;

pub use crate::domain::audience::{
    VisitorNumbers, customer_message, customer_view, visitor_attachment_url,
};
pub use crate::domain::customer::CustomerEdit;
pub use crate::domain::kb::{ArticleFile, KbAudience, SearchQuery};
pub use crate::domain::quota::UploadQuota;
pub use crate::domain::report::{
    REPORT_SLOT_MS, RatedChat, ReportFilter, ReportGroup, ReportTotals, ReportValues,
};
pub use crate::domain::ticket::TicketChanges;
pub use crate::domain::{Actor, Audience, Published};

#[derive(Debug, Clone)]
pub struct NewAgent {
    pub email: String,
    pub name: String,
    pub role: Role,
    pub department_ids: Vec<String>,
    pub password_hash: String,
    pub max_chats: u32,
}

/// What an administrator changes about an agent; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct AgentChanges {
    pub name: Option<String>,
    pub role: Option<Role>,
    /// The agent's departments, replacing the current ones.
    pub department_ids: Option<Vec<String>>,
    pub max_chats: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatSort {
    Newest,
    Oldest,
    Wait,
}

#[derive(Debug, Clone)]
pub struct ChatFilter {
    pub status: Option<ChatStatus>,
    pub department_id: Option<String>,
    pub assignee_id: Option<String>,
    pub customer_id: Option<String>,
    pub q: Option<String>,
    pub sort: ChatSort,
    pub page: u32,
    pub per_page: u32,
}

/// Who reads the event log in `sync`.
#[derive(Debug, Clone)]
pub enum Viewer {
    Agent(Actor),
    Customer(String),
}

pub enum SyncResult {
    Events(Vec<ServerEvent>, EventId),
    Resync(EventId),
}

/// The outcome of resolving a visitor's token.
pub struct Visitor {
    pub customer: Customer,
    pub token: String,
    pub open_chat_id: Option<String>,
}

pub type StoreResult<T> = Result<T, ApiError>;

/// An uploaded file with who uploaded it and where it was sent.
pub struct AttachmentRecord {
    pub meta: Attachment,
    /// `agent` or `customer`.
    pub owner_kind: String,
    pub owner_id: String,
    /// The chat it was sent in, once sent.
    pub chat_id: Option<String>,
    /// The kind of the message it was sent in (`note` files are agents-only).
    pub message_kind: Option<String>,
    pub data: Vec<u8>,
}

/// Departments, agents, their sessions and presence.
#[async_trait]
pub trait DirectoryStore: Send + Sync {
    async fn create_department(&self, name: &str) -> StoreResult<Department>;
    async fn create_agent(&self, agent: NewAgent) -> StoreResult<Agent>;
    async fn set_password(&self, email: &str, password_hash: &str) -> StoreResult<()>;
    /// Changes an agent's name, role, departments or chat limit; running sessions
    /// follow (their rooms and permissions) within seconds. Pushed as `presence`.
    async fn update_agent(&self, id: &str, changes: AgentChanges) -> StoreResult<Agent>;
    async fn departments(&self) -> StoreResult<Vec<Department>>;
    async fn department_by_name(&self, name: &str) -> StoreResult<Option<Department>>;
    async fn agents(&self) -> StoreResult<Vec<Agent>>;
    async fn agent(&self, id: &str) -> StoreResult<Option<Agent>>;
    /// The agent and its password hash, for login.
    async fn agent_credentials(&self, email: &str) -> StoreResult<Option<(Agent, String)>>;
    /// Tokens of this agent issued before this Unix millisecond are refused (set when the
    /// password changes).
    async fn sessions_valid_after(&self, agent_id: &str) -> StoreResult<i64>;
    async fn is_revoked(&self, jti: &str) -> StoreResult<bool>;
    async fn revoke_token(&self, jti: &str, expires_at_ms: i64) -> StoreResult<()>;
    async fn set_presence(&self, agent_id: &str, status: AgentStatus) -> StoreResult<Agent>;
}

/// Chats and their messages: the queue, the conversation, and every chat action.
#[async_trait]
pub trait ChatStore: Send + Sync {
    async fn chats(&self, viewer: &Actor, filter: &ChatFilter) -> StoreResult<Page<Chat>>;
    async fn chat(&self, id: &str) -> StoreResult<Option<Chat>>;
    /// Messages of a chat, oldest first, before `before_seq` (exclusive), at most `limit`.
    async fn messages(
        &self,
        chat_id: &str,
        before_seq: Option<Seq>,
        limit: u32,
        include_notes: bool,
    ) -> StoreResult<Vec<Message>>;
    /// The chat's counters in its visitor's numbering (`domain::audience`).
    async fn visitor_numbers(&self, chat_id: &str) -> StoreResult<VisitorNumbers>;
    /// The messages a visitor sees, as they see them (their numbering and file links),
    /// oldest first, before their number `before_seq` (exclusive), at most `limit`.
    async fn visitor_messages(
        &self,
        chat_id: &str,
        before_seq: Option<Seq>,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;
    /// Starts the visitor's chat (or adds to their open one); both answered as the
    /// visitor sees them.
    async fn start_chat(
        &self,
        customer_id: &str,
        department_id: &str,
        body: &str,
        client_msg_id: &str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<(Chat, Message)>;
    /// A visitor's message, answered as the visitor sees it (their numbering).
    async fn customer_send(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
        client_msg_id: &str,
        body: &str,
        attachment_ids: &[String],
    ) -> StoreResult<Message>;
    async fn agent_send(
        &self,
        actor: &Actor,
        chat_id: &str,
        client_msg_id: &str,
        body: &str,
        kind: MessageKind,
        attachment_ids: &[String],
    ) -> StoreResult<Message>;
    async fn claim(&self, actor: &Actor, chat_id: &str) -> StoreResult<Chat>;
    async fn transfer(
        &self,
        actor: &Actor,
        chat_id: &str,
        to_agent_id: Option<&str>,
        to_department_id: Option<&str>,
        note: Option<&str>,
    ) -> StoreResult<Chat>;
    async fn close(
        &self,
        actor: &Actor,
        chat_id: &str,
        resolution: Option<&str>,
    ) -> StoreResult<Chat>;
    async fn reopen(&self, actor: &Actor, chat_id: &str) -> StoreResult<Chat>;
    async fn tag(
        &self,
        actor: &Actor,
        chat_id: &str,
        add: &[String],
        remove: &[String],
    ) -> StoreResult<Chat>;
    async fn agent_read(&self, actor: &Actor, chat_id: &str, seq: Seq) -> StoreResult<()>;
    /// The visitor read up to `seq` of their numbering.
    async fn customer_read(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
        seq: Seq,
    ) -> StoreResult<()>;
    async fn rate(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
        score: u8,
        comment: Option<&str>,
    ) -> StoreResult<()>;
    /// The chat a customer is typing in (their open one, or the one named), checked.
    async fn customer_chat(&self, customer_id: &str, chat_id: Option<&str>) -> StoreResult<Chat>;
    /// A customer's chat: the one named (if theirs), else their open or latest one.
    async fn customer_chat_any(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
    ) -> StoreResult<Chat>;
}

/// Visitors (customers): their tokens, profiles and blocking.
#[async_trait]
pub trait VisitorStore: Send + Sync {
    /// Finds the visitor by token (hash), or creates a new one.
    async fn resolve_visitor(
        &self,
        token: Option<&str>,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<Visitor>;
    /// The customer id behind a visitor token, if it is known.
    async fn resolve_visitor_known(&self, token: &str) -> StoreResult<Option<String>>;
    /// Writes the record of a visitor who has none yet, under the customer id their
    /// signed token carries (at their first chat), with the token's hash, `name`
    /// (default `domain::visitor::default_name`) and `email`; a visitor already
    /// stored is left as they are. Returns the visitor.
    async fn create_visitor(
        &self,
        customer_id: &str,
        token: &str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<Customer>;
    async fn customer_profile(&self, id: &str) -> StoreResult<Option<CustomerProfile>>;
    async fn customer(&self, id: &str) -> StoreResult<Option<Customer>>;
    /// The customer's chats that `viewer` may see (of the viewer's departments, as
    /// they are now, or assigned to them; every chat for supervisors and admins),
    /// newest first, a page at a time, as summaries.
    async fn customer_chats(
        &self,
        viewer: &Actor,
        customer_id: &str,
        page: u32,
        per_page: u32,
    ) -> StoreResult<Page<ChatSummary>>;
    async fn block(&self, actor: &Actor, customer_id: &str, blocked: bool)
    -> StoreResult<Customer>;
    /// Writes a validated edit (the caller checked the actor may edit this customer)
    /// and logs `customer:updated`.
    async fn update_customer(
        &self,
        actor: &Actor,
        customer_id: &str,
        edit: CustomerEdit,
    ) -> StoreResult<Customer>;
    /// The customer's internal notes, newest first.
    async fn customer_notes(&self, customer_id: &str) -> StoreResult<Vec<CustomerNote>>;
    /// Adds an internal note (the body is validated) by `actor`.
    async fn add_customer_note(
        &self,
        actor: &Actor,
        customer_id: &str,
        body: String,
    ) -> StoreResult<CustomerNote>;
    /// Deletes a note of this customer: its author, a supervisor or an admin.
    async fn delete_customer_note(
        &self,
        actor: &Actor,
        customer_id: &str,
        note_id: &str,
    ) -> StoreResult<()>;
}

/// Uploaded files.
#[async_trait]
pub trait AttachmentStore: Send + Sync {
    /// Stores an uploaded file; it is sent by naming it in a message. With a quota, the
    /// owner's unsent uploads of the quota's window count against it (checked and
    /// written atomically, so concurrent uploads cannot pass it together).
    async fn create_attachment(
        &self,
        owner_kind: &str,
        owner_id: &str,
        name: &str,
        content_type: &str,
        data: Vec<u8>,
        quota: Option<UploadQuota>,
    ) -> StoreResult<Attachment>;
    /// Deletes uploads never sent in a message that were created before this Unix
    /// millisecond; returns how many.
    async fn purge_unsent_attachments(&self, created_before_ms: i64) -> StoreResult<u64>;
    async fn attachment(&self, id: &str) -> StoreResult<Option<AttachmentRecord>>;
}

/// Canned responses: an agent's personal saved replies and the team's.
#[async_trait]
pub trait CannedStore: Send + Sync {
    /// The viewer's personal responses and every team one, optionally only those whose
    /// shortcut, title or body contains `q` (case-insensitive), ordered by shortcut.
    async fn canned_list(
        &self,
        viewer_id: &str,
        q: Option<&str>,
        page: u32,
        per_page: u32,
    ) -> StoreResult<Page<CannedResponse>>;
    async fn canned(&self, id: &str) -> StoreResult<Option<CannedResponse>>;
    /// Creates a response from validated input; `conflict` when the shortcut is taken.
    async fn create_canned(
        &self,
        owner_id: &str,
        scope: CannedScope,
        input: &CannedInput,
    ) -> StoreResult<CannedResponse>;
    /// Replaces title, shortcut, body and category; `None` if it no longer exists,
    /// `conflict` when the new shortcut is taken.
    async fn update_canned(
        &self,
        current: &CannedResponse,
        input: &CannedInput,
    ) -> StoreResult<Option<CannedResponse>>;
    /// Deletes one response; false if there was none.
    async fn delete_canned(&self, id: &str) -> StoreResult<bool>;
}

/// Which articles a knowledge-base list shows, and in what order: ranked by relevance
/// when there is a search, else the most recently updated first.
#[derive(Debug, Clone)]
pub struct ArticleFilter {
    pub audience: KbAudience,
    pub query: Option<SearchQuery>,
    /// This category and every category below it.
    pub category_id: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

/// The knowledge base: categories, articles and their search, views, votes, and each
/// agent's bookmarks and recent reads.
#[async_trait]
pub trait KbStore: Send + Sync {
    async fn kb_categories(&self) -> StoreResult<Vec<Category>>;
    /// Creates a category from validated input; the parent must exist.
    async fn create_kb_category(&self, input: &CategoryInput) -> StoreResult<Category>;
    /// Renames or moves a category; `invalid` when the move would make a cycle.
    async fn update_kb_category(
        &self,
        id: &str,
        input: &CategoryInput,
    ) -> StoreResult<Option<Category>>;
    /// Deletes an empty category; `conflict` while articles or subcategories use it.
    async fn delete_kb_category(&self, id: &str) -> StoreResult<bool>;
    /// A page of articles the audience may read. With a search, each hit's `snippet`
    /// highlights the matched words; without one it is the body's opening.
    async fn kb_articles(&self, filter: &ArticleFilter) -> StoreResult<Page<ArticleHit>>;
    async fn kb_article(&self, id: &str) -> StoreResult<Option<Article>>;
    async fn kb_article_by_slug(&self, slug: &str) -> StoreResult<Option<Article>>;
    /// Creates an article from validated input; without a slug one is made from the
    /// title (numbered when taken); a chosen slug that is taken is a `conflict`.
    async fn create_kb_article(
        &self,
        author_id: &str,
        input: &ArticleInput,
    ) -> StoreResult<Article>;
    /// Replaces an article's fields; `None` if it no longer exists.
    async fn update_kb_article(
        &self,
        id: &str,
        input: &ArticleInput,
    ) -> StoreResult<Option<Article>>;
    async fn delete_kb_article(&self, id: &str) -> StoreResult<bool>;
    /// Counts a read of the article, and for an agent remembers it among their recent
    /// reads.
    async fn kb_record_view(&self, article_id: &str, agent_id: Option<&str>) -> StoreResult<()>;
    /// Counts a "did it help" answer; false if there is no such article.
    async fn kb_vote(&self, article_id: &str, helpful: bool) -> StoreResult<bool>;
    /// Sets or clears an agent's bookmark; false if there is no such article.
    async fn kb_set_bookmark(
        &self,
        agent_id: &str,
        article_id: &str,
        on: bool,
    ) -> StoreResult<bool>;
    /// The agent's bookmarks that the audience may read, newest bookmark first.
    async fn kb_bookmarks(&self, agent_id: &str, audience: KbAudience)
    -> StoreResult<Vec<Article>>;
    /// What the agent read last, newest first.
    async fn kb_recent(
        &self,
        agent_id: &str,
        audience: KbAudience,
        limit: u32,
    ) -> StoreResult<Vec<Article>>;
    /// The most read articles.
    async fn kb_popular(&self, audience: KbAudience, limit: u32) -> StoreResult<Vec<Article>>;
    /// Imports parsed files in one transaction: categories found or created by path,
    /// articles matched by slug (updated) or created.
    async fn kb_import(
        &self,
        author_id: &str,
        files: Vec<ArticleFile>,
    ) -> StoreResult<ImportReport>;
    /// Every article, oldest first (for export).
    async fn kb_all_articles(&self) -> StoreResult<Vec<Article>>;
}

/// The event log: what `sync` replays and what the dispatcher pushes.
#[async_trait]
pub trait EventStore: Send + Sync {
    async fn events_since(&self, viewer: &Viewer, since: EventId) -> StoreResult<SyncResult>;
    async fn latest_event_id(&self) -> StoreResult<EventId>;
    /// The committed events, in event-id order, for the dispatcher (taken once).
    fn take_events(&self) -> Option<tokio::sync::mpsc::UnboundedReceiver<Published>>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TicketSort {
    Newest,
    Oldest,
    /// Highest priority first, then the latest update.
    Priority,
    /// Earliest due date first (tickets without one last).
    Due,
    /// Latest update first.
    Updated,
}

/// Whose tickets a list shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssigneeFilter {
    Any,
    Unassigned,
    Agent(String),
}

/// Spam in a list: hidden (the default), only spam, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpamFilter {
    Hide,
    Only,
    Any,
}

/// A validated ticket list query.
#[derive(Debug, Clone)]
pub struct TicketFilter {
    /// Any of these statuses (empty: every status).
    pub statuses: Vec<TicketStatus>,
    /// Any of these priorities (empty: every priority).
    pub priorities: Vec<TicketPriority>,
    pub priority_min: Option<TicketPriority>,
    pub department_id: Option<String>,
    pub assignee: AssigneeFilter,
    pub tag: Option<String>,
    /// A number (`#1042`), or text in the subject, the customer's name or email, or
    /// an entry.
    pub q: Option<String>,
    pub spam: SpamFilter,
    /// Merged sources are hidden unless asked for.
    pub include_merged: bool,
    pub customer_id: Option<String>,
    pub sort: TicketSort,
    pub page: u32,
    pub per_page: u32,
}

/// Who a new ticket is for.
#[derive(Debug, Clone)]
pub enum TicketCustomer {
    Id(String),
    /// Found by email, or created.
    Email {
        email: String,
        name: Option<String>,
    },
}

/// A validated new ticket.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub subject: String,
    pub body: String,
    pub customer: TicketCustomer,
    /// `None`: the first department of the actor (or of the deployment).
    pub department_id: Option<String>,
    pub priority: TicketPriority,
    pub tags: Vec<String>,
    pub due_at_ms: Option<i64>,
    pub assignee_id: Option<String>,
    pub client_msg_id: String,
    /// The body is the customer's words, typed by the agent.
    pub on_behalf: bool,
}

/// A change to a ticket, decided by `domain::ticket`.
#[derive(Debug, Clone)]
pub enum TicketAction {
    /// Field changes (`changes.department` is filled by the store from `department_id`).
    Update {
        changes: TicketChanges,
        department_id: Option<String>,
    },
    Close {
        resolution: String,
    },
    Reopen,
    Escalate {
        to_department_id: Option<String>,
        to_agent_id: Option<String>,
        note: Option<String>,
    },
    Spam {
        spam: bool,
        block_customer: bool,
    },
    Link {
        other_id: String,
        kind: LinkKind,
    },
    Unlink {
        other_id: String,
    },
}

/// Whose view of a ticket's entries: an agent's (everything) or the customer's
/// (replies only, numbered by what they see).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryView {
    Agent,
    Customer,
}

/// Tickets: the list, one ticket and its timeline, every ticket action, and the
/// visitor's requests. Every change is logged as `ticket:created`/`ticket:updated`/
/// `ticket:entry` in the same transaction.
#[async_trait]
pub trait TicketStore: Send + Sync {
    async fn tickets(&self, viewer: &Actor, filter: &TicketFilter) -> StoreResult<Page<Ticket>>;
    async fn ticket(&self, id: &str) -> StoreResult<Option<Ticket>>;
    /// Entries after `after_seq` (in the view's numbering), oldest first, at most `limit`.
    async fn ticket_entries(
        &self,
        ticket_id: &str,
        after_seq: Seq,
        limit: u32,
        view: EntryView,
    ) -> StoreResult<Vec<TicketEntry>>;
    async fn create_ticket(&self, actor: &Actor, new: NewTicket) -> StoreResult<Ticket>;
    async fn ticket_action(
        &self,
        actor: &Actor,
        ticket_id: &str,
        action: TicketAction,
    ) -> StoreResult<Ticket>;
    /// A reply or note; `true` with the stored entry when it is a replay of the same
    /// author's `client_msg_id`.
    async fn add_ticket_entry(
        &self,
        actor: &Actor,
        ticket_id: &str,
        kind: EntryKind,
        body: &str,
        client_msg_id: &str,
        attachment_ids: &[String],
    ) -> StoreResult<(TicketEntry, bool)>;
    /// Moves every entry of `ticket_id` into `into` (after its own); answers the target.
    async fn merge_ticket(&self, actor: &Actor, ticket_id: &str, into: &str)
    -> StoreResult<Ticket>;
    /// Moves the chosen entries to a new ticket linked `split_from`; answers it.
    async fn split_ticket(
        &self,
        actor: &Actor,
        ticket_id: &str,
        entry_ids: &[String],
        subject: &str,
    ) -> StoreResult<Ticket>;
    /// A new ticket with the same fields and the first entry's text.
    async fn clone_ticket(&self, actor: &Actor, ticket_id: &str) -> StoreResult<Ticket>;
    /// Converts a chat into a ticket (source `chat`): its messages become the first
    /// entries (replies, notes and lines as they were), and each points at the other.
    async fn chat_to_ticket(
        &self,
        actor: &Actor,
        chat_id: &str,
        subject: Option<&str>,
        priority: Option<TicketPriority>,
    ) -> StoreResult<Ticket>;
    /// The customer's own tickets, in their view, newest first.
    async fn customer_tickets(&self, customer_id: &str) -> StoreResult<Vec<Ticket>>;
    /// Every ticket of a customer (agents' view, for the profile), newest first.
    async fn tickets_of_customer(&self, customer_id: &str) -> StoreResult<Vec<Ticket>>;
    /// The customer answers their ticket (a resolved or pending one reopens).
    async fn customer_ticket_entry(
        &self,
        customer_id: &str,
        ticket_id: &str,
        body: &str,
        client_msg_id: &str,
    ) -> StoreResult<(TicketEntry, bool)>;
    /// A visitor leaves a message as a ticket (source `widget`); answers their view.
    async fn customer_create_ticket(
        &self,
        customer_id: &str,
        subject: &str,
        body: &str,
        email: &str,
        name: Option<&str>,
        client_msg_id: &str,
    ) -> StoreResult<Ticket>;
}

/// Report aggregates over the stored history (definitions in `docs/reports.md`).
#[async_trait]
pub trait ReportStore: Send + Sync {
    /// Brings the response rollup up to date with every committed message (a report
    /// reads it right after, so it is exact up to that moment).
    async fn refresh_reports(&self) -> StoreResult<()>;
    async fn report_totals(
        &self,
        filter: &ReportFilter,
        group: ReportGroup,
    ) -> StoreResult<Vec<ReportTotals>>;
    async fn report_values(&self, filter: &ReportFilter) -> StoreResult<ReportValues>;
    /// Rated handled chats with a comment, newest close first.
    async fn report_comments(
        &self,
        filter: &ReportFilter,
        limit: u32,
    ) -> StoreResult<Vec<RatedChat>>;
}

/// A whole backend: every domain's store. Writes are acknowledged only after commit.
#[async_trait]
pub trait Store:
    DirectoryStore
    + ChatStore
    + VisitorStore
    + AttachmentStore
    + CannedStore
    + EventStore
    + TicketStore
    + KbStore
    + ReportStore
    + 'static
{
    /// Flushes and closes the store; writes after this fail with `unavailable`.
    async fn close_store(&self);
}

/// The store's clock: Unix milliseconds, the unit every stored timestamp uses.
pub fn now_ms() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

/// A stored Unix-millisecond timestamp as a time.
pub fn ts(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

/// A new record id: a UUIDv7, so ids sort by creation time.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// How a visitor token is stored: its SHA-256, hex (a leaked database holds no tokens).
pub fn hash_token(token: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// A `LIKE` pattern matching `q` literally anywhere (`%`, `_` and `\` escaped; use
/// with `ESCAPE '\'`).
pub fn like_pattern(q: &str) -> String {
    let mut p = String::with_capacity(q.len() + 2);
    p.push('%');
    for c in q.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

/// Opens the store named by the configuration (SQLite unless a `postgres://` URL).
pub async fn open(config: &crate::Config) -> anyhow::Result<std::sync::Arc<dyn Store>> {
    let url = config.database_url();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let store = postgres::PgStore::open(&url).await?;
        return Ok(std::sync::Arc::new(store));
    }
    let store = sqlite::SqliteStore::open(&url).await?;
    Ok(std::sync::Arc::new(store))
}

/// Rebuilds a logged event from its name and payload (every backend logs them so).
pub fn decode_event(
    name: &str,
    event_id: EventId,
    payload: &str,
) -> Result<ServerEvent, serde_json::Error> {
    Ok(match name {
        events::CHAT_CREATED => ServerEvent::ChatCreated(ChatEvent {
            event_id,
            chat: serde_json::from_str(payload)?,
        }),
        events::CHAT_UPDATED => ServerEvent::ChatUpdated(ChatEvent {
            event_id,
            chat: serde_json::from_str(payload)?,
        }),
        events::MESSAGE_NEW => ServerEvent::MessageNew(MessageEvent {
            event_id,
            message: serde_json::from_str(payload)?,
        }),
        events::MESSAGE_READ => {
            let ev: ReadEvent = serde_json::from_str(payload)?;
            ServerEvent::MessageRead(ReadEvent { event_id, ..ev })
        }
        events::PRESENCE => ServerEvent::Presence(PresenceEvent {
            event_id,
            agent: serde_json::from_str(payload)?,
        }),
        events::NOTIFICATION => ServerEvent::Notification(NotificationEvent {
            event_id,
            notification: serde_json::from_str(payload)?,
        }),
        events::CUSTOMER_UPDATED => ServerEvent::CustomerUpdated(CustomerEvent {
            event_id,
            customer: serde_json::from_str(payload)?,
        }),
        events::TICKET_CREATED => ServerEvent::TicketCreated(TicketEvent {
            event_id,
            ticket: serde_json::from_str(payload)?,
        }),
        events::TICKET_UPDATED => ServerEvent::TicketUpdated(TicketEvent {
            event_id,
            ticket: serde_json::from_str(payload)?,
        }),
        events::TICKET_ENTRY => ServerEvent::TicketEntry(TicketEntryEvent {
            event_id,
            entry: serde_json::from_str(payload)?,
        }),
        other => {
            return Err(serde::de::Error::custom(format!("unknown event {other}")));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_match_literally() {
        assert_eq!(like_pattern("50%_off\\"), "%50\\%\\_off\\\\%");
        assert_eq!(like_pattern("plain"), "%plain%");
    }

    #[test]
    fn timestamps_round_trip_through_milliseconds() {
        let ms = 1_764_000_000_123;
        assert_eq!((ts(ms).unix_timestamp_nanos() / 1_000_000) as i64, ms);
    }
}

//! The SQLite store: WAL, one writer task that commits many writes per transaction
//! (group commit) and acks each only after the commit, and a pool of readers.
//!
//! One writer means event ids are assigned and committed in increasing order, so a
//! client that has seen event N can never later meet an event below N.

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use futures_util::future::BoxFuture;
use shared::ApiError;
use shared::events::{
    ChatEvent, CustomerEvent, MessageEvent, NotificationEvent, PresenceEvent, ReadEvent,
    ServerEvent,
};
use shared::limits::{MAX_SYNC_EVENTS, MAX_TAGS_PER_CHAT};
use shared::model::{
    Agent, AgentStatus, Attachment, Author, AuthorKind, Chat, ChatStatus, ChatSummary, Customer,
    CustomerProfile, Department, EventId, Message, MessageKind, Notification, Page, Rating, Role,
    Seq,
};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection, Row, SqlSafeStr};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use super::{
    Actor, AttachmentRecord, Audience, ChatFilter, ChatSort, NewAgent, Published, Store,
    StoreResult, SyncResult, Viewer, Visitor, customer_view,
};

/// The most writes committed together in one transaction.
const MAX_BATCH: usize = 512;

pub fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        Migration::new(
            1,
            Cow::Borrowed("init"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!("../../migrations/sqlite/0001_init.sql")).into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            Cow::Borrowed("attachments"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!("../../migrations/sqlite/0002_attachments.sql"))
                .into_sql_str(),
            false,
        ),
    ])
}

/// A failure inside a write: a refusal (nothing was written) or a storage error
/// (the whole batch is rolled back).
enum Fail {
    Api(ApiError),
    Db(sqlx::Error),
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Self {
        Fail::Db(e)
    }
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Fail::Api(e)
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Self {
        Fail::Db(sqlx::Error::Decode(Box::new(e)))
    }
}

type WResult<T> = Result<T, Fail>;

/// What a write leaves for after the commit: events to publish, and the ack.
struct Outcome {
    publish: Vec<Published>,
    db_error: bool,
    finish: Box<dyn FnOnce(Result<(), ApiError>) + Send>,
}

type Job = Box<
    dyn for<'c> FnOnce(&'c mut SqliteConnection, &'c mut WriterCache) -> BoxFuture<'c, Outcome>
        + Send,
>;

/// What the writer remembers between writes so the hot path (a message into a known
/// chat) needs few queries. The writer is the only writer, so the cache is exact; it
/// is dropped whenever a batch rolls back.
#[derive(Default)]
struct WriterCache {
    chats: HashMap<String, ChatCore>,
    /// Customer id → (display name, blocked).
    customers: HashMap<String, (String, bool)>,
}

const MAX_CACHED: usize = 50_000;

/// Writes collect their events here while they run inside the batch.
struct Tx<'c> {
    conn: &'c mut SqliteConnection,
    cache: &'c mut WriterCache,
    publish: Vec<Published>,
}

pub struct SqliteStore {
    read: SqlitePool,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<Published>>>,
    writer_done: Mutex<Option<oneshot::Receiver<()>>>,
}

fn unavailable() -> ApiError {
    ApiError::new(
        shared::ErrorCode::Unavailable,
        "the store is not accepting writes (shutting down or failing); retry",
    )
}

fn db_err(e: sqlx::Error) -> ApiError {
    tracing::error!(error = %e, "store read failed");
    ApiError::new(shared::ErrorCode::Unavailable, "storage error; retry")
}

pub fn now_ms() -> i64 {
    let now = OffsetDateTime::now_utc();
    (now.unix_timestamp_nanos() / 1_000_000) as i64
}

fn ts(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

fn hash_token(token: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: the WAL is synced at every commit, so an acked write survives
            // power loss. Group commit keeps that affordable.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let mut writer = SqliteConnection::connect_with(&opts).await?;
        // `run_direct`: `run(&mut conn)` makes this future not provably `Send`, so
        // `serve` could not be spawned.
        migrator().run_direct(None, &mut writer, false).await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(opts.read_only(true))
            .await?;
        let (jobs_tx, jobs_rx) = mpsc::channel::<Job>(4096);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = oneshot::channel();
        tokio::spawn(async move {
            writer_loop(writer, jobs_rx, events_tx).await;
            let _ = done_tx.send(());
        });
        Ok(SqliteStore {
            read,
            jobs: Mutex::new(Some(jobs_tx)),
            events_rx: Mutex::new(Some(events_rx)),
            writer_done: Mutex::new(Some(done_rx)),
        })
    }

    /// Runs a write in the writer task; answers after its batch has committed.
    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut Tx<'_>) -> BoxFuture<'c, WResult<T>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn, cache| {
            Box::pin(async move {
                let mut t = Tx {
                    conn,
                    cache,
                    publish: Vec::new(),
                };
                let r = f(&mut t).await;
                let publish = std::mem::take(&mut t.publish);
                match r {
                    Ok(v) => Outcome {
                        publish,
                        db_error: false,
                        finish: Box::new(move |commit| {
                            let _ = tx.send(commit.map(|()| v));
                        }),
                    },
                    Err(Fail::Api(e)) => Outcome {
                        publish: Vec::new(),
                        db_error: false,
                        finish: Box::new(move |_| {
                            let _ = tx.send(Err(e));
                        }),
                    },
                    Err(Fail::Db(e)) => {
                        tracing::error!(error = %e, "store write failed; batch rolled back");
                        Outcome {
                            publish: Vec::new(),
                            db_error: true,
                            finish: Box::new(move |_| {
                                let _ = tx.send(Err(ApiError::new(
                                    shared::ErrorCode::Unavailable,
                                    "storage error; nothing was saved, retry",
                                )));
                            }),
                        }
                    }
                }
            })
        });
        let sender = self
            .jobs
            .lock()
            .map_err(|_| unavailable())?
            .clone()
            .ok_or_else(unavailable)?;
        sender.send(job).await.map_err(|_| unavailable())?;
        rx.await.map_err(|_| unavailable())?
    }
}

async fn writer_loop(
    mut conn: SqliteConnection,
    mut jobs: mpsc::Receiver<Job>,
    events: mpsc::UnboundedSender<Published>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut cache = WriterCache::default();
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let mut outcomes = Vec::with_capacity(batch.len());
        let began = sqlx::query("BEGIN IMMEDIATE").execute(&mut conn).await;
        if let Err(e) = began {
            tracing::error!(error = %e, "could not begin a write transaction");
            for job in batch.drain(..) {
                // Run nothing; answer every job with `unavailable`.
                drop(job);
            }
            continue;
        }
        let mut failed = false;
        if cache.chats.len() > MAX_CACHED || cache.customers.len() > MAX_CACHED {
            cache = WriterCache::default();
        }
        for job in batch.drain(..) {
            let o = job(&mut conn, &mut cache).await;
            failed |= o.db_error;
            outcomes.push(o);
        }
        let commit: Result<(), ApiError> = if failed {
            cache = WriterCache::default();
            let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
            Err(ApiError::new(
                shared::ErrorCode::Unavailable,
                "storage error; nothing was saved, retry",
            ))
        } else {
            match sqlx::query("COMMIT").execute(&mut conn).await {
                Ok(_) => Ok(()),
                Err(e) => {
                    tracing::error!(error = %e, "commit failed");
                    cache = WriterCache::default();
                    let _ = sqlx::query("ROLLBACK").execute(&mut conn).await;
                    Err(ApiError::new(
                        shared::ErrorCode::Unavailable,
                        "storage error; nothing was saved, retry",
                    ))
                }
            }
        };
        for o in outcomes {
            if commit.is_ok() {
                for p in o.publish {
                    let _ = events.send(p);
                }
            }
            (o.finish)(commit.clone());
        }
    }
    let _ = conn.close().await;
}

// ---------------------------------------------------------------------------
// Row decoding

const CHAT_SELECT: &str = "SELECT c.id, c.status, c.department_id, c.assignee_id, a.name, c.tags, \
    c.created_at, c.last_message_at, c.unread_count, c.rating_score, c.rating_comment, \
    c.last_seq, c.customer_read_seq, c.agent_read_seq, c.closed_at, c.resolution, \
    CASE WHEN c.status = 'waiting' THEN (SELECT COUNT(*) FROM chats w WHERE w.status = 'waiting' \
      AND w.department_id = c.department_id AND w.waiting_since < c.waiting_since) + 1 END, \
    cu.id, cu.name, cu.email, cu.phone, cu.location, cu.tags, cu.custom_fields, cu.blocked, cu.created_at, \
    m.id, m.seq, m.client_msg_id, m.author_kind, m.author_id, m.author_name, m.kind, m.body, m.attachments, m.created_at \
    FROM chats c JOIN customers cu ON cu.id = c.customer_id \
    LEFT JOIN agents a ON a.id = c.assignee_id \
    LEFT JOIN messages m ON m.id = c.last_message_id";

const CUSTOMER_COLS: &str =
    "id, name, email, phone, location, tags, custom_fields, blocked, created_at";

const MESSAGE_COLS: &str = "id, seq, client_msg_id, author_kind, author_id, author_name, kind, body, attachments, created_at, chat_id";

fn decode_err(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("bad {what} in store").into())
}

fn json_col<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

fn customer_at(row: &SqliteRow, i: usize) -> Result<Customer, sqlx::Error> {
    Ok(Customer {
        id: row.try_get(i)?,
        name: row.try_get(i + 1)?,
        email: row.try_get(i + 2)?,
        phone: row.try_get(i + 3)?,
        location: row.try_get(i + 4)?,
        tags: json_col(row.try_get::<&str, _>(i + 5)?)?,
        custom_fields: json_col(row.try_get::<&str, _>(i + 6)?)?,
        blocked: row.try_get::<i64, _>(i + 7)? != 0,
        created_at: ts(row.try_get(i + 8)?),
    })
}

fn message_at(row: &SqliteRow, i: usize, chat_id: &str) -> Result<Message, sqlx::Error> {
    let author_kind = match row.try_get::<&str, _>(i + 3)? {
        "customer" => AuthorKind::Customer,
        "agent" => AuthorKind::Agent,
        "system" => AuthorKind::System,
        _ => return Err(decode_err("author kind")),
    };
    let kind = match row.try_get::<&str, _>(i + 6)? {
        "text" => MessageKind::Text,
        "note" => MessageKind::Note,
        "event" => MessageKind::Event,
        _ => return Err(decode_err("message kind")),
    };
    let attachments: Vec<Attachment> = json_col(row.try_get::<&str, _>(i + 8)?)?;
    Ok(Message {
        id: row.try_get(i)?,
        chat_id: chat_id.to_owned(),
        seq: row.try_get(i + 1)?,
        client_msg_id: row.try_get(i + 2)?,
        author: Author {
            kind: author_kind,
            id: row.try_get(i + 4)?,
            name: row.try_get(i + 5)?,
        },
        kind,
        body: row.try_get(i + 7)?,
        attachments,
        created_at: ts(row.try_get(i + 9)?),
    })
}

fn message_row(row: &SqliteRow) -> Result<Message, sqlx::Error> {
    let chat_id: String = row.try_get(10)?;
    message_at(row, 0, &chat_id)
}

fn chat_row(row: &SqliteRow) -> Result<Chat, sqlx::Error> {
    let id: String = row.try_get(0)?;
    let status = ChatStatus::from_str(row.try_get(1)?).map_err(|_| decode_err("chat status"))?;
    let rating = match row.try_get::<Option<i64>, _>(9)? {
        Some(score) => Some(Rating {
            score: u8::try_from(score).map_err(|_| decode_err("rating"))?,
            comment: row.try_get(10)?,
        }),
        None => None,
    };
    let last_message = match row.try_get::<Option<String>, _>(26)? {
        Some(_) => Some(message_at(row, 26, &id)?),
        None => None,
    };
    Ok(Chat {
        status,
        department_id: row.try_get(2)?,
        assignee_id: row.try_get(3)?,
        assignee_name: row.try_get(4)?,
        tags: json_col(row.try_get::<&str, _>(5)?)?,
        created_at: ts(row.try_get(6)?),
        last_message_at: ts(row.try_get(7)?),
        unread_count: u32::try_from(row.try_get::<i64, _>(8)?).unwrap_or(0),
        rating,
        last_seq: row.try_get(11)?,
        customer_read_seq: row.try_get(12)?,
        agent_read_seq: row.try_get(13)?,
        closed_at: row.try_get::<Option<i64>, _>(14)?.map(ts),
        resolution: row.try_get(15)?,
        queue_position: row
            .try_get::<Option<i64>, _>(16)?
            .and_then(|p| u32::try_from(p).ok()),
        customer: customer_at(row, 17)?,
        last_message,
        id,
    })
}

fn agent_row(row: &SqliteRow) -> Result<Agent, sqlx::Error> {
    let role = Role::from_str(row.try_get(3)?).map_err(|_| decode_err("role"))?;
    let status = AgentStatus::from_str(row.try_get(4)?).map_err(|_| decode_err("status"))?;
    let depts: Option<String> = row.try_get(6)?;
    let mut department_ids: Vec<String> = depts
        .map(|d| d.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    department_ids.sort();
    Ok(Agent {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        email: row.try_get(2)?,
        role,
        status,
        max_chats: u32::try_from(row.try_get::<i64, _>(5)?).unwrap_or(0),
        department_ids,
        active_chats: u32::try_from(row.try_get::<i64, _>(7)?).unwrap_or(0),
    })
}

const AGENT_SELECT: &str = "SELECT a.id, a.name, a.email, a.role, a.status, a.max_chats, \
    (SELECT group_concat(department_id) FROM agent_departments d WHERE d.agent_id = a.id), \
    (SELECT COUNT(*) FROM chats c WHERE c.assignee_id = a.id AND c.status = 'active'), \
    a.password_hash FROM agents a";

fn department_row(row: &SqliteRow) -> Result<Department, sqlx::Error> {
    Ok(Department {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        created_at: ts(row.try_get(2)?),
    })
}

// ---------------------------------------------------------------------------
// Reads shared by the reader pool and the writer (inside its transaction)

async fn load_chat(conn: &mut SqliteConnection, id: &str) -> Result<Option<Chat>, sqlx::Error> {
    let sql = format!("{CHAT_SELECT} WHERE c.id = ?");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(chat_row).transpose()
}

async fn load_agent(conn: &mut SqliteConnection, id: &str) -> Result<Option<Agent>, sqlx::Error> {
    let sql = format!("{AGENT_SELECT} WHERE a.id = ?");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(agent_row).transpose()
}

async fn load_customer(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<Customer>, sqlx::Error> {
    let sql = format!("SELECT {CUSTOMER_COLS} FROM customers WHERE id = ?");
    let row = sqlx::query(AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(|r| customer_at(r, 0)).transpose()
}

/// The state of a chat that writes check, without the joins.
#[derive(Clone)]
struct ChatCore {
    customer_id: String,
    department_id: String,
    status: ChatStatus,
    assignee_id: Option<String>,
    last_seq: Seq,
    tags: Vec<String>,
}

async fn chat_core(conn: &mut SqliteConnection, id: &str) -> WResult<ChatCore> {
    let row = sqlx::query(
        "SELECT customer_id, department_id, status, assignee_id, last_seq, tags FROM chats WHERE id = ?",
    )
    .bind(id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some(row) = row else {
        return Err(ApiError::not_found(format!("no chat {id:?}")).into());
    };
    Ok(ChatCore {
        customer_id: row.try_get(0)?,
        department_id: row.try_get(1)?,
        status: ChatStatus::from_str(row.try_get(2)?).map_err(|_| decode_err("chat status"))?,
        assignee_id: row.try_get(3)?,
        last_seq: row.try_get(4)?,
        tags: json_col(row.try_get::<&str, _>(5)?)?,
    })
}

/// The chat a customer means: the one named (theirs), else their open one.
async fn customer_chat_id(
    conn: &mut SqliteConnection,
    customer_id: &str,
    chat_id: Option<&str>,
) -> WResult<String> {
    match chat_id {
        Some(id) => {
            let owner: Option<String> =
                sqlx::query_scalar("SELECT customer_id FROM chats WHERE id = ?")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?;
            // Another visitor's chat answers exactly like a missing one.
            match owner {
                Some(o) if o == customer_id => Ok(id.to_owned()),
                _ => Err(ApiError::not_found(format!("no chat {id:?}")).into()),
            }
        }
        None => {
            let open: Option<String> = sqlx::query_scalar(
                "SELECT id FROM chats WHERE customer_id = ? AND status != 'closed' ORDER BY created_at DESC LIMIT 1",
            )
            .bind(customer_id)
            .fetch_optional(&mut *conn)
            .await?;
            open.ok_or_else(|| {
                ApiError::not_found("you have no open chat; start one with chat:start").into()
            })
        }
    }
}

// ---------------------------------------------------------------------------
// Writing helpers

impl Tx<'_> {
    /// The chat's write-relevant state, from the cache when it is there.
    async fn core(&mut self, id: &str) -> WResult<ChatCore> {
        if let Some(c) = self.cache.chats.get(id) {
            return Ok(c.clone());
        }
        let c = chat_core(self.conn, id).await?;
        self.cache.chats.insert(id.to_owned(), c.clone());
        Ok(c)
    }

    /// Call after changing a chat's status, assignee, department or tags.
    fn forget_chat(&mut self, id: &str) {
        self.cache.chats.remove(id);
    }

    /// A customer's display name and whether they are blocked.
    async fn customer_brief(&mut self, id: &str) -> WResult<(String, bool)> {
        if let Some(c) = self.cache.customers.get(id) {
            return Ok(c.clone());
        }
        let row = sqlx::query("SELECT name, blocked FROM customers WHERE id = ?")
            .bind(id)
            .fetch_optional(&mut *self.conn)
            .await?;
        let Some(row) = row else {
            return Err(ApiError::unauthorized("unknown visitor").into());
        };
        let brief: (String, bool) = (row.try_get(0)?, row.try_get::<i64, _>(1)? != 0);
        self.cache.customers.insert(id.to_owned(), brief.clone());
        Ok(brief)
    }

    fn forget_customer(&mut self, id: &str) {
        self.cache.customers.remove(id);
    }

    /// The files `ids` uploaded by this author and not yet sent, in order.
    async fn unsent_attachments(
        &mut self,
        owner_kind: &str,
        owner_id: &str,
        ids: &[String],
    ) -> WResult<Vec<Attachment>> {
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(
                "SELECT name, content_type, size, message_id FROM attachments WHERE id = ? AND owner_kind = ? AND owner_id = ?",
            )
            .bind(id)
            .bind(owner_kind)
            .bind(owner_id)
            .fetch_optional(&mut *self.conn)
            .await?;
            let Some(row) = row else {
                return Err(ApiError::invalid(format!("no upload {id:?} of yours")).into());
            };
            if row.try_get::<Option<String>, _>(3)?.is_some() {
                return Err(ApiError::invalid(format!("upload {id:?} was already sent")).into());
            }
            out.push(Attachment {
                id: id.clone(),
                name: row.try_get(0)?,
                content_type: row.try_get(1)?,
                size: u64::try_from(row.try_get::<i64, _>(2)?).unwrap_or(0),
                url: format!("/api/v1/attachments/{id}"),
            });
        }
        Ok(out)
    }

    /// Appends to the event log; `customer` is (customer id, customer-facing payload)
    /// when the customer may see the event.
    async fn event(
        &mut self,
        event_name: &str,
        payload: &str,
        audience: &Audience,
        customer: Option<(&str, &str)>,
    ) -> WResult<EventId> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO events (name, payload, customer_payload, department_id, prev_department_id, agent_id, customer_id, broadcast, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        )
        .bind(event_name)
        .bind(payload)
        .bind(customer.map(|(_, p)| p))
        .bind(audience.department_id.as_deref())
        .bind(audience.prev_department_id.as_deref())
        .bind(audience.agent_id.as_deref())
        .bind(customer.map(|(c, _)| c))
        .bind(i64::from(audience.broadcast))
        .bind(now_ms())
        .fetch_one(&mut *self.conn)
        .await?;
        Ok(id)
    }

    fn audience_for(chat: &Chat, prev_department_id: Option<String>) -> Audience {
        Audience {
            department_id: Some(chat.department_id.clone()),
            prev_department_id,
            agent_id: chat.assignee_id.clone(),
            broadcast: false,
            customer: None,
        }
    }

    /// Logs and queues `chat:created`/`chat:updated` for agents (and the customer).
    async fn chat_event(
        &mut self,
        created: bool,
        chat: &Chat,
        prev_department_id: Option<String>,
        to_customer: bool,
    ) -> WResult<()> {
        let mut audience = Self::audience_for(chat, prev_department_id);
        let payload = serde_json::to_string(chat)?;
        let cview = to_customer.then(|| customer_view(chat));
        let cpayload = cview.as_ref().map(serde_json::to_string).transpose()?;
        let name = if created {
            "chat:created"
        } else {
            "chat:updated"
        };
        let customer = cpayload.as_deref().map(|p| (chat.customer.id.as_str(), p));
        let event_id = self.event(name, &payload, &audience, customer).await?;
        if let Some(cv) = cview {
            audience.customer = Some((
                chat.customer.id.clone(),
                ServerEvent::ChatUpdated(ChatEvent { event_id, chat: cv }),
            ));
        }
        let ev = ChatEvent {
            event_id,
            chat: chat.clone(),
        };
        let event = if created {
            ServerEvent::ChatCreated(ev)
        } else {
            ServerEvent::ChatUpdated(ev)
        };
        self.publish.push(Published { event, audience });
        Ok(())
    }

    /// Inserts a message with the next seq, logs `message:new`, updates the chat.
    #[allow(clippy::too_many_arguments)]
    async fn insert_message(
        &mut self,
        chat_id: &str,
        core: &mut ChatCore,
        client_msg_id: &str,
        author: Author,
        kind: MessageKind,
        body: &str,
    ) -> WResult<Message> {
        self.insert_message_with(chat_id, core, client_msg_id, author, kind, body, Vec::new())
            .await
    }

    /// Inserts a message (with files already uploaded by its author), logs
    /// `message:new` and updates the chat. A resend of a stored `client_msg_id`
    /// inserts nothing and answers the original.
    #[allow(clippy::too_many_arguments)]
    async fn insert_message_with(
        &mut self,
        chat_id: &str,
        core: &mut ChatCore,
        client_msg_id: &str,
        author: Author,
        kind: MessageKind,
        body: &str,
        attachments: Vec<Attachment>,
    ) -> WResult<Message> {
        let seq = core.last_seq + 1;
        let now = now_ms();
        let id = new_id();
        // A resend of a stored client_msg_id inserts nothing and answers the original.
        let inserted = sqlx::query(
            "INSERT INTO messages (id, chat_id, seq, client_msg_id, author_kind, author_id, author_name, kind, body, attachments, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, client_msg_id) DO NOTHING",
        )
        .bind(&id)
        .bind(chat_id)
        .bind(seq)
        .bind(client_msg_id)
        .bind(author.kind.as_str())
        .bind(&author.id)
        .bind(&author.name)
        .bind(kind.as_str())
        .bind(body)
        .bind(serde_json::to_string(&attachments)?)
        .bind(now)
        .execute(&mut *self.conn)
        .await?;
        if inserted.rows_affected() == 0 {
            return self
                .existing_message(chat_id, client_msg_id)
                .await?
                .ok_or_else(|| Fail::Db(decode_err("duplicate message vanished")));
        }
        let from_customer = author.kind == AuthorKind::Customer;
        let public = kind != MessageKind::Note;
        sqlx::query(
            "UPDATE chats SET last_seq = ?, last_message_at = ?, last_message_id = ?, \
             last_public_message_id = CASE WHEN ? THEN ? ELSE last_public_message_id END, \
             unread_count = unread_count + ? WHERE id = ?",
        )
        .bind(seq)
        .bind(now)
        .bind(&id)
        .bind(public)
        .bind(&id)
        .bind(i64::from(from_customer))
        .bind(chat_id)
        .execute(&mut *self.conn)
        .await?;
        core.last_seq = seq;
        for a in &attachments {
            sqlx::query("UPDATE attachments SET chat_id = ?, message_id = ? WHERE id = ?")
                .bind(chat_id)
                .bind(&id)
                .bind(&a.id)
                .execute(&mut *self.conn)
                .await?;
        }
        if let Some(c) = self.cache.chats.get_mut(chat_id) {
            c.last_seq = seq;
        }
        let message = Message {
            id,
            chat_id: chat_id.to_owned(),
            seq,
            client_msg_id: client_msg_id.to_owned(),
            author,
            kind,
            body: body.to_owned(),
            attachments,
            created_at: ts(now),
        };
        let payload = serde_json::to_string(&message)?;
        let mut audience = Audience {
            department_id: Some(core.department_id.clone()),
            prev_department_id: None,
            agent_id: core.assignee_id.clone(),
            broadcast: false,
            customer: None,
        };
        let cmessage = public.then(|| super::customer_message(&message));
        let cpayload = match &cmessage {
            Some(m) if !m.attachments.is_empty() => Some(serde_json::to_string(m)?),
            Some(_) => Some(payload.clone()),
            None => None,
        };
        let customer = cpayload.as_deref().map(|p| (core.customer_id.as_str(), p));
        let event_id = self
            .event("message:new", &payload, &audience, customer)
            .await?;
        if let Some(cm) = cmessage {
            audience.customer = Some((
                core.customer_id.clone(),
                ServerEvent::MessageNew(MessageEvent {
                    event_id,
                    message: cm,
                }),
            ));
        }
        self.publish.push(Published {
            event: ServerEvent::MessageNew(MessageEvent {
                event_id,
                message: message.clone(),
            }),
            audience,
        });
        Ok(message)
    }

    async fn existing_message(
        &mut self,
        chat_id: &str,
        client_msg_id: &str,
    ) -> WResult<Option<Message>> {
        let sql =
            format!("SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ? AND client_msg_id = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(chat_id)
            .bind(client_msg_id)
            .fetch_optional(&mut *self.conn)
            .await?;
        Ok(row.as_ref().map(message_row).transpose()?)
    }

    async fn system_message(
        &mut self,
        chat_id: &str,
        core: &mut ChatCore,
        body: String,
    ) -> WResult<Message> {
        let author = Author {
            kind: AuthorKind::System,
            id: "system".into(),
            name: "System".into(),
        };
        self.insert_message(chat_id, core, &new_id(), author, MessageKind::Event, &body)
            .await
    }

    async fn reload_chat(&mut self, id: &str) -> WResult<Chat> {
        load_chat(self.conn, id)
            .await?
            .ok_or_else(|| Fail::Db(decode_err("chat vanished")))
    }

    async fn notify(&mut self, agent_id: &str, notification: Notification) -> WResult<()> {
        let payload = serde_json::to_string(&notification)?;
        let audience = Audience {
            agent_id: Some(agent_id.to_owned()),
            ..Audience::default()
        };
        let event_id = self
            .event("notification", &payload, &audience, None)
            .await?;
        self.publish.push(Published {
            event: ServerEvent::Notification(NotificationEvent {
                event_id,
                notification,
            }),
            audience,
        });
        Ok(())
    }
}

fn agent_author(actor: &Actor) -> Author {
    Author {
        kind: AuthorKind::Agent,
        id: actor.id.clone(),
        name: actor.name.clone(),
    }
}

fn check_access(actor: &Actor, core: &ChatCore, chat_id: &str) -> WResult<()> {
    if actor.can_see(&core.department_id, core.assignee_id.as_deref()) {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "chat {chat_id:?} is not in your departments and not assigned to you"
        ))
        .into())
    }
}

// ---------------------------------------------------------------------------
// The write operations (each runs inside the writer's batch transaction)

async fn op_start_chat(
    t: &mut Tx<'_>,
    customer_id: String,
    department_id: String,
    body: String,
    client_msg_id: String,
    name: Option<String>,
    email: Option<String>,
) -> WResult<(Chat, Message)> {
    let customer = load_customer(t.conn, &customer_id)
        .await?
        .ok_or_else(|| ApiError::unauthorized("unknown visitor"))?;
    if customer.blocked {
        return Err(ApiError::forbidden("you have been blocked from starting chats").into());
    }
    let dept_exists: Option<String> = sqlx::query_scalar("SELECT id FROM departments WHERE id = ?")
        .bind(&department_id)
        .fetch_optional(&mut *t.conn)
        .await?;
    if dept_exists.is_none() {
        return Err(ApiError::invalid(format!("no department {department_id:?}")).into());
    }
    // An idempotent retry, or an open chat to continue.
    let open: Option<String> = sqlx::query_scalar(
        "SELECT id FROM chats WHERE customer_id = ? AND status != 'closed' ORDER BY created_at DESC LIMIT 1",
    )
    .bind(&customer_id)
    .fetch_optional(&mut *t.conn)
    .await?;
    if let Some(chat_id) = open {
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id).await? {
            let chat = t.reload_chat(&chat_id).await?;
            return Ok((chat, m));
        }
        let mut core = t.core(&chat_id).await?;
        let author = Author {
            kind: AuthorKind::Customer,
            id: customer_id.clone(),
            name: customer.name.clone(),
        };
        let m = t
            .insert_message(
                &chat_id,
                &mut core,
                &client_msg_id,
                author,
                MessageKind::Text,
                &body,
            )
            .await?;
        let chat = t.reload_chat(&chat_id).await?;
        return Ok((chat, m));
    }
    if name.is_some() || email.is_some() {
        sqlx::query("UPDATE customers SET name = COALESCE(?, name), email = COALESCE(?, email) WHERE id = ?")
            .bind(name.as_deref())
            .bind(email.as_deref())
            .bind(&customer_id)
            .execute(&mut *t.conn)
            .await?;
        t.forget_customer(&customer_id);
    }
    let chat_id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO chats (id, customer_id, department_id, status, created_at, last_message_at, waiting_since) \
         VALUES (?, ?, ?, 'waiting', ?, ?, ?)",
    )
    .bind(&chat_id)
    .bind(&customer_id)
    .bind(&department_id)
    .bind(now)
    .bind(now)
    .bind(now)
    .execute(&mut *t.conn)
    .await?;
    let mut core = t.core(&chat_id).await?;
    let cname: String = sqlx::query_scalar("SELECT name FROM customers WHERE id = ?")
        .bind(&customer_id)
        .fetch_one(&mut *t.conn)
        .await?;
    let author = Author {
        kind: AuthorKind::Customer,
        id: customer_id.clone(),
        name: cname,
    };
    // The chat is created first so agents hear of it before its first message.
    let pre = t.reload_chat(&chat_id).await?;
    t.chat_event(true, &pre, None, true).await?;
    let m = t
        .insert_message(
            &chat_id,
            &mut core,
            &client_msg_id,
            author,
            MessageKind::Text,
            &body,
        )
        .await?;
    let chat = t.reload_chat(&chat_id).await?;
    Ok((chat, m))
}

async fn op_customer_send(
    t: &mut Tx<'_>,
    customer_id: String,
    chat_id: Option<String>,
    client_msg_id: String,
    body: String,
    attachment_ids: Vec<String>,
) -> WResult<Message> {
    let chat_id = match chat_id {
        // Another visitor's chat answers exactly like a missing one.
        Some(id) => match t.core(&id).await {
            Ok(c) if c.customer_id == customer_id => id,
            Ok(_) | Err(Fail::Api(_)) => {
                return Err(ApiError::not_found(format!("no chat {id:?}")).into());
            }
            Err(e) => return Err(e),
        },
        None => customer_chat_id(t.conn, &customer_id, None).await?,
    };
    let (name, blocked) = t.customer_brief(&customer_id).await?;
    if blocked {
        return Err(ApiError::forbidden("you have been blocked from sending messages").into());
    }
    let mut core = t.core(&chat_id).await?;
    if core.status == ChatStatus::Closed {
        // A retry of a message stored before the chat closed answers the original.
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id).await? {
            return Ok(m);
        }
        return Err(
            ApiError::conflict("this chat is closed; start a new one with chat:start").into(),
        );
    }
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id).await? {
            return Ok(m);
        }
        t.unsent_attachments("customer", &customer_id, &attachment_ids)
            .await?
    };
    let author = Author {
        kind: AuthorKind::Customer,
        id: customer_id,
        name,
    };
    t.insert_message_with(
        &chat_id,
        &mut core,
        &client_msg_id,
        author,
        MessageKind::Text,
        &body,
        attachments,
    )
    .await
}

async fn op_agent_send(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    client_msg_id: String,
    body: String,
    kind: MessageKind,
    attachment_ids: Vec<String>,
) -> WResult<Message> {
    let mut core = t.core(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    let refusal = match (kind, core.status) {
        (MessageKind::Text, ChatStatus::Closed) => Some(ApiError::conflict(
            "this chat is closed; reopen it to reply",
        )),
        (MessageKind::Text, ChatStatus::Waiting) => {
            Some(ApiError::conflict("claim this chat before replying"))
        }
        (MessageKind::Text, ChatStatus::Active)
            if core.assignee_id.as_deref() != Some(actor.id.as_str())
                && !actor.role.sees_everything() =>
        {
            Some(ApiError::forbidden(
                "this chat is assigned to another agent; add a note instead",
            ))
        }
        _ => None,
    };
    if let Some(refusal) = refusal {
        // A retry of a message stored before the chat changed answers the original.
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id).await? {
            return Ok(m);
        }
        return Err(refusal.into());
    }
    let is_new = kind != MessageKind::Note
        || !body.contains('@')
        || t.existing_message(&chat_id, &client_msg_id)
            .await?
            .is_none();
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id).await? {
            return Ok(m);
        }
        t.unsent_attachments("agent", &actor.id, &attachment_ids)
            .await?
    };
    let m = t
        .insert_message_with(
            &chat_id,
            &mut core,
            &client_msg_id,
            agent_author(&actor),
            kind,
            &body,
            attachments,
        )
        .await?;
    // Mentions in notes notify the agents named (`@Name` or `@email`) — once: a
    // resend of the same note answers the stored one without notifying again.
    if kind == MessageKind::Note && body.contains('@') && is_new {
        let agents = sqlx::query("SELECT id, name, email FROM agents")
            .fetch_all(&mut *t.conn)
            .await?;
        let lower = body.to_lowercase();
        for row in agents {
            let (id, name, email): (String, String, String) =
                (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            let first = name.split_whitespace().next().unwrap_or("").to_lowercase();
            let mentioned = lower.contains(&format!("@{}", email.to_lowercase()))
                || lower.contains(&format!("@{}", name.to_lowercase()))
                || (!first.is_empty()
                    && lower
                        .split(|c: char| !c.is_alphanumeric() && c != '@')
                        .any(|w| w == format!("@{first}")));
            if mentioned && id != actor.id {
                t.notify(
                    &id,
                    Notification {
                        kind: "mention".into(),
                        title: format!("{} mentioned you", actor.name),
                        body: body.chars().take(200).collect(),
                        chat_id: Some(chat_id.clone()),
                    },
                )
                .await?;
            }
        }
    }
    Ok(m)
}

async fn op_claim(t: &mut Tx<'_>, actor: Actor, chat_id: String) -> WResult<Chat> {
    let mut core = t.core(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    match (core.status, core.assignee_id.as_deref()) {
        (ChatStatus::Active, Some(a)) if a == actor.id => {
            return t.reload_chat(&chat_id).await;
        }
        (ChatStatus::Active, Some(_)) => {
            let who: Option<String> = sqlx::query_scalar(
                "SELECT a.name FROM chats c JOIN agents a ON a.id = c.assignee_id WHERE c.id = ?",
            )
            .bind(&chat_id)
            .fetch_optional(&mut *t.conn)
            .await?;
            return Err(ApiError::conflict(format!(
                "chat already claimed by {}",
                who.unwrap_or_else(|| "another agent".into())
            ))
            .into());
        }
        (ChatStatus::Closed, _) => {
            return Err(ApiError::conflict("chat is closed; reopen it instead").into());
        }
        _ => {}
    }
    sqlx::query("UPDATE chats SET status = 'active', assignee_id = ? WHERE id = ?")
        .bind(&actor.id)
        .bind(&chat_id)
        .execute(&mut *t.conn)
        .await?;
    t.forget_chat(&chat_id);
    core.status = ChatStatus::Active;
    core.assignee_id = Some(actor.id.clone());
    t.system_message(
        &chat_id,
        &mut core,
        format!("{} joined the chat", actor.name),
    )
    .await?;
    let chat = t.reload_chat(&chat_id).await?;
    t.chat_event(false, &chat, None, true).await?;
    Ok(chat)
}

async fn op_transfer(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    to_agent_id: Option<String>,
    to_department_id: Option<String>,
    note: Option<String>,
) -> WResult<Chat> {
    let mut core = t.core(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    if core.status == ChatStatus::Closed {
        return Err(ApiError::conflict("chat is closed; reopen it before transferring").into());
    }
    let prev_dept = core.department_id.clone();
    let mut new_dept = core.department_id.clone();
    let mut target_name = String::new();
    if let Some(d) = &to_department_id {
        let name: Option<String> = sqlx::query_scalar("SELECT name FROM departments WHERE id = ?")
            .bind(d)
            .fetch_optional(&mut *t.conn)
            .await?;
        let name = name.ok_or_else(|| ApiError::invalid(format!("no department {d:?}")))?;
        new_dept = d.clone();
        target_name = name;
    }
    let mut new_assignee: Option<String> = None;
    if let Some(a) = &to_agent_id {
        let agent = load_agent(t.conn, a)
            .await?
            .ok_or_else(|| ApiError::invalid(format!("no agent {a:?}")))?;
        if to_department_id.is_none() && !agent.department_ids.contains(&new_dept) {
            // Move the chat to a department of the target agent so their colleagues see it.
            if let Some(d) = agent.department_ids.first() {
                new_dept = d.clone();
            }
        }
        if !agent.role.sees_everything() && !agent.department_ids.contains(&new_dept) {
            return Err(ApiError::invalid(format!(
                "{} is not in the target department",
                agent.name
            ))
            .into());
        }
        target_name = agent.name.clone();
        new_assignee = Some(agent.id);
    }
    if new_assignee.as_deref() == core.assignee_id.as_deref() && new_dept == prev_dept {
        return Err(ApiError::invalid("the chat is already there").into());
    }
    let status = if new_assignee.is_some() {
        "active"
    } else {
        "waiting"
    };
    sqlx::query(
        "UPDATE chats SET department_id = ?, assignee_id = ?, status = ?, \
         waiting_since = CASE WHEN ? = 'waiting' THEN ? ELSE waiting_since END WHERE id = ?",
    )
    .bind(&new_dept)
    .bind(new_assignee.as_deref())
    .bind(status)
    .bind(status)
    .bind(now_ms())
    .bind(&chat_id)
    .execute(&mut *t.conn)
    .await?;
    t.forget_chat(&chat_id);
    core.department_id = new_dept.clone();
    core.assignee_id = new_assignee.clone();
    core.status = ChatStatus::from_str(status).unwrap_or(ChatStatus::Waiting);
    if let Some(n) = note.as_deref().filter(|n| !n.is_empty()) {
        t.insert_message(
            &chat_id,
            &mut core,
            &new_id(),
            agent_author(&actor),
            MessageKind::Note,
            &format!("Handoff note: {n}"),
        )
        .await?;
    }
    t.system_message(
        &chat_id,
        &mut core,
        format!("{} transferred the chat to {target_name}", actor.name),
    )
    .await?;
    let chat = t.reload_chat(&chat_id).await?;
    let prev = (prev_dept != new_dept).then_some(prev_dept);
    t.chat_event(false, &chat, prev, true).await?;
    if let Some(a) = new_assignee.filter(|a| *a != actor.id) {
        t.notify(
            &a,
            Notification {
                kind: "chat_assigned".into(),
                title: format!("{} transferred a chat to you", actor.name),
                body: format!("Chat with {}", chat.customer.name),
                chat_id: Some(chat_id.clone()),
            },
        )
        .await?;
    }
    Ok(chat)
}

async fn op_close(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    resolution: Option<String>,
) -> WResult<Chat> {
    let mut core = t.core(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    if core.status == ChatStatus::Closed {
        return Err(ApiError::conflict("chat is already closed").into());
    }
    sqlx::query("UPDATE chats SET status = 'closed', closed_at = ?, resolution = ? WHERE id = ?")
        .bind(now_ms())
        .bind(resolution.as_deref())
        .bind(&chat_id)
        .execute(&mut *t.conn)
        .await?;
    t.forget_chat(&chat_id);
    core.status = ChatStatus::Closed;
    t.system_message(
        &chat_id,
        &mut core,
        format!("{} closed the chat", actor.name),
    )
    .await?;
    let chat = t.reload_chat(&chat_id).await?;
    t.chat_event(false, &chat, None, true).await?;
    Ok(chat)
}

async fn op_reopen(t: &mut Tx<'_>, actor: Actor, chat_id: String) -> WResult<Chat> {
    let mut core = t.core(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    if core.status != ChatStatus::Closed {
        return Err(ApiError::conflict("chat is not closed").into());
    }
    let other_open: Option<String> = sqlx::query_scalar(
        "SELECT id FROM chats WHERE customer_id = ? AND status != 'closed' AND id != ? LIMIT 1",
    )
    .bind(&core.customer_id)
    .bind(&chat_id)
    .fetch_optional(&mut *t.conn)
    .await?;
    if let Some(other) = other_open {
        return Err(ApiError::conflict(format!(
            "the customer already has an open chat ({other}); work that one"
        ))
        .into());
    }
    sqlx::query(
        "UPDATE chats SET status = 'active', assignee_id = ?, closed_at = NULL, resolution = NULL WHERE id = ?",
    )
    .bind(&actor.id)
    .bind(&chat_id)
    .execute(&mut *t.conn)
    .await?;
    t.forget_chat(&chat_id);
    core.status = ChatStatus::Active;
    core.assignee_id = Some(actor.id.clone());
    t.system_message(
        &chat_id,
        &mut core,
        format!("{} reopened the chat", actor.name),
    )
    .await?;
    let chat = t.reload_chat(&chat_id).await?;
    t.chat_event(false, &chat, None, true).await?;
    Ok(chat)
}

async fn op_tag(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    add: Vec<String>,
    remove: Vec<String>,
) -> WResult<Chat> {
    let core = t.core(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    let mut tags = core.tags.clone();
    tags.retain(|x| !remove.contains(x));
    for a in add {
        if !tags.contains(&a) {
            tags.push(a);
        }
    }
    if tags.len() > MAX_TAGS_PER_CHAT {
        return Err(
            ApiError::invalid(format!("a chat can have at most {MAX_TAGS_PER_CHAT} tags")).into(),
        );
    }
    if tags == core.tags {
        return t.reload_chat(&chat_id).await;
    }
    sqlx::query("UPDATE chats SET tags = ? WHERE id = ?")
        .bind(serde_json::to_string(&tags)?)
        .bind(&chat_id)
        .execute(&mut *t.conn)
        .await?;
    t.forget_chat(&chat_id);
    let chat = t.reload_chat(&chat_id).await?;
    t.chat_event(false, &chat, None, false).await?;
    Ok(chat)
}

async fn read_event(
    t: &mut Tx<'_>,
    core: &ChatCore,
    chat_id: &str,
    reader: Author,
    seq: Seq,
    to_customer: bool,
) -> WResult<()> {
    let ev = ReadEvent {
        event_id: 0,
        chat_id: chat_id.to_owned(),
        reader,
        seq,
    };
    let payload = serde_json::to_string(&ev)?;
    let mut audience = Audience {
        department_id: Some(core.department_id.clone()),
        agent_id: core.assignee_id.clone(),
        ..Audience::default()
    };
    let customer = to_customer.then_some((core.customer_id.as_str(), payload.as_str()));
    let event_id = t
        .event("message:read", &payload, &audience, customer)
        .await?;
    let ev = ReadEvent { event_id, ..ev };
    if to_customer {
        audience.customer = Some((
            core.customer_id.clone(),
            ServerEvent::MessageRead(ev.clone()),
        ));
    }
    t.publish.push(Published {
        event: ServerEvent::MessageRead(ev),
        audience,
    });
    Ok(())
}

async fn op_agent_read(t: &mut Tx<'_>, actor: Actor, chat_id: String, seq: Seq) -> WResult<()> {
    let core = t.core(&chat_id).await?;
    check_access(&actor, &core, &chat_id)?;
    if seq < 1 || seq > core.last_seq {
        return Err(ApiError::invalid(format!(
            "seq {seq} is outside the chat (1..={})",
            core.last_seq
        ))
        .into());
    }
    let cur: i64 = sqlx::query_scalar("SELECT agent_read_seq FROM chats WHERE id = ?")
        .bind(&chat_id)
        .fetch_one(&mut *t.conn)
        .await?;
    if seq <= cur {
        return Ok(());
    }
    sqlx::query(
        "UPDATE chats SET agent_read_seq = ?, unread_count = (SELECT COUNT(*) FROM messages m \
         WHERE m.chat_id = chats.id AND m.seq > ? AND m.author_kind = 'customer') WHERE id = ?",
    )
    .bind(seq)
    .bind(seq)
    .bind(&chat_id)
    .execute(&mut *t.conn)
    .await?;
    read_event(t, &core, &chat_id, agent_author(&actor), seq, true).await
}

async fn op_customer_read(
    t: &mut Tx<'_>,
    customer_id: String,
    chat_id: Option<String>,
    seq: Seq,
) -> WResult<()> {
    let chat_id = customer_chat_id(t.conn, &customer_id, chat_id.as_deref()).await?;
    let core = t.core(&chat_id).await?;
    if seq < 1 || seq > core.last_seq {
        return Err(ApiError::invalid(format!(
            "seq {seq} is outside the chat (1..={})",
            core.last_seq
        ))
        .into());
    }
    let res = sqlx::query(
        "UPDATE chats SET customer_read_seq = ? WHERE id = ? AND customer_read_seq < ?",
    )
    .bind(seq)
    .bind(&chat_id)
    .bind(seq)
    .execute(&mut *t.conn)
    .await?;
    if res.rows_affected() == 0 {
        return Ok(());
    }
    let name: String = sqlx::query_scalar("SELECT name FROM customers WHERE id = ?")
        .bind(&customer_id)
        .fetch_one(&mut *t.conn)
        .await?;
    let reader = Author {
        kind: AuthorKind::Customer,
        id: customer_id,
        name,
    };
    read_event(t, &core, &chat_id, reader, seq, false).await
}

async fn op_rate(
    t: &mut Tx<'_>,
    customer_id: String,
    chat_id: Option<String>,
    score: u8,
    comment: Option<String>,
) -> WResult<()> {
    let chat_id = match chat_id {
        Some(c) => customer_chat_id(t.conn, &customer_id, Some(&c)).await?,
        None => {
            let last: Option<String> = sqlx::query_scalar(
                "SELECT id FROM chats WHERE customer_id = ? ORDER BY created_at DESC LIMIT 1",
            )
            .bind(&customer_id)
            .fetch_optional(&mut *t.conn)
            .await?;
            last.ok_or_else(|| ApiError::not_found("you have no chat to rate"))?
        }
    };
    sqlx::query("UPDATE chats SET rating_score = ?, rating_comment = ? WHERE id = ?")
        .bind(i64::from(score))
        .bind(comment.as_deref())
        .bind(&chat_id)
        .execute(&mut *t.conn)
        .await?;
    let chat = t.reload_chat(&chat_id).await?;
    t.chat_event(false, &chat, None, true).await
}

async fn op_block(
    t: &mut Tx<'_>,
    actor: Actor,
    customer_id: String,
    blocked: bool,
) -> WResult<Customer> {
    if !actor.role.sees_everything() {
        // An agent may block a customer who has chatted in one of their departments.
        let seen: Option<String> = sqlx::query_scalar(
            "SELECT id FROM chats WHERE customer_id = ? AND (assignee_id = ? OR department_id IN (SELECT department_id FROM agent_departments WHERE agent_id = ?)) LIMIT 1",
        )
        .bind(&customer_id)
        .bind(&actor.id)
        .bind(&actor.id)
        .fetch_optional(&mut *t.conn)
        .await?;
        if seen.is_none() {
            return Err(ApiError::not_found(format!("no customer {customer_id:?}")).into());
        }
    }
    let res = sqlx::query("UPDATE customers SET blocked = ? WHERE id = ?")
        .bind(i64::from(blocked))
        .bind(&customer_id)
        .execute(&mut *t.conn)
        .await?;
    t.forget_customer(&customer_id);
    if res.rows_affected() == 0 {
        return Err(ApiError::not_found(format!("no customer {customer_id:?}")).into());
    }
    let customer = load_customer(t.conn, &customer_id)
        .await?
        .ok_or_else(|| Fail::Db(decode_err("customer vanished")))?;
    let payload = serde_json::to_string(&customer)?;
    // Agents who can see the customer's chats hear of it (and supervisors/admins).
    let department_id: Option<String> = sqlx::query_scalar(
        "SELECT department_id FROM chats WHERE customer_id = ? ORDER BY created_at DESC LIMIT 1",
    )
    .bind(&customer_id)
    .fetch_optional(&mut *t.conn)
    .await?;
    let audience = Audience {
        department_id,
        ..Audience::default()
    };
    let event_id = t
        .event("customer:updated", &payload, &audience, None)
        .await?;
    t.publish.push(Published {
        event: ServerEvent::CustomerUpdated(CustomerEvent {
            event_id,
            customer: customer.clone(),
        }),
        audience,
    });
    Ok(customer)
}

async fn op_presence(t: &mut Tx<'_>, agent_id: String, status: AgentStatus) -> WResult<Agent> {
    sqlx::query("UPDATE agents SET status = ? WHERE id = ?")
        .bind(status.as_str())
        .bind(&agent_id)
        .execute(&mut *t.conn)
        .await?;
    let agent = load_agent(t.conn, &agent_id)
        .await?
        .ok_or_else(|| ApiError::not_found("no such agent"))?;
    let payload = serde_json::to_string(&agent)?;
    let audience = Audience {
        broadcast: true,
        ..Audience::default()
    };
    let event_id = t.event("presence", &payload, &audience, None).await?;
    t.publish.push(Published {
        event: ServerEvent::Presence(PresenceEvent {
            event_id,
            agent: agent.clone(),
        }),
        audience,
    });
    Ok(agent)
}

// ---------------------------------------------------------------------------

fn decode_event(
    name: &str,
    event_id: EventId,
    payload: &str,
) -> Result<ServerEvent, serde_json::Error> {
    Ok(match name {
        "chat:created" => ServerEvent::ChatCreated(ChatEvent {
            event_id,
            chat: serde_json::from_str(payload)?,
        }),
        "chat:updated" => ServerEvent::ChatUpdated(ChatEvent {
            event_id,
            chat: serde_json::from_str(payload)?,
        }),
        "message:new" => ServerEvent::MessageNew(MessageEvent {
            event_id,
            message: serde_json::from_str(payload)?,
        }),
        "message:read" => {
            let ev: ReadEvent = serde_json::from_str(payload)?;
            ServerEvent::MessageRead(ReadEvent { event_id, ..ev })
        }
        "presence" => ServerEvent::Presence(PresenceEvent {
            event_id,
            agent: serde_json::from_str(payload)?,
        }),
        "notification" => ServerEvent::Notification(NotificationEvent {
            event_id,
            notification: serde_json::from_str(payload)?,
        }),
        "customer:updated" => ServerEvent::CustomerUpdated(CustomerEvent {
            event_id,
            customer: serde_json::from_str(payload)?,
        }),
        other => {
            return Err(serde::de::Error::custom(format!("unknown event {other}")));
        }
    })
}

fn like_pattern(q: &str) -> String {
    let escaped: String = q
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{escaped}%")
}

macro_rules! run_op {
    ($self:ident, $op:ident ( $($arg:expr),* )) => {
        $self.run(move |t| Box::pin($op(t, $($arg),*))).await
    };
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_department(&self, name: &str) -> StoreResult<Department> {
        let name = name.to_owned();
        self.run(move |t| {
            Box::pin(async move {
                let exists: Option<String> =
                    sqlx::query_scalar("SELECT id FROM departments WHERE name = ?")
                        .bind(&name)
                        .fetch_optional(&mut *t.conn)
                        .await?;
                if exists.is_some() {
                    return Err(ApiError::conflict(format!(
                        "a department named {name:?} already exists"
                    ))
                    .into());
                }
                let d = Department {
                    id: new_id(),
                    name,
                    created_at: ts(now_ms()),
                };
                sqlx::query("INSERT INTO departments (id, name, created_at) VALUES (?, ?, ?)")
                    .bind(&d.id)
                    .bind(&d.name)
                    .bind(now_ms())
                    .execute(&mut *t.conn)
                    .await?;
                Ok(d)
            })
        })
        .await
    }

    async fn create_agent(&self, agent: NewAgent) -> StoreResult<Agent> {
        self.run(move |t| {
            Box::pin(async move {
                let exists: Option<String> =
                    sqlx::query_scalar("SELECT id FROM agents WHERE email = ?")
                        .bind(&agent.email)
                        .fetch_optional(&mut *t.conn)
                        .await?;
                if exists.is_some() {
                    return Err(ApiError::conflict(format!(
                        "an agent with email {} already exists",
                        agent.email
                    ))
                    .into());
                }
                let id = new_id();
                sqlx::query(
                    "INSERT INTO agents (id, email, name, role, status, max_chats, password_hash, created_at) \
                     VALUES (?, ?, ?, ?, 'offline', ?, ?, ?)",
                )
                .bind(&id)
                .bind(&agent.email)
                .bind(&agent.name)
                .bind(agent.role.as_str())
                .bind(i64::from(agent.max_chats))
                .bind(&agent.password_hash)
                .bind(now_ms())
                .execute(&mut *t.conn)
                .await?;
                for d in &agent.department_ids {
                    sqlx::query("INSERT INTO agent_departments (agent_id, department_id) VALUES (?, ?)")
                        .bind(&id)
                        .bind(d)
                        .execute(&mut *t.conn)
                        .await?;
                }
                load_agent(t.conn, &id)
                    .await?
                    .ok_or_else(|| Fail::Db(decode_err("agent vanished")))
            })
        })
        .await
    }

    async fn set_password(&self, email: &str, password_hash: &str) -> StoreResult<()> {
        let (email, hash) = (email.to_owned(), password_hash.to_owned());
        self.run(move |t| {
            Box::pin(async move {
                let res = sqlx::query("UPDATE agents SET password_hash = ? WHERE email = ?")
                    .bind(&hash)
                    .bind(&email)
                    .execute(&mut *t.conn)
                    .await?;
                if res.rows_affected() == 0 {
                    return Err(ApiError::not_found(format!("no agent with email {email}")).into());
                }
                Ok(())
            })
        })
        .await
    }

    async fn departments(&self) -> StoreResult<Vec<Department>> {
        let rows =
            sqlx::query("SELECT id, name, created_at FROM departments ORDER BY created_at, name")
                .fetch_all(&self.read)
                .await
                .map_err(db_err)?;
        rows.iter()
            .map(department_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn department_by_name(&self, name: &str) -> StoreResult<Option<Department>> {
        let row = sqlx::query("SELECT id, name, created_at FROM departments WHERE name = ?")
            .bind(name)
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?;
        row.as_ref().map(department_row).transpose().map_err(db_err)
    }

    async fn agents(&self) -> StoreResult<Vec<Agent>> {
        let sql = format!("{AGENT_SELECT} ORDER BY a.name");
        let rows = sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        rows.iter()
            .map(agent_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)
    }

    async fn agent(&self, id: &str) -> StoreResult<Option<Agent>> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        load_agent(&mut conn, id).await.map_err(db_err)
    }

    async fn agent_credentials(&self, email: &str) -> StoreResult<Option<(Agent, String)>> {
        let sql = format!("{AGENT_SELECT} WHERE a.email = ?");
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(email)
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?;
        match row {
            Some(r) => {
                let agent = agent_row(&r).map_err(db_err)?;
                let hash: String = r.try_get(8).map_err(db_err)?;
                Ok(Some((agent, hash)))
            }
            None => Ok(None),
        }
    }

    async fn chats(&self, viewer: &Actor, f: &ChatFilter) -> StoreResult<Page<Chat>> {
        let mut where_sql = String::from(" WHERE 1=1");
        let mut args: Vec<String> = Vec::new();
        if !viewer.role.sees_everything() {
            where_sql.push_str(
                " AND (c.assignee_id = ? OR c.department_id IN (SELECT department_id FROM agent_departments WHERE agent_id = ?))",
            );
            args.push(viewer.id.clone());
            args.push(viewer.id.clone());
        }
        if let Some(s) = f.status {
            where_sql.push_str(" AND c.status = ?");
            args.push(s.as_str().to_owned());
        }
        if let Some(d) = &f.department_id {
            where_sql.push_str(" AND c.department_id = ?");
            args.push(d.clone());
        }
        if let Some(a) = &f.assignee_id {
            where_sql.push_str(" AND c.assignee_id = ?");
            args.push(a.clone());
        }
        if let Some(cu) = &f.customer_id {
            where_sql.push_str(" AND c.customer_id = ?");
            args.push(cu.clone());
        }
        if let Some(q) = &f.q {
            where_sql.push_str(" AND (cu.name LIKE ? ESCAPE '\\' OR cu.email LIKE ? ESCAPE '\\')");
            let p = like_pattern(q);
            args.push(p.clone());
            args.push(p);
        }
        let order = match f.sort {
            ChatSort::Newest => " ORDER BY c.last_message_at DESC, c.id DESC",
            ChatSort::Oldest => " ORDER BY c.created_at ASC, c.id ASC",
            ChatSort::Wait => {
                " ORDER BY CASE c.status WHEN 'waiting' THEN 0 ELSE 1 END, c.waiting_since ASC, c.id ASC"
            }
        };
        let count_sql = format!(
            "SELECT COUNT(*) FROM chats c JOIN customers cu ON cu.id = c.customer_id{where_sql}"
        );
        let mut count_q = sqlx::query_scalar::<_, i64>(AssertSqlSafe(count_sql));
        for a in &args {
            count_q = count_q.bind(a);
        }
        let total = count_q.fetch_one(&self.read).await.map_err(db_err)?;
        let sql = format!("{CHAT_SELECT}{where_sql}{order} LIMIT ? OFFSET ?");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in &args {
            q = q.bind(a);
        }
        let offset = i64::from(f.page - 1) * i64::from(f.per_page);
        let rows = q
            .bind(i64::from(f.per_page))
            .bind(offset)
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        let items = rows
            .iter()
            .map(chat_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        Ok(Page {
            items,
            total,
            page: f.page,
            per_page: f.per_page,
        })
    }

    async fn chat(&self, id: &str) -> StoreResult<Option<Chat>> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        load_chat(&mut conn, id).await.map_err(db_err)
    }

    async fn messages(
        &self,
        chat_id: &str,
        before_seq: Option<Seq>,
        limit: u32,
        include_notes: bool,
    ) -> StoreResult<Vec<Message>> {
        let notes = if include_notes {
            ""
        } else {
            " AND kind != 'note'"
        };
        let sql = format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ? AND seq < ?{notes} ORDER BY seq DESC LIMIT ?"
        );
        let rows = sqlx::query(AssertSqlSafe(sql))
            .bind(chat_id)
            .bind(before_seq.unwrap_or(i64::MAX))
            .bind(i64::from(limit))
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?;
        let mut items: Vec<Message> = rows
            .iter()
            .map(message_row)
            .collect::<Result<_, _>>()
            .map_err(db_err)?;
        items.reverse();
        Ok(items)
    }

    async fn customer_profile(&self, id: &str) -> StoreResult<Option<CustomerProfile>> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        let Some(customer) = load_customer(&mut conn, id).await.map_err(db_err)? else {
            return Ok(None);
        };
        let rows = sqlx::query(
            "SELECT c.id, c.status, c.department_id, c.assignee_id, c.created_at, c.last_message_at, \
             (SELECT COUNT(*) FROM messages m WHERE m.chat_id = c.id AND m.kind = 'text'), c.rating_score, c.rating_comment \
             FROM chats c WHERE c.customer_id = ? ORDER BY c.created_at DESC LIMIT 50",
        )
        .bind(id)
        .fetch_all(&mut *conn)
        .await
        .map_err(db_err)?;
        let mut previous_chats = Vec::with_capacity(rows.len());
        for r in rows {
            let s = (|| -> Result<ChatSummary, sqlx::Error> {
                Ok(ChatSummary {
                    id: r.try_get(0)?,
                    status: ChatStatus::from_str(r.try_get(1)?)
                        .map_err(|_| decode_err("status"))?,
                    department_id: r.try_get(2)?,
                    assignee_id: r.try_get(3)?,
                    created_at: ts(r.try_get(4)?),
                    last_message_at: ts(r.try_get(5)?),
                    message_count: r.try_get(6)?,
                    rating: r.try_get::<Option<i64>, _>(7)?.map(|s| Rating {
                        score: u8::try_from(s).unwrap_or(0),
                        comment: r.try_get(8).ok().flatten(),
                    }),
                })
            })()
            .map_err(db_err)?;
            previous_chats.push(s);
        }
        Ok(Some(CustomerProfile {
            customer,
            previous_chats,
        }))
    }

    async fn events_since(&self, viewer: &Viewer, since: EventId) -> StoreResult<SyncResult> {
        let latest = self.latest_event_id().await?;
        if since < 0 {
            return Err(ApiError::invalid("since_event_id must be 0 or more"));
        }
        if since >= latest {
            return Ok(SyncResult::Events(Vec::new(), latest));
        }
        let limit = (MAX_SYNC_EVENTS + 1) as i64;
        let rows = match viewer {
            Viewer::Customer(cid) => sqlx::query(
                "SELECT id, name, customer_payload FROM events WHERE customer_id = ? AND id > ? \
                 AND customer_payload IS NOT NULL ORDER BY id LIMIT ?",
            )
            .bind(cid)
            .bind(since)
            .bind(limit)
            .fetch_all(&self.read)
            .await
            .map_err(db_err)?,
            Viewer::Agent(a) if a.role.sees_everything() => {
                // Everything but other agents' notifications.
                sqlx::query(
                    "SELECT id, name, payload FROM events WHERE id > ? \
                     AND (name != 'notification' OR agent_id = ?) ORDER BY id LIMIT ?",
                )
                .bind(since)
                .bind(&a.id)
                .bind(limit)
                .fetch_all(&self.read)
                .await
                .map_err(db_err)?
            }
            Viewer::Agent(a) => {
                let depts =
                    serde_json::to_string(&a.department_ids).map_err(|_| ApiError::internal())?;
                sqlx::query(
                    "SELECT id, name, payload FROM events WHERE id > ? AND (broadcast = 1 OR agent_id = ? \
                     OR department_id IN (SELECT value FROM json_each(?)) \
                     OR prev_department_id IN (SELECT value FROM json_each(?))) ORDER BY id LIMIT ?",
                )
                .bind(since)
                .bind(&a.id)
                .bind(&depts)
                .bind(&depts)
                .bind(limit)
                .fetch_all(&self.read)
                .await
                .map_err(db_err)?
            }
        };
        if rows.len() > MAX_SYNC_EVENTS {
            return Ok(SyncResult::Resync(latest));
        }
        let mut events = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get(0).map_err(db_err)?;
            let name: String = r.try_get(1).map_err(db_err)?;
            let payload: String = r.try_get(2).map_err(db_err)?;
            match decode_event(&name, id, &payload) {
                Ok(e) => events.push(e),
                Err(e) => tracing::error!(event_id = id, error = %e, "undecodable event skipped"),
            }
        }
        Ok(SyncResult::Events(events, latest))
    }

    async fn is_revoked(&self, jti: &str) -> StoreResult<bool> {
        let r: Option<String> = sqlx::query_scalar("SELECT jti FROM revoked_tokens WHERE jti = ?")
            .bind(jti)
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)?;
        Ok(r.is_some())
    }

    async fn latest_event_id(&self) -> StoreResult<EventId> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
            .fetch_one(&self.read)
            .await
            .map_err(db_err)?;
        Ok(id.unwrap_or(0))
    }

    async fn revoke_token(&self, jti: &str, expires_at_ms: i64) -> StoreResult<()> {
        let jti = jti.to_owned();
        self.run(move |t| {
            Box::pin(async move {
                sqlx::query("INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)")
                    .bind(&jti)
                    .bind(expires_at_ms)
                    .execute(&mut *t.conn)
                    .await?;
                sqlx::query("DELETE FROM revoked_tokens WHERE expires_at < ?")
                    .bind(now_ms())
                    .execute(&mut *t.conn)
                    .await?;
                Ok(())
            })
        })
        .await
    }

    async fn resolve_visitor(
        &self,
        token: Option<&str>,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<Visitor> {
        if let Some(tok) = token {
            let hash = hash_token(tok);
            let sql = format!("SELECT {CUSTOMER_COLS} FROM customers WHERE visitor_token_hash = ?");
            let row = sqlx::query(AssertSqlSafe(sql))
                .bind(&hash)
                .fetch_optional(&self.read)
                .await
                .map_err(db_err)?;
            if let Some(r) = row {
                let customer = customer_at(&r, 0).map_err(db_err)?;
                let open: Option<String> = sqlx::query_scalar(
                    "SELECT id FROM chats WHERE customer_id = ? ORDER BY (status != 'closed') DESC, created_at DESC LIMIT 1",
                )
                .bind(&customer.id)
                .fetch_optional(&self.read)
                .await
                .map_err(db_err)?;
                return Ok(Visitor {
                    customer,
                    token: tok.to_owned(),
                    open_chat_id: open,
                });
            }
        }
        let token = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let hash = hash_token(&token);
        let (name, email) = (name.map(str::to_owned), email.map(str::to_owned));
        let customer = self
            .run(move |t| {
                Box::pin(async move {
                    let id = new_id();
                    let now = now_ms();
                    let display = name.unwrap_or_else(|| format!("Visitor {}", &id[id.len() - 4..]));
                    sqlx::query(
                        "INSERT INTO customers (id, visitor_token_hash, name, email, created_at) VALUES (?, ?, ?, ?, ?)",
                    )
                    .bind(&id)
                    .bind(&hash)
                    .bind(&display)
                    .bind(email.as_deref())
                    .bind(now)
                    .execute(&mut *t.conn)
                    .await?;
                    load_customer(t.conn, &id)
                        .await?
                        .ok_or_else(|| Fail::Db(decode_err("customer vanished")))
                })
            })
            .await?;
        Ok(Visitor {
            customer,
            token,
            open_chat_id: None,
        })
    }

    async fn start_chat(
        &self,
        customer_id: &str,
        department_id: &str,
        body: &str,
        client_msg_id: &str,
        name: Option<&str>,
        email: Option<&str>,
    ) -> StoreResult<(Chat, Message)> {
        let (c, d, b, m) = (
            customer_id.to_owned(),
            department_id.to_owned(),
            body.to_owned(),
            client_msg_id.to_owned(),
        );
        let (n, e) = (name.map(str::to_owned), email.map(str::to_owned));
        run_op!(self, op_start_chat(c, d, b, m, n, e))
    }

    async fn customer_send(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
        client_msg_id: &str,
        body: &str,
        attachment_ids: &[String],
    ) -> StoreResult<Message> {
        let (c, ch, m, b) = (
            customer_id.to_owned(),
            chat_id.map(str::to_owned),
            client_msg_id.to_owned(),
            body.to_owned(),
        );
        let ids = attachment_ids.to_vec();
        run_op!(self, op_customer_send(c, ch, m, b, ids))
    }

    async fn agent_send(
        &self,
        actor: &Actor,
        chat_id: &str,
        client_msg_id: &str,
        body: &str,
        kind: MessageKind,
        attachment_ids: &[String],
    ) -> StoreResult<Message> {
        let ids = attachment_ids.to_vec();
        let (a, ch, m, b) = (
            actor.clone(),
            chat_id.to_owned(),
            client_msg_id.to_owned(),
            body.to_owned(),
        );
        run_op!(self, op_agent_send(a, ch, m, b, kind, ids))
    }

    async fn claim(&self, actor: &Actor, chat_id: &str) -> StoreResult<Chat> {
        let (a, c) = (actor.clone(), chat_id.to_owned());
        run_op!(self, op_claim(a, c))
    }

    async fn transfer(
        &self,
        actor: &Actor,
        chat_id: &str,
        to_agent_id: Option<&str>,
        to_department_id: Option<&str>,
        note: Option<&str>,
    ) -> StoreResult<Chat> {
        let (a, c) = (actor.clone(), chat_id.to_owned());
        let (ta, td, n) = (
            to_agent_id.map(str::to_owned),
            to_department_id.map(str::to_owned),
            note.map(str::to_owned),
        );
        run_op!(self, op_transfer(a, c, ta, td, n))
    }

    async fn close(
        &self,
        actor: &Actor,
        chat_id: &str,
        resolution: Option<&str>,
    ) -> StoreResult<Chat> {
        let (a, c, r) = (
            actor.clone(),
            chat_id.to_owned(),
            resolution.map(str::to_owned),
        );
        run_op!(self, op_close(a, c, r))
    }

    async fn reopen(&self, actor: &Actor, chat_id: &str) -> StoreResult<Chat> {
        let (a, c) = (actor.clone(), chat_id.to_owned());
        run_op!(self, op_reopen(a, c))
    }

    async fn tag(
        &self,
        actor: &Actor,
        chat_id: &str,
        add: &[String],
        remove: &[String],
    ) -> StoreResult<Chat> {
        let (a, c, ad, rm) = (
            actor.clone(),
            chat_id.to_owned(),
            add.to_vec(),
            remove.to_vec(),
        );
        run_op!(self, op_tag(a, c, ad, rm))
    }

    async fn agent_read(&self, actor: &Actor, chat_id: &str, seq: Seq) -> StoreResult<()> {
        let (a, c) = (actor.clone(), chat_id.to_owned());
        run_op!(self, op_agent_read(a, c, seq))
    }

    async fn customer_read(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
        seq: Seq,
    ) -> StoreResult<()> {
        let (c, ch) = (customer_id.to_owned(), chat_id.map(str::to_owned));
        run_op!(self, op_customer_read(c, ch, seq))
    }

    async fn rate(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
        score: u8,
        comment: Option<&str>,
    ) -> StoreResult<()> {
        let (c, ch, cm) = (
            customer_id.to_owned(),
            chat_id.map(str::to_owned),
            comment.map(str::to_owned),
        );
        run_op!(self, op_rate(c, ch, score, cm))
    }

    async fn block(
        &self,
        actor: &Actor,
        customer_id: &str,
        blocked: bool,
    ) -> StoreResult<Customer> {
        let (a, c) = (actor.clone(), customer_id.to_owned());
        run_op!(self, op_block(a, c, blocked))
    }

    async fn set_presence(&self, agent_id: &str, status: AgentStatus) -> StoreResult<Agent> {
        let a = agent_id.to_owned();
        run_op!(self, op_presence(a, status))
    }

    async fn customer_chat(&self, customer_id: &str, chat_id: Option<&str>) -> StoreResult<Chat> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        let id = match customer_chat_id(&mut conn, customer_id, chat_id).await {
            Ok(id) => id,
            Err(Fail::Api(e)) => return Err(e),
            Err(Fail::Db(e)) => return Err(db_err(e)),
        };
        load_chat(&mut conn, &id)
            .await
            .map_err(db_err)?
            .ok_or_else(|| ApiError::not_found("no such chat"))
    }

    async fn resolve_visitor_known(&self, token: &str) -> StoreResult<Option<String>> {
        sqlx::query_scalar("SELECT id FROM customers WHERE visitor_token_hash = ?")
            .bind(hash_token(token))
            .fetch_optional(&self.read)
            .await
            .map_err(db_err)
    }

    async fn customer_chat_any(
        &self,
        customer_id: &str,
        chat_id: Option<&str>,
    ) -> StoreResult<Chat> {
        let mut conn = self.read.acquire().await.map_err(db_err)?;
        let id: Option<String> = match chat_id {
            Some(id) => sqlx::query_scalar("SELECT id FROM chats WHERE id = ? AND customer_id = ?")
                .bind(id)
                .bind(customer_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(db_err)?,
            None => sqlx::query_scalar(
                "SELECT id FROM chats WHERE customer_id = ? ORDER BY (status != 'closed') DESC, created_at DESC LIMIT 1",
            )
            .bind(customer_id)
            .fetch_optional(&mut *conn)
            .await
            .map_err(db_err)?,
        };
        let id = id.ok_or_else(|| ApiError::not_found("no such chat"))?;
        load_chat(&mut conn, &id)
            .await
            .map_err(db_err)?
            .ok_or_else(|| ApiError::not_found("no such chat"))
    }

    async fn create_attachment(
        &self,
        owner_kind: &str,
        owner_id: &str,
        name: &str,
        content_type: &str,
        data: Vec<u8>,
    ) -> StoreResult<Attachment> {
        let (ok, oi, n, ct) = (
            owner_kind.to_owned(),
            owner_id.to_owned(),
            name.to_owned(),
            content_type.to_owned(),
        );
        self.run(move |t| {
            Box::pin(async move {
                let id = new_id();
                let size = data.len() as i64;
                sqlx::query(
                    "INSERT INTO attachments (id, owner_kind, owner_id, name, content_type, size, data, created_at) \
                     VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                )
                .bind(&id)
                .bind(&ok)
                .bind(&oi)
                .bind(&n)
                .bind(&ct)
                .bind(size)
                .bind(data)
                .bind(now_ms())
                .execute(&mut *t.conn)
                .await?;
                Ok(Attachment {
                    url: format!("/api/v1/attachments/{id}"),
                    id,
                    name: n,
                    content_type: ct,
                    size: u64::try_from(size).unwrap_or(0),
                })
            })
        })
        .await
    }

    async fn attachment(&self, id: &str) -> StoreResult<Option<AttachmentRecord>> {
        let row = sqlx::query(
            "SELECT a.name, a.content_type, a.size, a.owner_kind, a.owner_id, a.chat_id, a.data, m.kind \
             FROM attachments a LEFT JOIN messages m ON m.id = a.message_id WHERE a.id = ?",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await
        .map_err(db_err)?;
        let Some(r) = row else { return Ok(None) };
        let rec = (|| -> Result<AttachmentRecord, sqlx::Error> {
            Ok(AttachmentRecord {
                meta: Attachment {
                    id: id.to_owned(),
                    name: r.try_get(0)?,
                    content_type: r.try_get(1)?,
                    size: u64::try_from(r.try_get::<i64, _>(2)?).unwrap_or(0),
                    url: format!("/api/v1/attachments/{id}"),
                },
                owner_kind: r.try_get(3)?,
                owner_id: r.try_get(4)?,
                chat_id: r.try_get(5)?,
                data: r.try_get(6)?,
                message_kind: r.try_get(7)?,
            })
        })()
        .map_err(db_err)?;
        Ok(Some(rec))
    }

    async fn close_store(&self) {
        // Dropping the sender lets the writer finish what is queued, then stop.
        if let Ok(mut j) = self.jobs.lock() {
            j.take();
        }
        let done = self.writer_done.lock().ok().and_then(|mut d| d.take());
        if let Some(done) = done {
            let _ = done.await;
        }
        self.read.close().await;
    }

    fn take_events(&self) -> Option<mpsc::UnboundedReceiver<Published>> {
        self.events_rx.lock().ok().and_then(|mut r| r.take())
    }
}

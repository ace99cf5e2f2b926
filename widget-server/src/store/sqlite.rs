//! The SQLite store: WAL, one writer thread that commits many writes per transaction
//! (group commit) and acks each only after the commit, and a pool of readers.
//!
//! One writer means event ids are assigned and committed in increasing order, so a
//! client that has seen event N can never later meet an event below N.
//!
//! The writer is a dedicated OS thread that owns a rusqlite connection: a whole batch
//! runs on that thread with cached prepared statements, so a write costs a few
//! in-thread statement executions instead of a hand-over to a database worker thread
//! per statement. WAL checkpoints run on a thread of their own, off the commit path.
//! The readers (and the migrations) use sqlx.

use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;
use std::sync::mpsc::{Receiver as StdReceiver, RecvTimeoutError, SyncSender};
use std::sync::{LazyLock, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::{OpenFlags, OptionalExtension, params};
use shared::ApiError;
use shared::events::{
    ChatEvent, CustomerEvent, MessageEvent, NotificationEvent, PresenceEvent, ReadEvent,
    ServerEvent,
};
use shared::limits::MAX_SYNC_EVENTS;
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

use crate::domain::ChatScope;
use crate::domain::chat::{self, ChatCore};
use crate::domain::mention;

use super::{
    Actor, AttachmentRecord, Audience, ChatFilter, ChatSort, NewAgent, Published, Store,
    StoreResult, SyncResult, Viewer, Visitor, customer_view,
};

/// The most writes committed together in one transaction.
const MAX_BATCH: usize = 2048;

/// How often the WAL is checkpointed into the database file, at the latest.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Committed writes after which the writer asks for a checkpoint before the timer
/// (keeps the WAL short under heavy load).
const CHECKPOINT_AFTER_WRITES: usize = 8192;

/// Distinct statements the writer keeps prepared (every write statement fits).
const STATEMENT_CACHE: usize = 128;

const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

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
        Migration::new(
            3,
            Cow::Borrowed("canned"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!("../../migrations/sqlite/0003_canned.sql")).into_sql_str(),
            false,
        ),
        Migration::new(
            4,
            Cow::Borrowed("session epoch"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!(
                "../../migrations/sqlite/0004_session_epoch.sql"
            ))
            .into_sql_str(),
            false,
        ),
    ])
}

/// A storage error from either driver: the writer's (rusqlite) or the readers' (sqlx).
type DbError = Box<dyn std::error::Error + Send + Sync>;

/// A failure inside a write: a refusal (nothing was written) or a storage error
/// (the whole batch is rolled back).
enum Fail {
    Api(ApiError),
    Db(DbError),
}

impl From<sqlx::Error> for Fail {
    fn from(e: sqlx::Error) -> Self {
        Fail::Db(Box::new(e))
    }
}

impl From<rusqlite::Error> for Fail {
    fn from(e: rusqlite::Error) -> Self {
        Fail::Db(Box::new(e))
    }
}

impl From<ApiError> for Fail {
    fn from(e: ApiError) -> Self {
        Fail::Api(e)
    }
}

impl From<serde_json::Error> for Fail {
    fn from(e: serde_json::Error) -> Self {
        Fail::Db(Box::new(e))
    }
}

/// A state the store should never be in (a row that vanished inside a transaction).
fn inconsistent(what: &str) -> Fail {
    Fail::Db(format!("{what} in store").into())
}

type WResult<T> = Result<T, Fail>;

/// What a write leaves for after the commit: events to publish, and the ack.
struct Outcome {
    publish: Vec<Published>,
    db_error: bool,
    finish: Box<dyn FnOnce(Result<(), ApiError>) + Send>,
}

/// A write, run on the writer thread inside the batch's transaction.
type Job = Box<dyn FnOnce(&mut Tx<'_>) -> Outcome + Send>;

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
    conn: &'c rusqlite::Connection,
    cache: &'c mut WriterCache,
    /// The last event id issued in this batch: ids are assigned here, not by SQLite,
    /// so logging an event needs no round trip for its id.
    last_event_id: &'c mut EventId,
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

fn storage_failed() -> ApiError {
    ApiError::new(
        shared::ErrorCode::Unavailable,
        "storage error; nothing was saved, retry",
    )
}

fn db_err(e: impl std::fmt::Display) -> ApiError {
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

/// Opens a read-write rusqlite connection with the store's settings. `synchronous =
/// FULL`: the WAL is synced at every commit, so an acked write survives power loss;
/// group commit keeps that affordable. Automatic checkpoints are off: the
/// checkpointer thread does them, so no commit waits for one.
fn open_rusqlite(path: &Path) -> rusqlite::Result<rusqlite::Connection> {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA cache_size = -65536; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = 0;",
    )?;
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    Ok(conn)
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", "-65536")
            .pragma("temp_store", "memory");
        let mut migrate = SqliteConnection::connect_with(&opts).await?;
        // `run_direct`: `run(&mut conn)` makes this future not provably `Send`, so
        // `serve` could not be spawned.
        migrator().run_direct(None, &mut migrate, false).await?;
        migrate.close().await?;
        let read = SqlitePoolOptions::new()
            .max_connections(4)
            .min_connections(1)
            .connect_with(opts.clone().read_only(true))
            .await?;
        let path = opts.get_filename().to_path_buf();
        let (writer, checkpointer) = tokio::task::spawn_blocking(move || {
            Ok::<_, rusqlite::Error>((open_rusqlite(&path)?, open_rusqlite(&path)?))
        })
        .await??;
        let (jobs_tx, jobs_rx) = mpsc::channel::<Job>(4096);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = oneshot::channel();
        // Capacity 1: a request for a checkpoint while one is pending adds nothing.
        let (nudge_tx, nudge_rx) = std::sync::mpsc::sync_channel::<()>(1);
        let checkpoints = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || checkpoint_loop(&checkpointer, &nudge_rx))?;
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || {
                writer_loop(&writer, jobs_rx, &events_tx, &nudge_tx);
                // Stop the checkpointer, then leave the database file complete and
                // the WAL empty.
                drop(nudge_tx);
                let _ = checkpoints.join();
                match writer.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    r.get::<_, i64>(0)
                }) {
                    Ok(0) => {}
                    Ok(_) => tracing::warn!("final WAL checkpoint incomplete (readers busy)"),
                    Err(e) => tracing::warn!(error = %e, "final WAL checkpoint failed"),
                }
                if let Err((_, e)) = writer.close() {
                    tracing::warn!(error = %e, "closing the writer connection failed");
                }
                let _ = done_tx.send(());
            })?;
        Ok(SqliteStore {
            read,
            jobs: Mutex::new(Some(jobs_tx)),
            events_rx: Mutex::new(Some(events_rx)),
            writer_done: Mutex::new(Some(done_rx)),
        })
    }

    /// Runs a write on the writer thread; answers after its batch has committed.
    async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Tx<'_>) -> WResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |t| {
            let r = f(t);
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
                            let _ = tx.send(Err(storage_failed()));
                        }),
                    }
                }
            }
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

/// The newest event id in the log (or ever issued: the table is AUTOINCREMENT).
const LAST_EVENT_ID_SQL: &str = "SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0), \
    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))";

/// Opens the batch's transaction and reads the last event id inside it, so ids stay
/// right even if another store on the same file (an admin tool) wrote in between.
fn begin(conn: &rusqlite::Connection) -> rusqlite::Result<EventId> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let last = conn
        .prepare_cached(LAST_EVENT_ID_SQL)
        .and_then(|mut s| s.query_row([], |r| r.get(0)));
    if last.is_err() {
        rollback(conn);
    }
    last
}

fn rollback(conn: &rusqlite::Connection) {
    if !conn.is_autocommit()
        && let Err(e) = conn.execute_batch("ROLLBACK")
    {
        tracing::error!(error = %e, "rollback failed");
    }
}

fn writer_loop(
    conn: &rusqlite::Connection,
    mut jobs: mpsc::Receiver<Job>,
    events: &mpsc::UnboundedSender<Published>,
    checkpoint: &SyncSender<()>,
) {
    let mut batch: Vec<Job> = Vec::with_capacity(MAX_BATCH);
    let mut cache = WriterCache::default();
    let mut since_checkpoint = 0usize;
    while let Some(first) = jobs.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let mut last_event_id = match begin(conn) {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(error = %e, "could not begin a write transaction");
                // Run nothing; dropping a job answers it with `unavailable`.
                batch.clear();
                continue;
            }
        };
        if cache.chats.len() > MAX_CACHED || cache.customers.len() > MAX_CACHED {
            cache = WriterCache::default();
        }
        let mut failed = false;
        let mut outcomes = Vec::with_capacity(batch.len());
        for job in batch.drain(..) {
            let mut t = Tx {
                conn,
                cache: &mut cache,
                last_event_id: &mut last_event_id,
                publish: Vec::new(),
            };
            let o = job(&mut t);
            failed |= o.db_error;
            outcomes.push(o);
        }
        let commit: Result<(), ApiError> = if failed {
            cache = WriterCache::default();
            rollback(conn);
            Err(storage_failed())
        } else {
            match conn
                .prepare_cached("COMMIT")
                .and_then(|mut s| s.execute([]))
            {
                Ok(_) => Ok(()),
                Err(e) => {
                    tracing::error!(error = %e, "commit failed");
                    cache = WriterCache::default();
                    rollback(conn);
                    Err(storage_failed())
                }
            }
        };
        if commit.is_ok() {
            since_checkpoint += outcomes.len();
            if since_checkpoint >= CHECKPOINT_AFTER_WRITES {
                since_checkpoint = 0;
                let _ = checkpoint.try_send(());
            }
        }
        for o in outcomes {
            if commit.is_ok() {
                for p in o.publish {
                    let _ = events.send(p);
                }
            }
            (o.finish)(commit.clone());
        }
    }
}

/// Copies the WAL into the database file every second, or sooner when the writer
/// asks, until the writer hangs up. PASSIVE never waits for (or blocks) the writer
/// or readers; it copies what no reader still needs, and SQLite restarts the WAL from
/// its start once all of it has been copied.
fn checkpoint_loop(conn: &rusqlite::Connection, wake: &StdReceiver<()>) {
    while let Ok(()) | Err(RecvTimeoutError::Timeout) = wake.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

// ---------------------------------------------------------------------------
// Row decoding, shared by both drivers

/// Column access over a row of either driver, so the readers (sqlx) and the writer
/// (rusqlite) decode records with the same code.
trait Cols {
    type Err;
    fn str_at(&self, i: usize) -> Result<&str, Self::Err>;
    fn opt_str_at(&self, i: usize) -> Result<Option<&str>, Self::Err>;
    fn int_at(&self, i: usize) -> Result<i64, Self::Err>;
    fn opt_int_at(&self, i: usize) -> Result<Option<i64>, Self::Err>;
    fn bad(what: String) -> Self::Err;

    fn text_at(&self, i: usize) -> Result<String, Self::Err> {
        self.str_at(i).map(str::to_owned)
    }
    fn opt_text_at(&self, i: usize) -> Result<Option<String>, Self::Err> {
        Ok(self.opt_str_at(i)?.map(str::to_owned))
    }
    fn json_at<T: serde::de::DeserializeOwned>(&self, i: usize) -> Result<T, Self::Err> {
        serde_json::from_str(self.str_at(i)?).map_err(|e| Self::bad(format!("column {i}: {e}")))
    }
}

impl Cols for SqliteRow {
    type Err = sqlx::Error;
    fn str_at(&self, i: usize) -> Result<&str, sqlx::Error> {
        self.try_get(i)
    }
    fn opt_str_at(&self, i: usize) -> Result<Option<&str>, sqlx::Error> {
        self.try_get(i)
    }
    fn int_at(&self, i: usize) -> Result<i64, sqlx::Error> {
        self.try_get(i)
    }
    fn opt_int_at(&self, i: usize) -> Result<Option<i64>, sqlx::Error> {
        self.try_get(i)
    }
    fn bad(what: String) -> sqlx::Error {
        sqlx::Error::Decode(what.into())
    }
}

impl Cols for rusqlite::Row<'_> {
    type Err = rusqlite::Error;
    fn str_at(&self, i: usize) -> Result<&str, rusqlite::Error> {
        self.get_ref(i)?.as_str().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    }
    fn opt_str_at(&self, i: usize) -> Result<Option<&str>, rusqlite::Error> {
        self.get_ref(i)?.as_str_or_null().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
        })
    }
    fn int_at(&self, i: usize) -> Result<i64, rusqlite::Error> {
        self.get(i)
    }
    fn opt_int_at(&self, i: usize) -> Result<Option<i64>, rusqlite::Error> {
        self.get(i)
    }
    fn bad(what: String) -> rusqlite::Error {
        rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Null, what.into())
    }
}

fn bad<R: Cols>(what: &str) -> R::Err {
    R::bad(format!("bad {what} in store"))
}

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

const AGENT_SELECT: &str = "SELECT a.id, a.name, a.email, a.role, a.status, a.max_chats, \
    (SELECT group_concat(department_id) FROM agent_departments d WHERE d.agent_id = a.id), \
    (SELECT COUNT(*) FROM chats c WHERE c.assignee_id = a.id AND c.status = 'active'), \
    a.password_hash FROM agents a";

// The by-id queries both drivers run (built once: the writer's statement cache is
// keyed by the SQL text).
static CHAT_BY_ID: LazyLock<String> = LazyLock::new(|| format!("{CHAT_SELECT} WHERE c.id = ?"));
static AGENT_BY_ID: LazyLock<String> = LazyLock::new(|| format!("{AGENT_SELECT} WHERE a.id = ?"));
static CUSTOMER_BY_ID: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {CUSTOMER_COLS} FROM customers WHERE id = ?"));
static MESSAGE_BY_CLIENT_ID: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {MESSAGE_COLS} FROM messages WHERE chat_id = ? AND client_msg_id = ?")
});

/// The chat a customer names, if it is theirs.
const CHAT_OWNER_SQL: &str = "SELECT customer_id FROM chats WHERE id = ?";
/// A customer's open chat.
const OPEN_CHAT_SQL: &str = "SELECT id FROM chats WHERE customer_id = ? AND status != 'closed' ORDER BY created_at DESC LIMIT 1";

fn decode_err(what: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("bad {what} in store").into())
}

fn customer_at<R: Cols>(row: &R, i: usize) -> Result<Customer, R::Err> {
    Ok(Customer {
        id: row.text_at(i)?,
        name: row.text_at(i + 1)?,
        email: row.opt_text_at(i + 2)?,
        phone: row.opt_text_at(i + 3)?,
        location: row.opt_text_at(i + 4)?,
        tags: row.json_at(i + 5)?,
        custom_fields: row.json_at(i + 6)?,
        blocked: row.int_at(i + 7)? != 0,
        created_at: ts(row.int_at(i + 8)?),
    })
}

fn message_at<R: Cols>(row: &R, i: usize, chat_id: &str) -> Result<Message, R::Err> {
    let author_kind = match row.str_at(i + 3)? {
        "customer" => AuthorKind::Customer,
        "agent" => AuthorKind::Agent,
        "system" => AuthorKind::System,
        _ => return Err(bad::<R>("author kind")),
    };
    let kind = match row.str_at(i + 6)? {
        "text" => MessageKind::Text,
        "note" => MessageKind::Note,
        "event" => MessageKind::Event,
        _ => return Err(bad::<R>("message kind")),
    };
    let attachments: Vec<Attachment> = row.json_at(i + 8)?;
    Ok(Message {
        id: row.text_at(i)?,
        chat_id: chat_id.to_owned(),
        seq: row.int_at(i + 1)?,
        client_msg_id: row.text_at(i + 2)?,
        author: Author {
            kind: author_kind,
            id: row.text_at(i + 4)?,
            name: row.text_at(i + 5)?,
        },
        kind,
        body: row.text_at(i + 7)?,
        attachments,
        created_at: ts(row.int_at(i + 9)?),
    })
}

fn message_row<R: Cols>(row: &R) -> Result<Message, R::Err> {
    let chat_id = row.text_at(10)?;
    message_at(row, 0, &chat_id)
}

fn chat_row<R: Cols>(row: &R) -> Result<Chat, R::Err> {
    let id = row.text_at(0)?;
    let status = ChatStatus::from_str(row.str_at(1)?).map_err(|_| bad::<R>("chat status"))?;
    let rating = match row.opt_int_at(9)? {
        Some(score) => Some(Rating {
            score: u8::try_from(score).map_err(|_| bad::<R>("rating"))?,
            comment: row.opt_text_at(10)?,
        }),
        None => None,
    };
    let last_message = match row.opt_str_at(26)? {
        Some(_) => Some(message_at(row, 26, &id)?),
        None => None,
    };
    Ok(Chat {
        status,
        department_id: row.text_at(2)?,
        assignee_id: row.opt_text_at(3)?,
        assignee_name: row.opt_text_at(4)?,
        tags: row.json_at(5)?,
        created_at: ts(row.int_at(6)?),
        last_message_at: ts(row.int_at(7)?),
        unread_count: u32::try_from(row.int_at(8)?).unwrap_or(0),
        rating,
        last_seq: row.int_at(11)?,
        customer_read_seq: row.int_at(12)?,
        agent_read_seq: row.int_at(13)?,
        closed_at: row.opt_int_at(14)?.map(ts),
        resolution: row.opt_text_at(15)?,
        queue_position: row.opt_int_at(16)?.and_then(|p| u32::try_from(p).ok()),
        customer: customer_at(row, 17)?,
        last_message,
        id,
    })
}

fn agent_row<R: Cols>(row: &R) -> Result<Agent, R::Err> {
    let role = Role::from_str(row.str_at(3)?).map_err(|_| bad::<R>("role"))?;
    let status = AgentStatus::from_str(row.str_at(4)?).map_err(|_| bad::<R>("status"))?;
    let mut department_ids: Vec<String> = row
        .opt_str_at(6)?
        .map(|d| d.split(',').map(str::to_owned).collect())
        .unwrap_or_default();
    department_ids.sort();
    Ok(Agent {
        id: row.text_at(0)?,
        name: row.text_at(1)?,
        email: row.text_at(2)?,
        role,
        status,
        max_chats: u32::try_from(row.int_at(5)?).unwrap_or(0),
        department_ids,
        active_chats: u32::try_from(row.int_at(7)?).unwrap_or(0),
    })
}

fn department_row<R: Cols>(row: &R) -> Result<Department, R::Err> {
    Ok(Department {
        id: row.text_at(0)?,
        name: row.text_at(1)?,
        created_at: ts(row.int_at(2)?),
    })
}

// ---------------------------------------------------------------------------
// Reads on the reader pool

async fn load_chat(conn: &mut SqliteConnection, id: &str) -> Result<Option<Chat>, sqlx::Error> {
    let row = sqlx::query(AssertSqlSafe(CHAT_BY_ID.as_str()))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(chat_row).transpose()
}

async fn load_agent(conn: &mut SqliteConnection, id: &str) -> Result<Option<Agent>, sqlx::Error> {
    let row = sqlx::query(AssertSqlSafe(AGENT_BY_ID.as_str()))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(agent_row).transpose()
}

async fn load_customer(
    conn: &mut SqliteConnection,
    id: &str,
) -> Result<Option<Customer>, sqlx::Error> {
    let row = sqlx::query(AssertSqlSafe(CUSTOMER_BY_ID.as_str()))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?;
    row.as_ref().map(|r| customer_at(r, 0)).transpose()
}

/// The chat a customer named, if it is theirs (another visitor's chat answers exactly
/// like a missing one).
fn owned_chat(id: &str, owner: Option<String>, customer_id: &str) -> WResult<String> {
    match owner {
        Some(o) if o == customer_id => Ok(id.to_owned()),
        _ => Err(ApiError::not_found(format!("no chat {id:?}")).into()),
    }
}

fn open_chat(open: Option<String>) -> WResult<String> {
    open.ok_or_else(|| {
        ApiError::not_found("you have no open chat; start one with chat:start").into()
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
            let owner: Option<String> = sqlx::query_scalar(CHAT_OWNER_SQL)
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
            owned_chat(id, owner, customer_id)
        }
        None => {
            let open: Option<String> = sqlx::query_scalar(OPEN_CHAT_SQL)
                .bind(customer_id)
                .fetch_optional(&mut *conn)
                .await?;
            open_chat(open)
        }
    }
}

// ---------------------------------------------------------------------------
// Statements and reads on the writer (inside its transaction)

impl Tx<'_> {
    fn exec(&self, sql: &str, params: impl rusqlite::Params) -> WResult<usize> {
        Ok(self.conn.prepare_cached(sql)?.execute(params)?)
    }

    /// The first column of the first row, if there is a row.
    fn opt_one<T: rusqlite::types::FromSql>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> WResult<Option<T>> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(params, |r| r.get(0))
            .optional()?)
    }

    /// The first column of the first row; no row is a storage error.
    fn one<T: rusqlite::types::FromSql>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> WResult<T> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(params, |r| r.get(0))?)
    }

    fn load_chat(&self, id: &str) -> WResult<Option<Chat>> {
        Ok(self
            .conn
            .prepare_cached(&CHAT_BY_ID)?
            .query_row([id], |r| chat_row(r))
            .optional()?)
    }

    fn load_agent(&self, id: &str) -> WResult<Option<Agent>> {
        Ok(self
            .conn
            .prepare_cached(&AGENT_BY_ID)?
            .query_row([id], |r| agent_row(r))
            .optional()?)
    }

    fn load_customer(&self, id: &str) -> WResult<Option<Customer>> {
        Ok(self
            .conn
            .prepare_cached(&CUSTOMER_BY_ID)?
            .query_row([id], |r| customer_at(r, 0))
            .optional()?)
    }

    fn customer_chat_id(&self, customer_id: &str, chat_id: Option<&str>) -> WResult<String> {
        match chat_id {
            Some(id) => owned_chat(id, self.opt_one(CHAT_OWNER_SQL, [id])?, customer_id),
            None => open_chat(self.opt_one(OPEN_CHAT_SQL, [customer_id])?),
        }
    }

    fn chat_core(&self, id: &str) -> WResult<ChatCore> {
        let core = self
            .conn
            .prepare_cached(
                "SELECT customer_id, department_id, status, assignee_id, last_seq, tags FROM chats WHERE id = ?",
            )?
            .query_row([id], |r| {
                Ok(ChatCore {
                    customer_id: r.get(0)?,
                    department_id: r.get(1)?,
                    status: ChatStatus::from_str(r.str_at(2)?)
                        .map_err(|_| bad::<rusqlite::Row<'_>>("chat status"))?,
                    assignee_id: r.get(3)?,
                    last_seq: r.get(4)?,
                    tags: r.json_at(5)?,
                })
            })
            .optional()?;
        core.ok_or_else(|| ApiError::not_found(format!("no chat {id:?}")).into())
    }

    /// The chat's write-relevant state, from the cache when it is there.
    fn core(&mut self, id: &str) -> WResult<ChatCore> {
        if let Some(c) = self.cache.chats.get(id) {
            return Ok(c.clone());
        }
        let c = self.chat_core(id)?;
        self.cache.chats.insert(id.to_owned(), c.clone());
        Ok(c)
    }

    /// Call after changing a chat's status, assignee, department or tags.
    fn forget_chat(&mut self, id: &str) {
        self.cache.chats.remove(id);
    }

    /// A customer's display name and whether they are blocked.
    fn customer_brief(&mut self, id: &str) -> WResult<(String, bool)> {
        if let Some(c) = self.cache.customers.get(id) {
            return Ok(c.clone());
        }
        let brief = self
            .conn
            .prepare_cached("SELECT name, blocked FROM customers WHERE id = ?")?
            .query_row([id], |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? != 0))
            })
            .optional()?;
        let Some(brief) = brief else {
            return Err(ApiError::unauthorized("unknown visitor").into());
        };
        self.cache.customers.insert(id.to_owned(), brief.clone());
        Ok(brief)
    }

    fn forget_customer(&mut self, id: &str) {
        self.cache.customers.remove(id);
    }

    /// The files `ids` uploaded by this author and not yet sent, in order.
    fn unsent_attachments(
        &mut self,
        owner_kind: &str,
        owner_id: &str,
        ids: &[String],
    ) -> WResult<Vec<Attachment>> {
        let mut out = Vec::with_capacity(ids.len());
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, content_type, size, message_id FROM attachments WHERE id = ? AND owner_kind = ? AND owner_id = ?",
        )?;
        for id in ids {
            let row = stmt
                .query_row(params![id, owner_kind, owner_id], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<String>>(3)?,
                    ))
                })
                .optional()?;
            let Some((name, content_type, size, message_id)) = row else {
                return Err(ApiError::invalid(format!("no upload {id:?} of yours")).into());
            };
            if message_id.is_some() {
                return Err(ApiError::invalid(format!("upload {id:?} was already sent")).into());
            }
            out.push(Attachment {
                id: id.clone(),
                name,
                content_type,
                size: u64::try_from(size).unwrap_or(0),
                url: format!("/api/v1/attachments/{id}"),
            });
        }
        Ok(out)
    }

    /// Appends to the event log; `customer` is (customer id, customer-facing payload)
    /// when the customer may see the event.
    fn event(
        &mut self,
        event_name: &str,
        payload: &str,
        audience: &Audience,
        customer: Option<(&str, &str)>,
    ) -> WResult<EventId> {
        let id = *self.last_event_id + 1;
        self.exec(
            "INSERT INTO events (id, name, payload, customer_payload, department_id, prev_department_id, agent_id, customer_id, broadcast, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            params![
                id,
                event_name,
                payload,
                customer.map(|(_, p)| p),
                audience.department_id.as_deref(),
                audience.prev_department_id.as_deref(),
                audience.agent_id.as_deref(),
                customer.map(|(c, _)| c),
                i64::from(audience.broadcast),
                now_ms(),
            ],
        )?;
        *self.last_event_id = id;
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
    fn chat_event(
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
        let event_id = self.event(name, &payload, &audience, customer)?;
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
    fn insert_message(
        &mut self,
        chat_id: &str,
        core: &mut ChatCore,
        client_msg_id: &str,
        author: Author,
        kind: MessageKind,
        body: &str,
    ) -> WResult<Message> {
        self.insert_message_with(chat_id, core, client_msg_id, author, kind, body, Vec::new())
    }

    /// Inserts a message (with files already uploaded by its author), logs
    /// `message:new` and updates the chat. A resend of a stored `client_msg_id`
    /// inserts nothing and answers the original.
    #[allow(clippy::too_many_arguments)]
    fn insert_message_with(
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
        let attachments_json = serde_json::to_string(&attachments)?;
        // A resend of a stored client_msg_id inserts nothing and answers the original.
        let inserted = self.exec(
            "INSERT INTO messages (id, chat_id, seq, client_msg_id, author_kind, author_id, author_name, kind, body, attachments, created_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (chat_id, client_msg_id) DO NOTHING",
            params![
                id,
                chat_id,
                seq,
                client_msg_id,
                author.kind.as_str(),
                author.id,
                author.name,
                kind.as_str(),
                body,
                attachments_json,
                now,
            ],
        )?;
        if inserted == 0 {
            return self
                .existing_message(chat_id, client_msg_id)?
                .ok_or_else(|| inconsistent("duplicate message vanished"));
        }
        let from_customer = author.kind == AuthorKind::Customer;
        let public = kind != MessageKind::Note;
        self.exec(
            "UPDATE chats SET last_seq = ?, last_message_at = ?, last_message_id = ?, \
             last_public_message_id = CASE WHEN ? THEN ? ELSE last_public_message_id END, \
             unread_count = unread_count + ? WHERE id = ?",
            params![seq, now, id, public, id, i64::from(from_customer), chat_id],
        )?;
        core.last_seq = seq;
        for a in &attachments {
            self.exec(
                "UPDATE attachments SET chat_id = ?, message_id = ? WHERE id = ?",
                params![chat_id, id, a.id],
            )?;
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
        let event_id = self.event("message:new", &payload, &audience, customer)?;
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

    fn existing_message(&self, chat_id: &str, client_msg_id: &str) -> WResult<Option<Message>> {
        Ok(self
            .conn
            .prepare_cached(&MESSAGE_BY_CLIENT_ID)?
            .query_row([chat_id, client_msg_id], |r| message_row(r))
            .optional()?)
    }

    fn system_message(
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
    }

    fn reload_chat(&self, id: &str) -> WResult<Chat> {
        self.load_chat(id)?
            .ok_or_else(|| inconsistent("chat vanished"))
    }

    fn notify(&mut self, agent_id: &str, notification: Notification) -> WResult<()> {
        let payload = serde_json::to_string(&notification)?;
        let audience = Audience {
            agent_id: Some(agent_id.to_owned()),
            ..Audience::default()
        };
        let event_id = self.event("notification", &payload, &audience, None)?;
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
    Ok(chat::check_access(actor, core, chat_id)?)
}

// ---------------------------------------------------------------------------
// The write operations (each runs inside the writer's batch transaction)

fn op_start_chat(
    t: &mut Tx<'_>,
    customer_id: String,
    department_id: String,
    body: String,
    client_msg_id: String,
    name: Option<String>,
    email: Option<String>,
) -> WResult<(Chat, Message)> {
    let customer = t
        .load_customer(&customer_id)?
        .ok_or_else(|| ApiError::unauthorized("unknown visitor"))?;
    if customer.blocked {
        return Err(ApiError::forbidden("you have been blocked from starting chats").into());
    }
    let dept_exists: Option<String> =
        t.opt_one("SELECT id FROM departments WHERE id = ?", [&department_id])?;
    if dept_exists.is_none() {
        return Err(ApiError::invalid(format!("no department {department_id:?}")).into());
    }
    // An idempotent retry, or an open chat to continue.
    let open: Option<String> = t.opt_one(OPEN_CHAT_SQL, [&customer_id])?;
    if let Some(chat_id) = open {
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id)? {
            let chat = t.reload_chat(&chat_id)?;
            return Ok((chat, m));
        }
        let mut core = t.core(&chat_id)?;
        let author = Author {
            kind: AuthorKind::Customer,
            id: customer_id.clone(),
            name: customer.name.clone(),
        };
        let m = t.insert_message(
            &chat_id,
            &mut core,
            &client_msg_id,
            author,
            MessageKind::Text,
            &body,
        )?;
        let chat = t.reload_chat(&chat_id)?;
        return Ok((chat, m));
    }
    if name.is_some() || email.is_some() {
        t.exec(
            "UPDATE customers SET name = COALESCE(?, name), email = COALESCE(?, email) WHERE id = ?",
            params![name.as_deref(), email.as_deref(), customer_id],
        )?;
        t.forget_customer(&customer_id);
    }
    let chat_id = new_id();
    let now = now_ms();
    t.exec(
        "INSERT INTO chats (id, customer_id, department_id, status, created_at, last_message_at, waiting_since) \
         VALUES (?, ?, ?, 'waiting', ?, ?, ?)",
        params![chat_id, customer_id, department_id, now, now, now],
    )?;
    let mut core = t.core(&chat_id)?;
    let cname: String = t.one("SELECT name FROM customers WHERE id = ?", [&customer_id])?;
    let author = Author {
        kind: AuthorKind::Customer,
        id: customer_id.clone(),
        name: cname,
    };
    // The chat is created first so agents hear of it before its first message.
    let pre = t.reload_chat(&chat_id)?;
    t.chat_event(true, &pre, None, true)?;
    let m = t.insert_message(
        &chat_id,
        &mut core,
        &client_msg_id,
        author,
        MessageKind::Text,
        &body,
    )?;
    let chat = t.reload_chat(&chat_id)?;
    Ok((chat, m))
}

fn op_customer_send(
    t: &mut Tx<'_>,
    customer_id: String,
    chat_id: Option<String>,
    client_msg_id: String,
    body: String,
    attachment_ids: Vec<String>,
) -> WResult<Message> {
    let chat_id = match chat_id {
        // Another visitor's chat answers exactly like a missing one.
        Some(id) => match t.core(&id) {
            Ok(c) if c.customer_id == customer_id => id,
            Ok(_) | Err(Fail::Api(_)) => {
                return Err(ApiError::not_found(format!("no chat {id:?}")).into());
            }
            Err(e) => return Err(e),
        },
        None => t.customer_chat_id(&customer_id, None)?,
    };
    let (name, blocked) = t.customer_brief(&customer_id)?;
    let mut core = t.core(&chat_id)?;
    if let Err(refusal) = chat::customer_send(&core, blocked) {
        // A retry of a message stored before the chat closed answers the original.
        if !blocked && let Some(m) = t.existing_message(&chat_id, &client_msg_id)? {
            return Ok(m);
        }
        return Err(refusal.into());
    }
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id)? {
            return Ok(m);
        }
        t.unsent_attachments("customer", &customer_id, &attachment_ids)?
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
}

fn op_agent_send(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    client_msg_id: String,
    body: String,
    kind: MessageKind,
    attachment_ids: Vec<String>,
) -> WResult<Message> {
    let mut core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    let refusal = chat::agent_send(&actor, &core, kind).err();
    if let Some(refusal) = refusal {
        // A retry of a message stored before the chat changed answers the original.
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id)? {
            return Ok(m);
        }
        return Err(refusal.into());
    }
    let is_new = kind != MessageKind::Note
        || !body.contains('@')
        || t.existing_message(&chat_id, &client_msg_id)?.is_none();
    let attachments = if attachment_ids.is_empty() {
        Vec::new()
    } else {
        if let Some(m) = t.existing_message(&chat_id, &client_msg_id)? {
            return Ok(m);
        }
        t.unsent_attachments("agent", &actor.id, &attachment_ids)?
    };
    let m = t.insert_message_with(
        &chat_id,
        &mut core,
        &client_msg_id,
        agent_author(&actor),
        kind,
        &body,
        attachments,
    )?;
    // Mentions in notes notify the agents named (`@Name` or `@email`) — once: a
    // resend of the same note answers the stored one without notifying again.
    if kind == MessageKind::Note && body.contains('@') && is_new {
        let agents: Vec<(String, String, String)> = t
            .conn
            .prepare_cached("SELECT id, name, email FROM agents")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<Result<_, _>>()?;
        let team: Vec<mention::Mentionable<'_>> = agents
            .iter()
            .map(|(id, name, email)| mention::Mentionable { id, name, email })
            .collect();
        for id in mention::mentioned(&body, &actor.id, &team) {
            t.notify(id, mention::notification(&actor.name, &body, &chat_id))?;
        }
    }
    Ok(m)
}

fn op_claim(t: &mut Tx<'_>, actor: Actor, chat_id: String) -> WResult<Chat> {
    let mut core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    let line = match chat::claim(&actor, &core)? {
        chat::Claim::AlreadyYours => return t.reload_chat(&chat_id),
        chat::Claim::HeldByAnother => {
            let who: Option<String> = t.opt_one(
                "SELECT a.name FROM chats c JOIN agents a ON a.id = c.assignee_id WHERE c.id = ?",
                [&chat_id],
            )?;
            return Err(chat::claim_conflict(who).into());
        }
        chat::Claim::Take { line } => line,
    };
    t.exec(
        "UPDATE chats SET status = 'active', assignee_id = ? WHERE id = ?",
        [&actor.id, &chat_id],
    )?;
    t.forget_chat(&chat_id);
    core.status = ChatStatus::Active;
    core.assignee_id = Some(actor.id.clone());
    announce(t, &chat_id, &mut core, line)
}

/// After a chat changes hands or state: the system line ("Ada joined the chat") in the
/// history, then the updated chat to everyone who follows it, the visitor included.
fn announce(t: &mut Tx<'_>, chat_id: &str, core: &mut ChatCore, line: String) -> WResult<Chat> {
    t.system_message(chat_id, core, line)?;
    let chat = t.reload_chat(chat_id)?;
    t.chat_event(false, &chat, None, true)?;
    Ok(chat)
}

fn op_transfer(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    to_agent_id: Option<String>,
    to_department_id: Option<String>,
    note: Option<String>,
) -> WResult<Chat> {
    let mut core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    chat::check_transferable(&core)?;
    let department = match &to_department_id {
        Some(d) => {
            let name: Option<String> =
                t.opt_one("SELECT name FROM departments WHERE id = ?", [d])?;
            let name = name.ok_or_else(|| ApiError::invalid(format!("no department {d:?}")))?;
            Some((d.clone(), name))
        }
        None => None,
    };
    let agent = match &to_agent_id {
        Some(a) => Some(
            t.load_agent(a)?
                .ok_or_else(|| ApiError::invalid(format!("no agent {a:?}")))?,
        ),
        None => None,
    };
    let target = chat::TransferTarget {
        department: department
            .as_ref()
            .map(|(id, name)| (id.as_str(), name.as_str())),
        agent: agent.as_ref(),
    };
    let plan = chat::transfer(&actor, &core, &target, note.as_deref())?;
    t.exec(
        "UPDATE chats SET department_id = ?, assignee_id = ?, status = ?, \
         waiting_since = CASE WHEN ? = 'waiting' THEN ? ELSE waiting_since END WHERE id = ?",
        params![
            plan.department_id,
            plan.assignee_id.as_deref(),
            plan.status.as_str(),
            plan.status.as_str(),
            now_ms(),
            chat_id
        ],
    )?;
    t.forget_chat(&chat_id);
    core.department_id = plan.department_id.clone();
    core.assignee_id = plan.assignee_id.clone();
    core.status = plan.status;
    if let Some(n) = &plan.handoff_note {
        t.insert_message(
            &chat_id,
            &mut core,
            &new_id(),
            agent_author(&actor),
            MessageKind::Note,
            n,
        )?;
    }
    t.system_message(&chat_id, &mut core, plan.line)?;
    let chat = t.reload_chat(&chat_id)?;
    t.chat_event(false, &chat, plan.prev_department_id, true)?;
    if let Some(a) = &plan.notify {
        t.notify(
            a,
            chat::transfer_notification(&actor, &chat.customer.name, &chat_id),
        )?;
    }
    Ok(chat)
}

fn op_close(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    resolution: Option<String>,
) -> WResult<Chat> {
    let mut core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    let line = chat::close(&actor, &core)?;
    t.exec(
        "UPDATE chats SET status = 'closed', closed_at = ?, resolution = ? WHERE id = ?",
        params![now_ms(), resolution.as_deref(), chat_id],
    )?;
    t.forget_chat(&chat_id);
    core.status = ChatStatus::Closed;
    announce(t, &chat_id, &mut core, line)
}

fn op_reopen(t: &mut Tx<'_>, actor: Actor, chat_id: String) -> WResult<Chat> {
    let mut core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    if core.status != ChatStatus::Closed {
        return Err(ApiError::conflict("chat is not closed").into());
    }
    let other_open: Option<String> = t.opt_one(
        "SELECT id FROM chats WHERE customer_id = ? AND status != 'closed' AND id != ? LIMIT 1",
        [&core.customer_id, &chat_id],
    )?;
    let line = chat::reopen(&actor, &core, other_open.as_deref())?;
    t.exec(
        "UPDATE chats SET status = 'active', assignee_id = ?, closed_at = NULL, resolution = NULL WHERE id = ?",
        [&actor.id, &chat_id],
    )?;
    t.forget_chat(&chat_id);
    core.status = ChatStatus::Active;
    core.assignee_id = Some(actor.id.clone());
    announce(t, &chat_id, &mut core, line)
}

fn op_tag(
    t: &mut Tx<'_>,
    actor: Actor,
    chat_id: String,
    add: Vec<String>,
    remove: Vec<String>,
) -> WResult<Chat> {
    let core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    let Some(tags) = chat::retag(&core, &add, &remove)? else {
        return t.reload_chat(&chat_id);
    };
    t.exec(
        "UPDATE chats SET tags = ? WHERE id = ?",
        [serde_json::to_string(&tags)?, chat_id.clone()],
    )?;
    t.forget_chat(&chat_id);
    let chat = t.reload_chat(&chat_id)?;
    t.chat_event(false, &chat, None, false)?;
    Ok(chat)
}

fn read_event(
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
    let event_id = t.event("message:read", &payload, &audience, customer)?;
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

fn op_agent_read(t: &mut Tx<'_>, actor: Actor, chat_id: String, seq: Seq) -> WResult<()> {
    let core = t.core(&chat_id)?;
    check_access(&actor, &core, &chat_id)?;
    chat::check_read_seq(seq, core.last_seq)?;
    let cur: i64 = t.one("SELECT agent_read_seq FROM chats WHERE id = ?", [&chat_id])?;
    if seq <= cur {
        return Ok(());
    }
    t.exec(
        "UPDATE chats SET agent_read_seq = ?, unread_count = (SELECT COUNT(*) FROM messages m \
         WHERE m.chat_id = chats.id AND m.seq > ? AND m.author_kind = 'customer') WHERE id = ?",
        params![seq, seq, chat_id],
    )?;
    read_event(t, &core, &chat_id, agent_author(&actor), seq, true)
}

fn op_customer_read(
    t: &mut Tx<'_>,
    customer_id: String,
    chat_id: Option<String>,
    seq: Seq,
) -> WResult<()> {
    let chat_id = t.customer_chat_id(&customer_id, chat_id.as_deref())?;
    let core = t.core(&chat_id)?;
    chat::check_read_seq(seq, core.last_seq)?;
    let changed = t.exec(
        "UPDATE chats SET customer_read_seq = ? WHERE id = ? AND customer_read_seq < ?",
        params![seq, chat_id, seq],
    )?;
    if changed == 0 {
        return Ok(());
    }
    let name: String = t.one("SELECT name FROM customers WHERE id = ?", [&customer_id])?;
    let reader = Author {
        kind: AuthorKind::Customer,
        id: customer_id,
        name,
    };
    read_event(t, &core, &chat_id, reader, seq, false)
}

fn op_rate(
    t: &mut Tx<'_>,
    customer_id: String,
    chat_id: Option<String>,
    score: u8,
    comment: Option<String>,
) -> WResult<()> {
    let chat_id = match chat_id {
        Some(c) => t.customer_chat_id(&customer_id, Some(&c))?,
        None => {
            let last: Option<String> = t.opt_one(
                "SELECT id FROM chats WHERE customer_id = ? ORDER BY created_at DESC LIMIT 1",
                [&customer_id],
            )?;
            last.ok_or_else(|| ApiError::not_found("you have no chat to rate"))?
        }
    };
    t.exec(
        "UPDATE chats SET rating_score = ?, rating_comment = ? WHERE id = ?",
        params![i64::from(score), comment.as_deref(), chat_id],
    )?;
    let chat = t.reload_chat(&chat_id)?;
    t.chat_event(false, &chat, None, true)
}

fn op_block(t: &mut Tx<'_>, actor: Actor, customer_id: String, blocked: bool) -> WResult<Customer> {
    if !actor.sees_every_customer() {
        // An agent may block a customer who has chatted in one of their departments.
        let seen: Option<String> = t.opt_one(
            "SELECT id FROM chats WHERE customer_id = ? AND (assignee_id = ? OR department_id IN (SELECT department_id FROM agent_departments WHERE agent_id = ?)) LIMIT 1",
            [&customer_id, &actor.id, &actor.id],
        )?;
        if seen.is_none() {
            return Err(ApiError::not_found(format!("no customer {customer_id:?}")).into());
        }
    }
    let changed = t.exec(
        "UPDATE customers SET blocked = ? WHERE id = ?",
        params![i64::from(blocked), customer_id],
    )?;
    t.forget_customer(&customer_id);
    if changed == 0 {
        return Err(ApiError::not_found(format!("no customer {customer_id:?}")).into());
    }
    let customer = t
        .load_customer(&customer_id)?
        .ok_or_else(|| inconsistent("customer vanished"))?;
    let payload = serde_json::to_string(&customer)?;
    // Agents who can see the customer's chats hear of it (and supervisors/admins).
    let department_id: Option<String> = t.opt_one(
        "SELECT department_id FROM chats WHERE customer_id = ? ORDER BY created_at DESC LIMIT 1",
        [&customer_id],
    )?;
    let audience = Audience {
        department_id,
        ..Audience::default()
    };
    let event_id = t.event("customer:updated", &payload, &audience, None)?;
    t.publish.push(Published {
        event: ServerEvent::CustomerUpdated(CustomerEvent {
            event_id,
            customer: customer.clone(),
        }),
        audience,
    });
    Ok(customer)
}

fn op_presence(t: &mut Tx<'_>, agent_id: String, status: AgentStatus) -> WResult<Agent> {
    t.exec(
        "UPDATE agents SET status = ? WHERE id = ?",
        params![status.as_str(), agent_id],
    )?;
    let agent = t
        .load_agent(&agent_id)?
        .ok_or_else(|| ApiError::not_found("no such agent"))?;
    let payload = serde_json::to_string(&agent)?;
    let audience = Audience {
        broadcast: true,
        ..Audience::default()
    };
    let event_id = t.event("presence", &payload, &audience, None)?;
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
        $self.run(move |t| $op(t, $($arg),*)).await
    };
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_department(&self, name: &str) -> StoreResult<Department> {
        let name = name.to_owned();
        self.run(move |t| {
            let exists: Option<String> =
                t.opt_one("SELECT id FROM departments WHERE name = ?", [&name])?;
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
            t.exec(
                "INSERT INTO departments (id, name, created_at) VALUES (?, ?, ?)",
                params![d.id, d.name, now_ms()],
            )?;
            Ok(d)
        })
        .await
    }

    async fn create_agent(&self, agent: NewAgent) -> StoreResult<Agent> {
        self.run(move |t| {
            let exists: Option<String> =
                t.opt_one("SELECT id FROM agents WHERE email = ?", [&agent.email])?;
            if exists.is_some() {
                return Err(ApiError::conflict(format!(
                    "an agent with email {} already exists",
                    agent.email
                ))
                .into());
            }
            let id = new_id();
            t.exec(
                "INSERT INTO agents (id, email, name, role, status, max_chats, password_hash, created_at) \
                 VALUES (?, ?, ?, ?, 'offline', ?, ?, ?)",
                params![
                    id,
                    agent.email,
                    agent.name,
                    agent.role.as_str(),
                    i64::from(agent.max_chats),
                    agent.password_hash,
                    now_ms(),
                ],
            )?;
            for d in &agent.department_ids {
                t.exec(
                    "INSERT INTO agent_departments (agent_id, department_id) VALUES (?, ?)",
                    [&id, d],
                )?;
            }
            t.load_agent(&id)?
                .ok_or_else(|| inconsistent("agent vanished"))
        })
        .await
    }

    async fn set_password(&self, email: &str, password_hash: &str) -> StoreResult<()> {
        let (email, hash) = (email.to_owned(), password_hash.to_owned());
        self.run(move |t| {
            // A new password signs the agent out of every existing session.
            let epoch = now_ms().to_string();
            let changed = t.exec(
                "UPDATE agents SET password_hash = ?, sessions_valid_after = ? WHERE email = ?",
                [&hash, &epoch, &email],
            )?;
            if changed == 0 {
                return Err(ApiError::not_found(format!("no agent with email {email}")).into());
            }
            Ok(())
        })
        .await
    }

    async fn sessions_valid_after(&self, agent_id: &str) -> StoreResult<i64> {
        let v: Option<i64> =
            sqlx::query_scalar("SELECT sessions_valid_after FROM agents WHERE id = ?")
                .bind(agent_id)
                .fetch_optional(&self.read)
                .await
                .map_err(db_err)?;
        Ok(v.unwrap_or(0))
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
        if let ChatScope::Visible { agent_id, .. } = viewer.chat_scope() {
            // The departments come from the table, so a change of membership applies at once.
            where_sql.push_str(
                " AND (c.assignee_id = ? OR c.department_id IN (SELECT department_id FROM agent_departments WHERE agent_id = ?))",
            );
            args.push(agent_id.clone());
            args.push(agent_id);
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
            Viewer::Agent(a) if a.follows_all_chats() => {
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
            t.exec(
                "INSERT OR IGNORE INTO revoked_tokens (jti, expires_at) VALUES (?, ?)",
                params![jti, expires_at_ms],
            )?;
            t.exec(
                "DELETE FROM revoked_tokens WHERE expires_at < ?",
                [now_ms()],
            )?;
            Ok(())
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
                let id = new_id();
                let now = now_ms();
                let display = name.unwrap_or_else(|| format!("Visitor {}", &id[id.len() - 4..]));
                t.exec(
                    "INSERT INTO customers (id, visitor_token_hash, name, email, created_at) VALUES (?, ?, ?, ?, ?)",
                    params![id, hash, display, email.as_deref(), now],
                )?;
                t.load_customer(&id)?
                    .ok_or_else(|| inconsistent("customer vanished"))
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
            let id = new_id();
            let size = data.len() as i64;
            t.exec(
                "INSERT INTO attachments (id, owner_kind, owner_id, name, content_type, size, data, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                params![id, ok, oi, n, ct, size, data, now_ms()],
            )?;
            Ok(Attachment {
                url: format!("/api/v1/attachments/{id}"),
                id,
                name: n,
                content_type: ct,
                size: u64::try_from(size).unwrap_or(0),
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
        // Dropping the sender lets the writer finish what is queued, commit, checkpoint
        // the WAL into the database file and stop.
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

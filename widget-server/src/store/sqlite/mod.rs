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
use shared::canned::{CannedInput, CannedResponse, CannedScope};
use shared::events::{
    ChatEvent, CustomerEvent, MessageEvent, NotificationEvent, PresenceEvent, ReadEvent,
    ServerEvent,
};
use shared::limits::MAX_SYNC_EVENTS;
use shared::model::{
    Agent, AgentStatus, Attachment, Author, AuthorKind, Chat, ChatStatus, ChatSummary, Customer,
    CustomerNote, CustomerProfile, Department, EventId, Message, MessageKind, Notification, Page,
    Rating, Role, Seq,
};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteRow, SqliteSynchronous,
};
use sqlx::{AssertSqlSafe, Connection, Row, SqlSafeStr};
use tokio::sync::{mpsc, oneshot};

use crate::domain::ChatScope;
use crate::domain::audience::{VisitorNumbers, next_customer_seq, visitor_read_receipt};
use crate::domain::chat::{self, ChatCore};
use crate::domain::mention;
use crate::domain::visitor;

use super::fail::{Fail, WResult, inconsistent, read_failed, storage_failed, unavailable};
use super::{
    Actor, AgentChanges, AttachmentRecord, AttachmentStore, Audience, CannedStore, ChatFilter,
    ChatSort, ChatStore, CustomerEdit, DirectoryStore, EventStore, NewAgent, Published, Store,
    StoreResult, SyncResult, UploadQuota, Viewer, Visitor, VisitorStore, customer_message,
    customer_view, decode_event, hash_token, like_pattern, new_id, now_ms, ts,
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
            AssertSqlSafe(include_str!("../../../migrations/sqlite/0001_init.sql")).into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            Cow::Borrowed("attachments"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!(
                "../../../migrations/sqlite/0002_attachments.sql"
            ))
            .into_sql_str(),
            false,
        ),
        Migration::new(
            3,
            Cow::Borrowed("canned"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!("../../../migrations/sqlite/0003_canned.sql"))
                .into_sql_str(),
            false,
        ),
        Migration::new(
            4,
            Cow::Borrowed("session epoch"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!(
                "../../../migrations/sqlite/0004_session_epoch.sql"
            ))
            .into_sql_str(),
            false,
        ),
        Migration::new(
            5,
            Cow::Borrowed("tickets"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!("../../../migrations/sqlite/0005_tickets.sql"))
                .into_sql_str(),
            false,
        ),
        Migration::new(
            6,
            Cow::Borrowed("kb"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!("../../../migrations/sqlite/0006_kb.sql")).into_sql_str(),
            false,
        ),
        Migration::new(
            7,
            Cow::Borrowed("customer seq"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!(
                "../../../migrations/sqlite/0007_customer_seq.sql"
            ))
            .into_sql_str(),
            false,
        ),
        Migration::new(
            8,
            Cow::Borrowed("reports"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!("../../../migrations/sqlite/0008_reports.sql"))
                .into_sql_str(),
            false,
        ),
    ])
}

pub struct SqliteStore {
    read: SqlitePool,
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<Published>>>,
    writer_done: Mutex<Option<oneshot::Receiver<()>>>,
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
        let started = std::time::Instant::now();
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |t| {
            let r = f(t);
            let publish = std::mem::take(&mut t.publish);
            match r {
                Ok(v) => Outcome {
                    publish,
                    db_error: false,
                    refused: false,
                    finish: Box::new(move |commit| {
                        let _ = tx.send(commit.map(|()| v));
                    }),
                },
                Err(Fail::Api(e)) => Outcome {
                    publish: Vec::new(),
                    db_error: false,
                    refused: true,
                    finish: Box::new(move |_| {
                        let _ = tx.send(Err(e));
                    }),
                },
                Err(Fail::Db(e)) => {
                    tracing::error!(error = %e, "store write failed; batch rolled back");
                    Outcome {
                        publish: Vec::new(),
                        db_error: true,
                        refused: false,
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
        let answer = rx.await.map_err(|_| unavailable())?;
        metrics::histogram!(crate::metrics::WRITE_ACK_SECONDS)
            .record(started.elapsed().as_secs_f64());
        answer
    }
}

macro_rules! run_op {
    ($self:ident, $op:ident ( $($arg:expr),* )) => {
        $self.run(move |t| $op(t, $($arg),*)).await
    };
}

mod attachments;
mod canned;
mod chats;
mod directory;
mod events;
mod kb;
mod messages;
mod reports;
mod rows;
mod tickets;
mod tx;
mod visitors;
mod writer;

use messages::*;
use rows::*;
use tx::*;
use writer::*;

#[async_trait]
impl Store for SqliteStore {
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
}

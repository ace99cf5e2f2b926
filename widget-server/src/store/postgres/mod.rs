//! The PostgreSQL store: a pool for reads and one writer task per node that commits
//! many writes per transaction, each inside a savepoint, and acks each only after
//! the commit.
//!
//! # Event ids become visible in increasing order
//!
//! A client that has seen event N asks for `id > N` and must never miss one. A
//! sequence does not give that: ids are handed out in call order but transactions
//! commit in any order, so id N+1 can be visible while N is still uncommitted, and a
//! reader that moves past N+1 skips N for good. Several nodes write concurrently, so
//! the single-writer argument of the SQLite store does not hold either.
//!
//! Instead the first event of a batch takes a transaction-level advisory lock
//! (`pg_advisory_xact_lock`, one key per database) and then, in a statement of its
//! own, reads `MAX(id)` and counts on from there. The lock is held until the
//! transaction ends, and PostgreSQL makes a transaction visible to new snapshots
//! before it releases its locks, so:
//! - batches that write events are serialized across all nodes from their first
//!   event to their commit, and ids grow with commit order;
//! - the next holder's `MAX(id)` (a new snapshot under READ COMMITTED, taken after
//!   the lock was granted) sees every earlier holder's ids;
//! - any snapshot that sees a batch also sees every batch that held the lock before
//!   it, so what a reader sees of the log is always a gap-free prefix.
//!
//! The cost is one lock hand-over per batch across the deployment; batching many
//! writes per transaction keeps that affordable, and writes without events (token
//! revocations) never take the lock. Anything else that appends to `events` (an
//! import tool) must take the same lock the same way ([`EVENT_LOCK`]).
//!
//! # Failures
//!
//! A refused write rolls back to its savepoint and leaves nothing; a storage error
//! rolls back the batch and answers `unavailable` to every write in it. Every batch
//! runs under a deadline, so a node whose database stops answering answers
//! `unavailable` instead of hanging, closes the connection, and takes a fresh one
//! from the pool for the next batch; the pool reconnects once the database is back.
//! The server side is bounded too: a writer connection that goes quiet inside a
//! transaction (a node cut off mid-batch) is ended by
//! `idle_in_transaction_session_timeout`, which releases the lock for the others,
//! and `lock_timeout` bounds how long a batch waits for it.
//!
//! # Locks
//!
//! Several nodes write at once, so what a write decides on must not change under it
//! before its commit. A write that works on a chat locks the chat's row (`SELECT …
//! FOR UPDATE`, [`Tx::lock_chat`]): the next message's `seq` is `last_seq + 1` of the
//! row it holds, and status, assignee and department stay what the domain rule saw.
//! Starting a chat locks the customer's row, so one visitor never gets two open
//! chats. Every such write, and every write that checks a unique key before
//! inserting (a department or agent e-mail, a canned shortcut), first takes the
//! event lock ([`Tx::lock_events`]), before any row lock:
//! - a batch that holds a row lock then holds the event lock too, so two batches
//!   never wait on each other's rows and the event lock at once (no deadlock);
//! - a check made under it is exact: the batch that stored the same key before
//!   committed before the lock passed on, and a statement sees what committed before
//!   it started. The unique indexes stay the last word; a violation of one still
//!   answers the same refusal.
//!
//! Writes that only insert rows no one else can touch (a new visitor, an upload) or
//! that skip what others hold (token revocations) take no lock at all.
//! Nothing is cached between batches: every write reads what it needs in its own
//! transaction.

use crate::store::fail::{read_failed, unavailable};
use std::borrow::Cow;
use std::str::FromStr;
use std::sync::Mutex;
use std::time::Duration;

use futures_util::future::BoxFuture;
use shared::model::EventId;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::{AssertSqlSafe, SqlSafeStr};
use tokio::sync::{mpsc, oneshot};

use super::{Published, Store, StoreResult};

/// Runs a write op (`async fn op(t: &mut Tx, args…)`) on the writer with its
/// arguments moved in.
macro_rules! run_op {
    ($self:ident, $op:ident ( $($arg:expr),* )) => {
        $self.run(move |t| Box::pin($op(t, $($arg),*))).await
    };
}

mod attachments;
mod canned;
mod chats;
mod directory;
mod events;
mod messages;
mod rows;
mod tickets;
mod tx;
mod visitors;
mod writer;

pub use writer::{EVENT_LOCK, Fail, MAX_BATCH, PgResult, Tx};

pub fn migrator() -> Migrator {
    Migrator::with_migrations(vec![
        Migration::new(
            1,
            Cow::Borrowed("init"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!("../../../migrations/postgres/0001_init.sql"))
                .into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            Cow::Borrowed("tickets"),
            MigrationType::Simple,
            AssertSqlSafe(include_str!(
                "../../../migrations/postgres/0002_tickets.sql"
            ))
            .into_sql_str(),
            false,
        ),
    ])
}

/// How a node uses its database.
#[derive(Debug, Clone)]
pub struct PgOptions {
    /// Connections for reads; the writer has one of its own.
    pub read_connections: u32,
    /// The longest a batch of writes may take, from taking a connection to its
    /// commit; past it every write in the batch answers `unavailable`.
    pub write_timeout: Duration,
    /// The longest a read may take, waiting for a connection included.
    pub read_timeout: Duration,
    /// The longest to wait for a connection (opening one included).
    pub connect_timeout: Duration,
}

impl Default for PgOptions {
    fn default() -> Self {
        PgOptions {
            // Reads are short index lookups; a handful of connections per node keeps
            // the server's connection count (one process each) low as nodes are added.
            read_connections: 8,
            write_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

pub struct PgStore {
    read: PgPool,
    read_timeout: Duration,
    jobs: Mutex<Option<mpsc::Sender<Box<dyn writer::Job>>>>,
    events_rx: Mutex<Option<mpsc::UnboundedReceiver<Published>>>,
    writer_done: Mutex<Option<oneshot::Receiver<()>>>,
}

/// `Duration` as a PostgreSQL setting value, in milliseconds.
fn pg_ms(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

impl PgStore {
    /// Connects, applies the migrations (several nodes starting at once take turns:
    /// the migrator holds an advisory lock) and starts the writer.
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        Self::open_with(url, PgOptions::default()).await
    }

    pub async fn open_with(url: &str, o: PgOptions) -> anyhow::Result<Self> {
        let base = PgConnectOptions::from_str(url)?
            .application_name("widget-server")
            // The server's NOTICEs (the migrator's "already exists, skipping" at every
            // start) are not worth a log line; warnings still are.
            .options([("client_min_messages", "warning")]);
        let read = PgPoolOptions::new()
            .max_connections(o.read_connections.max(1))
            .min_connections(0)
            .acquire_timeout(o.connect_timeout)
            .idle_timeout(Duration::from_secs(300))
            .connect_with(
                base.clone()
                    .options([("statement_timeout", pg_ms(o.read_timeout))]),
            )
            .await?;
        migrator().run(&read).await?;
        let lock_wait = o.write_timeout;
        let write = PgPoolOptions::new()
            .max_connections(1)
            .min_connections(0)
            .acquire_timeout(o.connect_timeout)
            // The writer keeps its connection between batches and checks it by use.
            .test_before_acquire(false)
            .connect_lazy_with(base.options([
                ("statement_timeout", pg_ms(o.write_timeout)),
                ("lock_timeout", pg_ms(lock_wait)),
                // No batch outlives the write deadline on this side, so the server
                // may end one that goes quiet for that long (a node cut off while
                // holding the event lock) long before TCP keepalive would notice.
                (
                    "idle_in_transaction_session_timeout",
                    pg_ms(o.write_timeout),
                ),
            ]));
        let (jobs_tx, jobs_rx) = mpsc::channel(4096);
        let (events_tx, events_rx) = mpsc::unbounded_channel();
        let (done_tx, done_rx) = oneshot::channel();
        let timeout = o.write_timeout;
        tokio::spawn(async move {
            writer::writer_loop(write.clone(), jobs_rx, events_tx, timeout).await;
            write.close().await;
            let _ = done_tx.send(());
        });
        Ok(PgStore {
            read,
            read_timeout: o.read_timeout,
            jobs: Mutex::new(Some(jobs_tx)),
            events_rx: Mutex::new(Some(events_rx)),
            writer_done: Mutex::new(Some(done_rx)),
        })
    }

    /// Runs a write in the writer's next batch, inside a savepoint of its own;
    /// answers after the batch has committed. An `Err(Fail::Api)` refuses the write
    /// and undoes what it did; an `Err(Fail::Db)` fails its whole batch.
    pub async fn run<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, PgResult<T>> + Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Box<dyn writer::Job> = Box::new(writer::Pending { f, reply });
        let sender = self
            .jobs
            .lock()
            .map_err(|_| unavailable())?
            .clone()
            .ok_or_else(unavailable)?;
        sender.send(job).await.map_err(|_| unavailable())?;
        answer.await.map_err(|_| unavailable())?
    }

    /// Runs a read on a pooled connection under the read deadline; a storage error
    /// or a database that does not answer in time is `unavailable`.
    pub async fn read<T, F>(&self, f: F) -> StoreResult<T>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, Result<T, sqlx::Error>> + Send,
    {
        let deadline = tokio::time::Instant::now() + self.read_timeout;
        let mut conn = tokio::time::timeout_at(deadline, self.read.acquire())
            .await
            .map_err(|_| read_failed("timed out waiting for a connection"))?
            .map_err(read_failed)?;
        match tokio::time::timeout_at(deadline, f(&mut conn)).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if is_connection_error(&e) {
                    conn.close_on_drop();
                }
                Err(read_failed(e))
            }
            Err(_) => {
                // A query may still be in flight on it.
                conn.close_on_drop();
                Err(read_failed("timed out"))
            }
        }
    }

    /// The read pool, for reads that need no deadline of their own (a stream).
    pub fn pool(&self) -> &PgPool {
        &self.read
    }

    /// The newest committed event id (0 for an empty log).
    pub async fn latest_event_id(&self) -> StoreResult<EventId> {
        self.read(|c| {
            Box::pin(async move {
                sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
                    .fetch_one(c)
                    .await
            })
        })
        .await
    }

    /// The committed events, in event-id order, for the dispatcher (taken once).
    pub fn take_events(&self) -> Option<mpsc::UnboundedReceiver<Published>> {
        self.events_rx.lock().ok()?.take()
    }

    /// Lets the queued writes finish, stops the writer and closes the pools; writes
    /// after this answer `unavailable`.
    pub async fn close(&self) {
        let sender = self.jobs.lock().ok().and_then(|mut j| j.take());
        drop(sender);
        let done = self.writer_done.lock().ok().and_then(|mut d| d.take());
        if let Some(done) = done {
            let _ = done.await;
        }
        self.read.close().await;
    }
}

#[async_trait::async_trait]
impl Store for PgStore {
    async fn close_store(&self) {
        self.close().await;
    }
}

/// Errors after which the connection cannot be trusted for another use.
pub(crate) fn is_connection_error(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::Protocol(_)
            | sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::WorkerCrashed
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>(_: &T) {}

    /// The store's futures must be `Send`: the server spawns them.
    #[allow(dead_code)]
    fn futures_are_send(store: &PgStore) {
        assert_send(&PgStore::open("postgres://localhost/panel"));
        assert_send(&store.latest_event_id());
        assert_send(&store.close());
        assert_send(&store.run(|tx| {
            Box::pin(async move {
                tx.event(
                    shared::events::PRESENCE,
                    "{}",
                    &crate::store::Audience::default(),
                    None,
                )
                .await
            })
        }));
    }
}

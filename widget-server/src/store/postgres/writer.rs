//! The PostgreSQL writer task: batches queued writes into one transaction, one
//! savepoint per write, acks after COMMIT and publishes the committed events in order.

use futures_util::future::BoxFuture;
use shared::ApiError;
use shared::model::EventId;
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool};
use sqlx::{Postgres, raw_sql};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Duration, Instant, timeout_at};

use super::is_connection_error;
pub use crate::store::fail::Fail;
use crate::store::fail::storage_failed;
use crate::store::now_ms;
use crate::store::{Audience, Published, StoreResult};

/// The most writes committed together. Each write runs in a savepoint, and every
/// savepoint that writes gets a subtransaction id; past 64 of them in one
/// transaction PostgreSQL's per-backend subtransaction cache overflows and every
/// other session's visibility checks slow down while the batch is open.
pub const MAX_BATCH: usize = 64;

/// The advisory lock (two-key form, so it cannot meet the migrator's one-key lock)
/// that orders event ids; see the module documentation of `store::postgres`.
pub const EVENT_LOCK: (i32, i32) = (0x5041_4e4c, 1); // "PANL", the event log

pub type PgResult<T> = Result<T, Fail>;

/// The connection broke while the commit was on its way: it may or may not have
/// happened. Writes carry client ids, so a retry cannot store anything twice.
fn commit_unknown() -> ApiError {
    ApiError::new(
        shared::ErrorCode::Unavailable,
        "the store stopped answering while saving; retry",
    )
}

/// The batch's transaction as a write sees it.
pub struct Tx {
    conn: PoolConnection<Postgres>,
    /// The last event id of this batch, once it holds the event lock.
    last_event_id: Option<EventId>,
    publish: Vec<Published>,
}

impl Tx {
    /// The transaction's connection, for the write's own statements.
    pub fn conn(&mut self) -> &mut PgConnection {
        &mut self.conn
    }

    /// Appends to the event log and returns the event's id; `customer` is (customer
    /// id, customer-facing payload) when the customer may see the event. Publish
    /// what it announces with [`Tx::publish`].
    pub async fn event(
        &mut self,
        name: &str,
        payload: &str,
        audience: &Audience,
        customer: Option<(&str, &str)>,
    ) -> PgResult<EventId> {
        let last = match self.last_event_id {
            Some(id) => id,
            None => self.lock_event_log().await?,
        };
        let id = last + 1;
        sqlx::query(
            "INSERT INTO events (id, name, payload, customer_payload, department_id, \
             prev_department_id, agent_id, customer_id, broadcast, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(id)
        .bind(name)
        .bind(payload)
        .bind(customer.map(|(_, p)| p))
        .bind(audience.department_id.as_deref())
        .bind(audience.prev_department_id.as_deref())
        .bind(audience.agent_id.as_deref())
        .bind(customer.map(|(c, _)| c))
        .bind(audience.broadcast)
        .bind(now_ms())
        .execute(&mut *self.conn)
        .await?;
        self.last_event_id = Some(id);
        Ok(id)
    }

    /// Queues an event for the dispatcher; it goes out only if the batch commits.
    pub fn publish(&mut self, p: Published) {
        self.publish.push(p);
    }

    /// Takes the event lock now unless this batch holds it already. Writes that lock
    /// rows other nodes also lock (a chat, a customer, an agent) or that check a
    /// unique key before inserting take it before anything else; see "Locks" in the
    /// documentation of `store::postgres`.
    pub async fn lock_events(&mut self) -> PgResult<()> {
        if self.last_event_id.is_none() {
            self.lock_event_log().await?;
        }
        Ok(())
    }

    async fn lock_event_log(&mut self) -> PgResult<EventId> {
        sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
            .bind(EVENT_LOCK.0)
            .bind(EVENT_LOCK.1)
            .execute(&mut *self.conn)
            .await?;
        // A statement of its own: its snapshot is taken after the lock was granted,
        // so it sees the ids of every batch that held the lock before.
        let last: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(id), 0) FROM events")
            .fetch_one(&mut *self.conn)
            .await?;
        self.last_event_id = Some(last);
        Ok(last)
    }
}

/// How a write ended inside its batch.
enum Status {
    Done,
    Refused,
    Failed,
}

/// What a write leaves for after the commit: events to publish, and the ack.
pub(super) struct Outcome {
    publish: Vec<Published>,
    status: Status,
    finish: Box<dyn FnOnce(Result<(), ApiError>) + Send>,
}

/// A queued write.
pub(super) trait Job: Send {
    fn run<'t>(self: Box<Self>, t: &'t mut Tx) -> BoxFuture<'t, Outcome>;
    /// Answers without running (its batch failed before reaching it).
    fn refuse(self: Box<Self>, e: ApiError);
}

pub(super) struct Pending<T, F> {
    pub(super) f: F,
    pub(super) reply: oneshot::Sender<StoreResult<T>>,
}

impl<T, F> Job for Pending<T, F>
where
    T: Send + 'static,
    F: for<'t> FnOnce(&'t mut Tx) -> BoxFuture<'t, PgResult<T>> + Send + 'static,
{
    fn run<'t>(self: Box<Self>, t: &'t mut Tx) -> BoxFuture<'t, Outcome> {
        let Pending { f, reply } = *self;
        Box::pin(async move {
            let r = f(t).await;
            let publish = std::mem::take(&mut t.publish);
            match r {
                Ok(v) => Outcome {
                    publish,
                    status: Status::Done,
                    finish: Box::new(move |commit| {
                        let _ = reply.send(commit.map(|()| v));
                    }),
                },
                Err(Fail::Api(e)) => Outcome {
                    publish: Vec::new(),
                    status: Status::Refused,
                    finish: Box::new(move |_| {
                        let _ = reply.send(Err(e));
                    }),
                },
                Err(Fail::Db(e)) => {
                    tracing::error!(error = %e, "store write failed; batch rolled back");
                    Outcome {
                        publish: Vec::new(),
                        status: Status::Failed,
                        finish: Box::new(move |_| {
                            let _ = reply.send(Err(storage_failed()));
                        }),
                    }
                }
            }
        })
    }

    fn refuse(self: Box<Self>, e: ApiError) {
        let _ = self.reply.send(Err(e));
    }
}

/// Where the savepoint of the next write stands.
#[derive(Clone, Copy, PartialEq)]
enum Savepoint {
    /// None yet in this transaction.
    None,
    /// Open and untouched (just made, or just rolled back to).
    Clean,
    /// Holds a finished write: release it and make a new one.
    Used,
}

pub(super) async fn writer_loop(
    pool: PgPool,
    mut jobs: mpsc::Receiver<Box<dyn Job>>,
    events: mpsc::UnboundedSender<Published>,
    timeout: Duration,
) {
    let mut batch: Vec<Box<dyn Job>> = Vec::with_capacity(MAX_BATCH);
    let mut kept: Option<PoolConnection<Postgres>> = None;
    while let Some(first) = jobs.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(j) => batch.push(j),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let deadline = Instant::now() + timeout;
        let Some(conn) = begin(&pool, kept.take(), deadline).await else {
            for job in batch.drain(..) {
                job.refuse(storage_failed());
            }
            continue;
        };
        let mut t = Tx {
            conn,
            last_event_id: None,
            publish: Vec::new(),
        };
        let mut outcomes = Vec::with_capacity(batch.len());
        let ran = timeout_at(deadline, run_batch(&mut t, &mut batch, &mut outcomes)).await;
        // Whether the connection is past trusting: close it rather than keep it.
        let mut broken = false;
        let commit = match ran {
            Ok(Ok(())) => match timeout_at(deadline, raw_sql("COMMIT").execute(&mut *t.conn)).await
            {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => {
                    tracing::error!(error = %e, "commit failed");
                    broken = true;
                    Err(commit_unknown())
                }
                Err(_) => {
                    tracing::error!("commit timed out");
                    broken = true;
                    Err(commit_unknown())
                }
            },
            Ok(Err(())) => {
                broken = !rollback(&mut t.conn, deadline).await;
                Err(storage_failed())
            }
            Err(_) => {
                tracing::error!("write batch timed out; rolled back");
                // A statement may still be in flight: closing the connection is the
                // rollback, and the server releases the event lock with it.
                broken = true;
                Err(storage_failed())
            }
        };
        // Writes the batch never reached (it stopped at a storage error or timed out).
        for job in batch.drain(..) {
            job.refuse(storage_failed());
        }
        let Tx { mut conn, .. } = t;
        if commit.is_ok() {
            metrics::histogram!(crate::metrics::COMMIT_BATCH).record(outcomes.len() as f64);
            metrics::histogram!(crate::metrics::COMMIT_SECONDS)
                .record(started.elapsed().as_secs_f64());
        }
        if broken {
            conn.close_on_drop();
        } else {
            kept = Some(conn);
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

/// Opens the batch's transaction on the kept connection, or on a fresh one when the
/// kept one turns out broken (nothing was sent in it yet, so trying again is safe).
async fn begin(
    pool: &PgPool,
    kept: Option<PoolConnection<Postgres>>,
    deadline: Instant,
) -> Option<PoolConnection<Postgres>> {
    if let Some(mut conn) = kept {
        match timeout_at(deadline, raw_sql("BEGIN").execute(&mut *conn)).await {
            Ok(Ok(_)) => return Some(conn),
            Ok(Err(e)) => tracing::warn!(error = %e, "writer connection lost; reconnecting"),
            Err(_) => tracing::warn!("writer connection stopped answering; reconnecting"),
        }
        conn.close_on_drop();
    }
    let mut conn = match timeout_at(deadline, pool.acquire()).await {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "no database connection for writes");
            return None;
        }
        Err(_) => {
            tracing::error!("timed out connecting to the database for writes");
            return None;
        }
    };
    match timeout_at(deadline, raw_sql("BEGIN").execute(&mut *conn)).await {
        Ok(Ok(_)) => Some(conn),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "could not begin a write transaction");
            conn.close_on_drop();
            None
        }
        Err(_) => {
            tracing::error!("timed out beginning a write transaction");
            conn.close_on_drop();
            None
        }
    }
}

/// Runs the batch's writes in order, each in its savepoint. `Err` means a storage
/// error: the transaction must be rolled back; writes not yet run stay in `batch`.
async fn run_batch(
    t: &mut Tx,
    batch: &mut Vec<Box<dyn Job>>,
    outcomes: &mut Vec<Outcome>,
) -> Result<(), ()> {
    let mut savepoint = Savepoint::None;
    let mut jobs = std::mem::take(batch).into_iter();
    while let Some(job) = jobs.next() {
        let step = match savepoint {
            Savepoint::None => Some("SAVEPOINT write"),
            Savepoint::Used => Some("RELEASE SAVEPOINT write; SAVEPOINT write"),
            Savepoint::Clean => None,
        };
        if let Some(sql) = step
            && let Err(e) = raw_sql(sql).execute(&mut *t.conn).await
        {
            tracing::error!(error = %e, "savepoint failed; batch rolled back");
            batch.push(job);
            batch.extend(jobs);
            return Err(());
        }
        let before = t.last_event_id;
        let o = job.run(t).await;
        match o.status {
            Status::Done => savepoint = Savepoint::Used,
            Status::Refused => {
                // The event lock too may have been taken inside this savepoint and
                // released with it: take it again at the next event.
                t.last_event_id = before;
                if let Err(e) = raw_sql("ROLLBACK TO SAVEPOINT write")
                    .execute(&mut *t.conn)
                    .await
                {
                    tracing::error!(error = %e, "rollback to savepoint failed");
                    outcomes.push(o);
                    batch.extend(jobs);
                    return Err(());
                }
                savepoint = Savepoint::Clean;
            }
            Status::Failed => {
                outcomes.push(o);
                batch.extend(jobs);
                return Err(());
            }
        }
        outcomes.push(o);
    }
    Ok(())
}

/// Rolls the batch back; `false` when the connection could not do it (close it).
async fn rollback(conn: &mut PoolConnection<Postgres>, deadline: Instant) -> bool {
    match timeout_at(deadline, raw_sql("ROLLBACK").execute(&mut **conn)).await {
        Ok(Ok(_)) => true,
        Ok(Err(e)) => {
            if !is_connection_error(&e) {
                tracing::error!(error = %e, "rollback failed");
            }
            false
        }
        Err(_) => false,
    }
}

//! The writer thread: one connection, many writes per transaction (group commit),
//! each write inside a savepoint, acks only after the commit; and the WAL checkpointer.

use super::*;

/// What a write leaves for after the commit: events to publish, and the ack.
pub(super) struct Outcome {
    pub(super) publish: Vec<Published>,
    pub(super) db_error: bool,
    /// The write was refused: its savepoint is rolled back.
    pub(super) refused: bool,
    pub(super) finish: Box<dyn FnOnce(Result<(), ApiError>) + Send>,
}

/// A write, run on the writer thread inside the batch's transaction.
pub(super) type Job = Box<dyn FnOnce(&mut Tx<'_>) -> Outcome + Send>;

/// What the writer remembers between writes so the hot path (a message into a known
/// chat) needs few queries. The writer is the only writer, so the cache is exact; it
/// is dropped whenever a batch rolls back.
#[derive(Default)]
pub(super) struct WriterCache {
    pub(super) chats: HashMap<String, ChatCore>,
    /// Customer id → (display name, blocked).
    pub(super) customers: HashMap<String, (String, bool)>,
}

pub(super) const MAX_CACHED: usize = 50_000;

/// Writes collect their events here while they run inside the batch.
pub(super) struct Tx<'c> {
    pub(super) conn: &'c rusqlite::Connection,
    pub(super) cache: &'c mut WriterCache,
    /// The last event id issued in this batch: ids are assigned here, not by SQLite,
    /// so logging an event needs no round trip for its id.
    pub(super) last_event_id: &'c mut EventId,
    pub(super) publish: Vec<Published>,
}

/// The newest event id in the log (or ever issued: the table is AUTOINCREMENT).
pub(super) const LAST_EVENT_ID_SQL: &str = "SELECT MAX(COALESCE((SELECT MAX(id) FROM events), 0), \
    COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'events'), 0))";

/// Opens the batch's transaction and reads the last event id inside it, so ids stay
/// right even if another store on the same file (an admin tool) wrote in between.
pub(super) fn begin(conn: &rusqlite::Connection) -> rusqlite::Result<EventId> {
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute([])?;
    let last = conn
        .prepare_cached(LAST_EVENT_ID_SQL)
        .and_then(|mut s| s.query_row([], |r| r.get(0)));
    if last.is_err() {
        rollback(conn);
    }
    last
}

/// Runs a savepoint statement; a failure fails the whole batch.
fn savepoint(conn: &rusqlite::Connection, sql: &str) -> Result<(), ()> {
    conn.prepare_cached(sql)
        .and_then(|mut s| s.execute([]))
        .map(|_| ())
        .map_err(|e| tracing::error!(error = %e, sql, "savepoint failed"))
}

pub(super) fn rollback(conn: &rusqlite::Connection) {
    if !conn.is_autocommit()
        && let Err(e) = conn.execute_batch("ROLLBACK")
    {
        tracing::error!(error = %e, "rollback failed");
    }
}

pub(super) fn writer_loop(
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
        let started = std::time::Instant::now();
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
            let o = match savepoint(conn, "SAVEPOINT job") {
                Ok(()) => {
                    let before = (*t.last_event_id, conn.total_changes());
                    let o = job(&mut t);
                    if o.refused {
                        // A refusal leaves nothing behind: undo what the job wrote
                        // before it refused, and forget what it may have cached.
                        failed |= savepoint(conn, "ROLLBACK TO job").is_err();
                        last_event_id = before.0;
                        if conn.total_changes() != before.1 {
                            cache = WriterCache::default();
                        }
                    }
                    failed |= savepoint(conn, "RELEASE job").is_err();
                    o
                }
                Err(()) => {
                    failed = true;
                    drop(job);
                    continue;
                }
            };
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
            metrics::histogram!(crate::metrics::COMMIT_BATCH).record(outcomes.len() as f64);
            metrics::histogram!(crate::metrics::COMMIT_SECONDS)
                .record(started.elapsed().as_secs_f64());
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
pub(super) fn checkpoint_loop(conn: &rusqlite::Connection, wake: &StdReceiver<()>) {
    while let Ok(()) | Err(RecvTimeoutError::Timeout) = wake.recv_timeout(CHECKPOINT_EVERY) {
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "WAL checkpoint failed");
        }
    }
}

// Statements on the writer (inside its transaction)

impl Tx<'_> {
    pub(super) fn exec(&self, sql: &str, params: impl rusqlite::Params) -> WResult<usize> {
        Ok(self.conn.prepare_cached(sql)?.execute(params)?)
    }

    /// The first column of the first row, if there is a row.
    pub(super) fn opt_one<T: rusqlite::types::FromSql>(
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
    pub(super) fn one<T: rusqlite::types::FromSql>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> WResult<T> {
        Ok(self
            .conn
            .prepare_cached(sql)?
            .query_row(params, |r| r.get(0))?)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    async fn departments(store: &SqliteStore) -> Vec<String> {
        store
            .departments()
            .await
            .unwrap()
            .into_iter()
            .map(|d| d.name)
            .collect()
    }

    /// A write that has already written rows and logged an event when it refuses leaves
    /// none of it, while the writes batched with it commit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_refused_write_leaves_nothing_in_its_batch() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("panel.db").display());
        let store = SqliteStore::open(&url).await.unwrap();
        let before = store.latest_event_id().await.unwrap();
        let write = |name: &'static str, refuse: bool| {
            store.run(move |t| {
                t.exec(
                    "INSERT INTO departments (id, name, created_at) VALUES (?, ?, ?)",
                    params![new_id(), name, now_ms()],
                )?;
                t.event(shared::events::PRESENCE, "{}", &Audience::default(), None)?;
                if refuse {
                    return Err(ApiError::invalid("refused after writing").into());
                }
                Ok(())
            })
        };
        // Queued together, so they share a batch: kept, refused, kept.
        let (a, b, c) = tokio::join!(
            write("Kept first", false),
            write("Refused", true),
            write("Kept last", false)
        );
        a.unwrap();
        assert_eq!(b.unwrap_err().code, shared::ErrorCode::Invalid);
        c.unwrap();
        assert_eq!(departments(&store).await, ["Kept first", "Kept last"]);
        // The refused write's event id was given back: the log has no gap.
        assert_eq!(store.latest_event_id().await.unwrap(), before + 2);
        let ids: Vec<EventId> = sqlx::query_scalar("SELECT id FROM events ORDER BY id")
            .fetch_all(&store.read)
            .await
            .unwrap();
        assert_eq!(ids, [before + 1, before + 2]);
        store.close_store().await;
    }
}

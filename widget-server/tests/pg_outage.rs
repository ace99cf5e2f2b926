//! A node whose PostgreSQL stops answering (stalled network) or goes away (closed
//! connections) answers `unavailable` within its deadlines, and recovers by itself
//! once the database is back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::backends::{host_port, pg_database, with_host_port};
use common::relay::{Mode, Relay};
use shared::ErrorCode;
use shared::model::EventId;
use widget_server::store::postgres::{PgOptions, PgStore};
use widget_server::store::{Audience, StoreResult};

const DEADLINE: Duration = Duration::from_secs(2);

fn options() -> PgOptions {
    PgOptions {
        read_connections: 2,
        write_timeout: DEADLINE,
        read_timeout: DEADLINE,
        connect_timeout: Duration::from_secs(1),
    }
}

async fn write(store: &PgStore) -> StoreResult<EventId> {
    store
        .run(|tx| {
            Box::pin(async move {
                tx.event("customer:updated", "{}", &Audience::default(), None)
                    .await
            })
        })
        .await
}

/// Asserts the write and the read answer `unavailable`, each within its deadline
/// (and a margin for a connect attempt).
async fn assert_unavailable(store: &PgStore, what: &str) {
    let bound = DEADLINE + Duration::from_secs(2);
    let started = Instant::now();
    let e = write(store).await.expect_err(what);
    assert_eq!(e.code, ErrorCode::Unavailable, "{what}: {e:?}");
    assert!(
        started.elapsed() < bound,
        "{what}: write answered after {:?}",
        started.elapsed()
    );
    let started = Instant::now();
    let e = store.latest_event_id().await.expect_err(what);
    assert_eq!(e.code, ErrorCode::Unavailable, "{what}: {e:?}");
    assert!(
        started.elapsed() < bound,
        "{what}: read answered after {:?}",
        started.elapsed()
    );
}

/// Retries until a write and a read succeed again; answers the write's event id.
async fn assert_recovers(store: &PgStore, what: &str) -> EventId {
    let until = Instant::now() + Duration::from_secs(15);
    loop {
        match (write(store).await, store.latest_event_id().await) {
            (Ok(id), Ok(latest)) => {
                assert!(latest >= id);
                return id;
            }
            (w, r) => {
                assert!(Instant::now() < until, "{what}: no recovery: {w:?} {r:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_that_loses_postgres_answers_unavailable_and_recovers() {
    let Some(db) = pg_database("a_node_that_loses_postgres_answers_unavailable_and_recovers").await
    else {
        return;
    };
    let relay = Relay::start(&host_port(&db.url)).await;
    let url = with_host_port(&db.url, &relay.addr.to_string());
    let store = PgStore::open_with(&url, options()).await.expect("open");
    assert_eq!(write(&store).await.expect("first write"), 1);

    relay.set(Mode::Stall);
    assert_unavailable(&store, "database not answering").await;
    relay.set(Mode::Pass);
    let after_stall = assert_recovers(&store, "after the stall").await;

    relay.set(Mode::Cut);
    assert_unavailable(&store, "database gone").await;
    relay.set(Mode::Pass);
    let after_cut = assert_recovers(&store, "after the cut").await;

    // Nothing that failed took an id: the log stays gap-free.
    assert!(after_cut > after_stall);
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM events ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(ids, (1..=after_cut).collect::<Vec<_>>());

    store.close().await;
    drop(relay);
    db.drop_database().await;
}

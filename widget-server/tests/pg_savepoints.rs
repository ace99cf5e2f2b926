//! On PostgreSQL, writes batched into one transaction stand alone: a refused write
//! leaves nothing and the others commit; a storage error fails the whole batch and
//! the writer goes on with the next one.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::backends::pg_database;
use shared::events::{CustomerEvent, ServerEvent};
use shared::model::{Customer, EventId};
use shared::{ApiError, ErrorCode};
use widget_server::store::postgres::{Fail, PgStore};
use widget_server::store::{Audience, Published, StoreResult};

fn marker(event_id: EventId, name: &str) -> ServerEvent {
    ServerEvent::CustomerUpdated(CustomerEvent {
        event_id,
        customer: Customer {
            id: name.to_owned(),
            name: name.to_owned(),
            email: None,
            phone: None,
            location: None,
            tags: Vec::new(),
            custom_fields: BTreeMap::new(),
            blocked: false,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        },
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Then {
    Commit,
    Refuse,
    BreakSql,
}

/// A write that stores a row named `name`, logs and publishes one event, then
/// commits, refuses or runs broken SQL; answers (its transaction id, its event id).
async fn write(store: Arc<PgStore>, name: &'static str, then: Then) -> StoreResult<(i64, EventId)> {
    store
        .run(move |tx| {
            Box::pin(async move {
                sqlx::query("INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, 0)")
                    .bind(name)
                    .execute(tx.conn())
                    .await?;
                let audience = Audience::default();
                let id = tx.event("customer:updated", "{}", &audience, None).await?;
                tx.publish(Published {
                    event: marker(id, name),
                    audience,
                });
                match then {
                    Then::Commit => {}
                    Then::Refuse => {
                        return Err(Fail::Api(ApiError::conflict("refused on purpose")));
                    }
                    Then::BreakSql => {
                        sqlx::query("SELECT no_such_column FROM events")
                            .execute(tx.conn())
                            .await?;
                    }
                }
                let txid: i64 = sqlx::query_scalar("SELECT txid_current()")
                    .fetch_one(tx.conn())
                    .await?;
                Ok((txid, id))
            })
        })
        .await
}

/// Holds the writer in a batch of its own for a moment, so that the writes queued
/// meanwhile form the next batch together.
async fn hold_writer(store: Arc<PgStore>) -> StoreResult<()> {
    store
        .run(|_| {
            Box::pin(async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                Ok(())
            })
        })
        .await
}

/// Queues `writes` in order behind a held writer; answers each write's result.
async fn one_batch(
    store: &Arc<PgStore>,
    writes: &[(&'static str, Then)],
) -> Vec<StoreResult<(i64, EventId)>> {
    let hold = tokio::spawn(hold_writer(store.clone()));
    tokio::time::sleep(Duration::from_millis(50)).await;
    // `join_all` polls the writes in order and each queues itself on its first poll,
    // so queue order (batch order) is the order given.
    let results = futures_util::future::join_all(
        writes
            .iter()
            .map(|&(name, then)| write(store.clone(), name, then)),
    )
    .await;
    hold.await.unwrap().expect("the holding write");
    results
}

async fn stored(store: &PgStore) -> (Vec<String>, Vec<i64>) {
    let rows = sqlx::query_scalar("SELECT jti FROM revoked_tokens ORDER BY jti")
        .fetch_all(store.pool())
        .await
        .unwrap();
    let ids = sqlx::query_scalar("SELECT id FROM events ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    (rows, ids)
}

fn published(stream: &mut tokio::sync::mpsc::UnboundedReceiver<Published>) -> Vec<EventId> {
    let mut ids = Vec::new();
    while let Ok(p) = stream.try_recv() {
        ids.push(p.event.event_id());
    }
    ids
}

/// The refused write is the batch's first or a later one to log an event; either way
/// its row and its event vanish, the event ids stay gap-free and the others commit in
/// the same transaction.
async fn refused_write_leaves_nothing(refused_first: bool) {
    let Some(db) = pg_database("refused_write_leaves_nothing").await else {
        return;
    };
    let store = Arc::new(PgStore::open(&db.url).await.expect("open"));
    let mut stream = store.take_events().unwrap();
    let writes: &[(&str, Then)] = if refused_first {
        &[
            ("c", Then::Refuse),
            ("b", Then::Commit),
            ("d", Then::Commit),
        ]
    } else {
        &[
            ("b", Then::Commit),
            ("c", Then::Refuse),
            ("d", Then::Commit),
        ]
    };
    let results = one_batch(&store, writes).await;
    let mut ok = Vec::new();
    for ((name, _), r) in writes.iter().zip(results) {
        match *name {
            "c" => {
                let e = r.expect_err("the refused write");
                assert_eq!(e.code, ErrorCode::Conflict);
            }
            _ => ok.push(r.expect("the other writes commit")),
        }
    }
    assert_eq!(ok[0].0, ok[1].0, "b and d ran in one transaction");
    assert_eq!(
        (ok[0].1, ok[1].1),
        (1, 2),
        "no event id was lost to the refusal"
    );
    assert_eq!(
        stored(&store).await,
        (vec!["b".into(), "d".into()], vec![1, 2])
    );
    assert_eq!(
        published(&mut stream),
        vec![1, 2],
        "the refused event is not published"
    );

    store.close().await;
    db.drop_database().await;
}

#[tokio::test]
async fn a_refused_write_in_a_batch_leaves_nothing_and_the_others_commit() {
    refused_write_leaves_nothing(false).await;
}

#[tokio::test]
async fn a_refused_first_event_writer_gives_the_event_lock_back_cleanly() {
    refused_write_leaves_nothing(true).await;
}

#[tokio::test]
async fn a_storage_error_fails_the_whole_batch_and_the_next_batch_commits() {
    let Some(db) = pg_database("a_storage_error_fails_the_whole_batch").await else {
        return;
    };
    let store = Arc::new(PgStore::open(&db.url).await.expect("open"));
    let mut stream = store.take_events().unwrap();
    let results = one_batch(
        &store,
        &[
            ("e", Then::Commit),
            ("f", Then::BreakSql),
            ("g", Then::Commit),
        ],
    )
    .await;
    for r in results {
        let e = r.expect_err("every write of the failed batch");
        assert_eq!(e.code, ErrorCode::Unavailable, "{e:?}");
    }
    assert_eq!(stored(&store).await, (Vec::new(), Vec::new()));
    assert!(published(&mut stream).is_empty());

    let (_, id) = write(store.clone(), "h", Then::Commit)
        .await
        .expect("next write");
    assert_eq!(id, 1);
    assert_eq!(stored(&store).await, (vec!["h".into()], vec![1]));
    assert_eq!(published(&mut stream), vec![1]);

    store.close().await;
    db.drop_database().await;
}

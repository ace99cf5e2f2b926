//! Event ids on PostgreSQL become visible in increasing order with no gaps, across
//! several nodes each writing from many tasks at once, while a reader tails the log.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::backends::pg_database;
use shared::events::{CustomerEvent, ServerEvent};
use shared::model::{Customer, EventId};
use sqlx::Connection;
use widget_server::store::postgres::PgStore;
use widget_server::store::{Audience, Published};

const NODES: usize = 3;
const TASKS_PER_NODE: usize = 16;
const WRITES_PER_TASK: usize = 40;

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

/// One write of `events` events; every 16th lingers inside the transaction after its
/// first event, so writes on other nodes have every chance to commit around it.
async fn write(store: &PgStore, label: String, events: usize, linger: bool) -> Vec<EventId> {
    store
        .run(move |tx| {
            Box::pin(async move {
                let mut ids = Vec::with_capacity(events);
                for k in 0..events {
                    let audience = Audience {
                        customer: None,
                        broadcast: true,
                        ..Audience::default()
                    };
                    let payload = format!("{{\"label\":\"{label}\",\"k\":{k}}}");
                    let id = tx
                        .event("customer:updated", &payload, &audience, None)
                        .await?;
                    tx.publish(Published {
                        event: marker(id, &label),
                        audience,
                    });
                    ids.push(id);
                    if linger && k == 0 {
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }
                Ok(ids)
            })
        })
        .await
        .expect("write acked")
}

/// Tails `events` from its own connection; returns the ids in the order it saw them
/// and every place where one was skipped or came back smaller.
async fn tail(url: String, done: Arc<AtomicBool>, expected: i64) -> (Vec<i64>, Vec<String>) {
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("reader");
    let mut seen = Vec::new();
    let mut faults = Vec::new();
    let mut last = 0i64;
    loop {
        let finished = done.load(Ordering::SeqCst);
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM events WHERE id > $1 ORDER BY id LIMIT 500")
                .bind(last)
                .fetch_all(&mut conn)
                .await
                .expect("tail the log");
        for id in &ids {
            if *id != last + 1 {
                faults.push(format!("after {last} the reader saw {id}"));
            }
            last = last.max(*id);
            seen.push(*id);
        }
        if ids.is_empty() {
            if finished && last >= expected {
                break;
            }
            if finished {
                faults.push(format!(
                    "writers done at {expected} events, log ends at {last}"
                ));
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    (seen, faults)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn event_ids_are_visible_in_order_across_concurrent_nodes() {
    let Some(db) = pg_database("event_ids_are_visible_in_order_across_concurrent_nodes").await
    else {
        return;
    };
    let mut nodes = Vec::new();
    let mut streams = Vec::new();
    for _ in 0..NODES {
        let store = Arc::new(PgStore::open(&db.url).await.expect("open a node"));
        streams.push(store.take_events().expect("event stream"));
        nodes.push(store);
    }
    // Writes of 1, 2 and 3 events in turn.
    let per_task: usize = (0..WRITES_PER_TASK).map(|i| 1 + i % 3).sum();
    let expected = (NODES * TASKS_PER_NODE * per_task) as i64;

    let done = Arc::new(AtomicBool::new(false));
    let reader = tokio::spawn(tail(db.url.clone(), done.clone(), expected));

    let started = Instant::now();
    let mut writers = Vec::new();
    for (n, store) in nodes.iter().enumerate() {
        for t in 0..TASKS_PER_NODE {
            let store = store.clone();
            writers.push(tokio::spawn(async move {
                let mut acked = Vec::new();
                for i in 0..WRITES_PER_TASK {
                    let label = format!("n{n}t{t}w{i}");
                    let ids = write(&store, label, 1 + i % 3, i % 16 == 5).await;
                    assert!(
                        ids.windows(2).all(|w| w[1] == w[0] + 1),
                        "one write's events are consecutive: {ids:?}"
                    );
                    acked.extend(ids);
                }
                (n, acked)
            }));
        }
    }
    let mut acked_by_node = vec![Vec::new(); NODES];
    for w in writers {
        let (n, ids) = w.await.expect("writer task");
        acked_by_node[n].extend(ids);
    }
    let elapsed = started.elapsed();
    done.store(true, Ordering::SeqCst);
    let (seen, faults) = reader.await.expect("reader task");
    assert!(faults.is_empty(), "the reader missed events: {faults:?}");
    assert_eq!(seen, (1..=expected).collect::<Vec<_>>());

    let mut all: Vec<EventId> = acked_by_node.iter().flatten().copied().collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (1..=expected).collect::<Vec<_>>(),
        "every id acked once"
    );

    // Each node publishes exactly what it committed, in increasing order.
    for (n, (store, mut stream)) in nodes.iter().zip(streams).enumerate() {
        store.close().await;
        let mut published = Vec::new();
        while let Some(p) = stream.recv().await {
            published.push(p.event.event_id());
        }
        assert!(
            published.windows(2).all(|w| w[0] < w[1]),
            "node {n} published out of order"
        );
        let mut mine = acked_by_node[n].clone();
        mine.sort_unstable();
        assert_eq!(published, mine, "node {n} published what it committed");
    }
    eprintln!(
        "{expected} events from {} writers on {NODES} nodes in {:.2?}: {:.0} events/s, {:.0} writes/s",
        NODES * TASKS_PER_NODE,
        elapsed,
        expected as f64 / elapsed.as_secs_f64(),
        (NODES * TASKS_PER_NODE * WRITES_PER_TASK) as f64 / elapsed.as_secs_f64(),
    );
    db.drop_database().await;
}

//! Two nodes on one PostgreSQL database racing for the same thing end as one node
//! alone would: one gap-free `seq` per chat, one message per `client_msg_id`, one open
//! chat per visitor, one holder per chat, and a taken name or shortcut refused as a
//! conflict, never a storage error.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::sync::Arc;

use common::backends::{SqliteBackend, TempPgDatabase, open_postgres, pg_database, refused};
use common::new_id;
use futures_util::future::join_all;
use shared::ErrorCode::{Conflict, Invalid, NotFound};
use shared::canned::{CannedInput, CannedScope};
use shared::events::ServerEvent;
use shared::model::{AgentStatus, ChatStatus, Department, Role};
use sqlx::Connection;
use widget_server::store::{Actor, AgentChanges, NewAgent, Store, StoreResult};

/// Two stores ("nodes") on one fresh database, each with its own writer.
struct Nodes {
    a: Arc<dyn Store>,
    b: Arc<dyn Store>,
    db: TempPgDatabase,
    _dir: tempfile::TempDir,
}

impl Nodes {
    async fn open(test: &str) -> Option<Nodes> {
        let db = pg_database(test).await?;
        let dir = tempfile::tempdir().expect("temp dir");
        let a = open_postgres(&db.url, &dir.path().join("a")).await;
        let b = open_postgres(&db.url, &dir.path().join("b")).await;
        Some(Nodes {
            a,
            b,
            db,
            _dir: dir,
        })
    }

    /// Node `i % 2`.
    fn node(&self, i: usize) -> &dyn Store {
        if i.is_multiple_of(2) {
            &*self.a
        } else {
            &*self.b
        }
    }

    async fn close(self) {
        self.a.close_store().await;
        self.b.close_store().await;
        self.db.drop_database().await;
    }
}

fn agent(email: &str, role: Role, departments: &[&Department]) -> NewAgent {
    NewAgent {
        email: email.into(),
        name: email.split('@').next().unwrap_or(email).into(),
        role,
        department_ids: departments.iter().map(|d| d.id.clone()).collect(),
        password_hash: "hash".into(),
        max_chats: 8,
    }
}

/// Exactly one of the answers is `Ok`; the others are `Conflict` refusals saying `says`.
#[track_caller]
fn one_wins<T: std::fmt::Debug>(answers: Vec<StoreResult<T>>, says: &str) -> T {
    let mut won = None;
    for a in answers {
        match a {
            Ok(v) => {
                assert!(won.is_none(), "two writers won: {won:?} and {v:?}");
                won = Some(v);
            }
            Err(e) => {
                assert_eq!(e.code, Conflict, "a lost race must be a conflict: {e:?}");
                assert!(e.message.contains(says), "{e:?} should say {says:?}");
            }
        }
    }
    won.expect("one writer wins")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_racing_end_as_one_node_would() {
    let Some(nodes) = Nodes::open("two_nodes_racing_end_as_one_node_would").await else {
        return;
    };

    // The same department, agent e-mail and team shortcut from both nodes at once.
    for round in 0..5 {
        let name = format!("Sales {round}");
        let made = join_all((0..2).map(|i| nodes.node(i).create_department(&name))).await;
        one_wins(made, "already exists");
        let email = format!("dup{round}@example.com");
        let sales = nodes.a.department_by_name(&name).await.unwrap().unwrap();
        let made = join_all((0..2).map(|i| {
            nodes
                .node(i)
                .create_agent(agent(&email, Role::Agent, &[&sales]))
        }))
        .await;
        one_wins(made, "already exists");
    }
    let sales = nodes
        .a
        .department_by_name("sales 0")
        .await
        .unwrap()
        .unwrap();
    let alice = nodes
        .a
        .create_agent(agent("alice@example.com", Role::Agent, &[&sales]))
        .await
        .unwrap();
    let bob = nodes
        .b
        .create_agent(agent("bob@example.com", Role::Agent, &[&sales]))
        .await
        .unwrap();
    let hello = CannedInput {
        title: "Hello".into(),
        shortcut: "hello".into(),
        body: "Hi there".into(),
        category: None,
        scope: None,
    }
    .validate()
    .unwrap();
    let made = join_all((0..2).map(|i| {
        nodes
            .node(i)
            .create_canned(&alice.id, CannedScope::Team, &hello)
    }))
    .await;
    one_wins(made, "shortcut \"hello\"");

    // One visitor starts a chat from both nodes at once: one chat, both messages in it.
    let vera = nodes
        .a
        .resolve_visitor(None, Some("Vera"), None)
        .await
        .unwrap();
    let started = join_all((0..2).map(|i| {
        let (store, vera, dept) = (nodes.node(i), vera.customer.id.clone(), sales.id.clone());
        async move {
            store
                .start_chat(&vera, &dept, &format!("hello {i}"), &new_id(), None, None)
                .await
        }
    }))
    .await;
    let chats: Vec<String> = started.into_iter().map(|r| r.unwrap().0.id).collect();
    assert_eq!(chats[0], chats[1], "one visitor, one open chat");
    let chat = chats[0].clone();

    // Many sends from both nodes into that chat: every seq once, no gap.
    let sends = join_all((0..60).map(|i| {
        let (store, vera, chat) = (nodes.node(i), vera.customer.id.clone(), chat.clone());
        async move {
            store
                .customer_send(&vera, Some(&chat), &new_id(), &format!("ping {i}"), &[])
                .await
        }
    }))
    .await;
    for s in sends {
        s.unwrap();
    }
    let all = nodes.b.messages(&chat, None, 500, true).await.unwrap();
    assert_eq!(
        all.iter().map(|m| m.seq).collect::<Vec<_>>(),
        (1..=62).collect::<Vec<_>>()
    );

    // The same client_msg_id through both nodes: stored once, the same answer twice.
    let retry = new_id();
    let answers = join_all((0..2).map(|i| {
        let (store, vera, chat, retry) = (
            nodes.node(i),
            vera.customer.id.clone(),
            chat.clone(),
            retry.clone(),
        );
        async move {
            store
                .customer_send(&vera, Some(&chat), &retry, "sent twice", &[])
                .await
        }
    }))
    .await;
    let [first, second]: [_; 2] = answers.try_into().unwrap();
    assert_eq!(first.unwrap(), second.unwrap());
    let all = nodes.a.messages(&chat, None, 500, true).await.unwrap();
    assert_eq!(all.iter().filter(|m| m.client_msg_id == retry).count(), 1);
    assert_eq!(all.last().unwrap().seq, 63);

    // Two agents claim the chat at once, one on each node: one holds it.
    let claimants = [Actor::from_agent(&alice), Actor::from_agent(&bob)];
    let claims = join_all(
        claimants
            .iter()
            .enumerate()
            .map(|(i, who)| nodes.node(i).claim(who, &chat)),
    )
    .await;
    let held = one_wins(claims, "chat already claimed by");
    assert_eq!(held.status, ChatStatus::Active);
    let joined = nodes.a.messages(&chat, None, 500, true).await.unwrap();
    assert_eq!(
        joined
            .iter()
            .filter(|m| m.body.ends_with("joined the chat"))
            .count(),
        1
    );

    // The event log stayed gap-free across both nodes' writers.
    let latest = nodes.a.latest_event_id().await.unwrap();
    let mut conn = sqlx::PgConnection::connect(&nodes.db.url).await.unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM events ORDER BY id")
        .fetch_all(&mut conn)
        .await
        .unwrap();
    assert_eq!(ids, (1..=latest).collect::<Vec<_>>());
    conn.close().await.unwrap();
    nodes.close().await;
}

/// A writer that stores a name without the event lock (an import tool, an old node)
/// and commits while a node is inserting the same name: the unique index decides, and
/// the node answers the same conflict as when its own check sees the name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_name_taken_by_another_writer_mid_write_is_a_conflict() {
    let Some(nodes) = Nodes::open("a_name_taken_by_another_writer_mid_write_is_a_conflict").await
    else {
        return;
    };
    let mut other = sqlx::PgConnection::connect(&nodes.db.url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut other).await.unwrap();
    sqlx::query("INSERT INTO departments (id, name, created_at) VALUES ('imported', 'Billing', 0)")
        .execute(&mut other)
        .await
        .unwrap();
    // The node's check cannot see the uncommitted row; its insert waits on the index
    // until the other writer commits.
    let store = nodes.a.clone();
    let racing = tokio::spawn(async move { store.create_department("BILLING").await });
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    refused(
        racing.await.unwrap(),
        Conflict,
        "a department named \"BILLING\" already exists",
    );
    // The node's writer goes on as before.
    nodes.a.create_department("Returns").await.unwrap();
    assert_eq!(nodes.b.departments().await.unwrap().len(), 2);
    other.close().await.unwrap();
    nodes.close().await;
}

/// Changing an agent answers and publishes the same on both backends.
async fn agent_changes(store: &dyn Store) {
    let mut pushed = store.take_events().expect("events");
    let sales = store.create_department("Sales").await.unwrap();
    let support = store.create_department("Support").await.unwrap();
    let dee = store
        .create_agent(agent("dee@example.com", Role::Agent, &[&sales]))
        .await
        .unwrap();
    let changed = store
        .update_agent(
            &dee.id,
            AgentChanges {
                name: Some("Dee Dee".into()),
                department_ids: Some(vec![support.id.clone()]),
                max_chats: Some(3),
                ..AgentChanges::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (changed.name.as_str(), changed.max_chats, changed.role),
        ("Dee Dee", 3, Role::Agent)
    );
    assert_eq!(
        (&changed.department_ids, changed.status),
        (&vec![support.id.clone()], AgentStatus::Offline)
    );
    assert_eq!(store.agent(&dee.id).await.unwrap(), Some(changed.clone()));
    let p = pushed.try_recv().expect("a presence push");
    assert!(matches!(&p.event, ServerEvent::Presence(e) if e.agent == changed));
    assert!(p.audience.broadcast);
    refused(
        store
            .update_agent(
                &dee.id,
                AgentChanges {
                    department_ids: Some(vec![]),
                    ..AgentChanges::default()
                },
            )
            .await,
        Invalid,
        "at least one department",
    );
    refused(
        store
            .update_agent(
                &dee.id,
                AgentChanges {
                    department_ids: Some(vec!["nowhere".into()]),
                    ..AgentChanges::default()
                },
            )
            .await,
        Invalid,
        "no department \"nowhere\"",
    );
    refused(
        store
            .update_agent("no-such-agent", AgentChanges::default())
            .await,
        NotFound,
        "no-such-agent",
    );
    assert_eq!(store.agent(&dee.id).await.unwrap(), Some(changed));
    assert!(
        pushed.try_recv().is_err(),
        "a refused change publishes nothing"
    );
    store.close_store().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agent_changes_on_sqlite_and_postgres() {
    let sqlite = SqliteBackend::open().await;
    agent_changes(&*sqlite.store).await;
    let Some(db) = pg_database("agent_changes_on_postgres").await else {
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    agent_changes(&*open_postgres(&db.url, dir.path()).await).await;
    db.drop_database().await;
}

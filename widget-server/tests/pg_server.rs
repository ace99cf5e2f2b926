//! The real `widget-server` binary on PostgreSQL: the team is made with `widget-server
//! admin` against the database, a visitor starts a chat over Socket.IO, an agent
//! claims and replies, and the agent's `sync` replays it all — also from a second
//! server process on the same database, after the first one stopped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::Write;
use std::panic::AssertUnwindSafe;
use std::path::Path;
use std::process::{Command, Stdio};

use common::backends::pg_database;
use common::{PASSWORD, ServerProcess, Sock, Visitor, agent_say, free_port, has_body};
use futures_util::FutureExt;
use serde_json::{Value, json};

/// Runs `widget-server admin …` against the database; panics with its stderr if it fails.
fn admin(data_dir: &Path, database_url: &str, args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_widget-server"))
        .arg("admin")
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--database-url")
        .arg(database_url)
        .arg("--log-level")
        .arg("warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn widget-server admin");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("write stdin");
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().expect("wait for admin");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "widget-server admin {args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// The `(event, data)` pairs of a `sync` ack, checking ids increase.
fn replayed(ack: &Value) -> Vec<(String, Value)> {
    let events: Vec<(String, Value)> = ack["events"]
        .as_array()
        .unwrap_or_else(|| panic!("not a list of events: {ack}"))
        .iter()
        .map(|e| (e["event"].as_str().unwrap().to_owned(), e["data"].clone()))
        .collect();
    let ids: Vec<i64> = events
        .iter()
        .map(|(_, d)| d["event_id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "ids out of order: {ids:?}"
    );
    events
}

/// What an agent replays of one chat: its events' names, and its messages' bodies.
fn story_of(events: &[(String, Value)], chat_id: &str) -> (Vec<String>, Vec<String>) {
    let about: Vec<&(String, Value)> = events
        .iter()
        .filter(|(_, d)| common::about_chat(chat_id)(d))
        .collect();
    let names = about.iter().map(|(n, _)| n.clone()).collect();
    let bodies = about
        .iter()
        .filter(|(n, _)| n == "message:new")
        .map(|(_, d)| d["message"]["body"].as_str().unwrap().to_owned())
        .collect();
    (names, bodies)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_on_postgres_serves_a_chat_and_replays_it() {
    let Some(db) = pg_database("the_server_on_postgres_serves_a_chat_and_replays_it").await else {
        return;
    };
    let outcome = AssertUnwindSafe(serve_and_replay(&db.url))
        .catch_unwind()
        .await;
    // Dropped even when the test failed, so a red run leaves no database behind.
    db.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn serve_and_replay(database_url: &str) {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let log = dir.path().join("server.log");

    let made = admin(
        &data,
        database_url,
        &["create-department", "--name", "Sales"],
        None,
    );
    assert!(made.contains("Sales"), "{made}");
    admin(
        &data,
        database_url,
        &[
            "create-agent",
            "--email",
            "alice@example.com",
            "--name",
            "Alice Agent",
            "--department",
            "sales",
            "--password-stdin",
        ],
        Some(&format!("{PASSWORD}\n")),
    );
    let listed = admin(&data, database_url, &["list-agents"], None);
    assert!(listed.contains("alice@example.com"), "{listed}");

    let mut server =
        ServerProcess::spawn_with(&data, free_port(), &log, &["--database-url", database_url])
            .await;
    let token = server.rest.login("alice@example.com").await;
    let alice = Sock::agent(&server.base, &token).await;

    let mut vera = Visitor::connect(&server.base, json!({"name": "Vera"})).await;
    vera.start("Hello, my order is late", None).await;
    let chat_id = vera.chat_id().to_owned();
    alice
        .expect_where("chat:created", |v| v["chat"]["id"] == chat_id)
        .await;
    vera.say("It was due on Monday").await;
    alice
        .expect_where("message:new", has_body("It was due on Monday"))
        .await;

    let claimed = alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
    assert_eq!(claimed["status"], "active", "{claimed}");
    let reply = agent_say(&alice, &chat_id, "Sorry, let me check", "text").await;
    assert_eq!(reply["seq"], 4, "hello, due, joined, reply: {reply}");
    let heard = vera
        .sock
        .expect_where("message:new", has_body("Sorry, let me check"))
        .await;
    assert_eq!(heard["message"]["author"]["kind"], "agent");

    // What the agent replays is what happened, in order.
    let expected_names = [
        "chat:created",
        "message:new",
        "message:new",
        "message:new",
        "chat:updated",
        "message:new",
    ];
    let expected_bodies = [
        "Hello, my order is late",
        "It was due on Monday",
        "Alice Agent joined the chat",
        "Sorry, let me check",
    ];
    let ack = alice.ok("sync", json!({"since_event_id": 0})).await;
    let events = replayed(&ack);
    assert_eq!(
        ack["latest_event_id"],
        events.last().unwrap().1["event_id"],
        "{ack}"
    );
    let (names, bodies) = story_of(&events, &chat_id);
    assert_eq!(names, expected_names);
    assert_eq!(bodies, expected_bodies);
    // The pushes carried the same ids the replay does.
    assert_eq!(
        alice.last_event_id(),
        ack["latest_event_id"].as_i64().unwrap()
    );

    // Another process on the same database replays the same log.
    let status = server.terminate().await;
    assert!(status.success(), "the server exits cleanly: {status:?}");
    let second =
        ServerProcess::spawn_with(&data, free_port(), &log, &["--database-url", database_url])
            .await;
    let token = second.rest.login("alice@example.com").await;
    let again = Sock::agent(&second.base, &token).await;
    // (Signing in again may add presence events after the first server's log.)
    let ack2 = again.ok("sync", json!({"since_event_id": 0})).await;
    assert_eq!(replayed(&ack2)[..events.len()], events[..]);
    let tail = again
        .ok("sync", json!({"since_event_id": events[2].1["event_id"]}))
        .await;
    assert_eq!(replayed(&tail)[..events.len() - 3], events[3..]);
    let history = second.rest.messages(&token, &chat_id).await;
    let seqs: Vec<i64> = history.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, [1, 2, 3, 4]);

    again.disconnect().await;
    alice.disconnect().await;
    vera.sock.disconnect().await;
    drop(second);
}

//! A visitor never learns of an internal note, not even by a number: the visitor's
//! messages are numbered in their own `seq` (no gaps where notes sit), their read
//! receipts and chat counters use it, and an agent reading a note tells them nothing.
//! Agents keep the chat's own numbering. Runs on SQLite and, with `TEST_DATABASE_URL`,
//! on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::panic::AssertUnwindSafe;

use common::backends::pg_database;
use common::{Sock, TestServer, Visitor, agent_say, has_body};
use futures_util::FutureExt;
use serde_json::{Value, json};

const NOTE: &str = "internal: reseller, no discount";
const SECOND_NOTE: &str = "internal: check the warehouse first";
const REPLY: &str = "It ships today";

fn seq(v: &Value) -> i64 {
    v["seq"].as_i64().unwrap_or_else(|| panic!("no seq in {v}"))
}

/// The seqs of a list of messages, asserting they are exactly 1..=n.
fn contiguous(items: &[Value], what: &str) -> i64 {
    let seqs: Vec<i64> = items.iter().map(seq).collect();
    let want: Vec<i64> = (1..=seqs.len() as i64).collect();
    assert_eq!(seqs, want, "{what}: the visitor's numbering has gaps");
    seqs.len() as i64
}

/// A chat with a visitor message, a note, an agent reply and a visitor reply.
struct Story {
    alice: Sock,
    visitor: Visitor,
    chat_id: String,
    agent_token: String,
}

async fn story(srv: &TestServer) -> Story {
    let (agent_token, alice) = srv.agent_as("alice@example.com").await;
    let mut visitor = srv.visitor().await;
    let started = visitor.start("Where is my parcel?", None).await;
    assert_eq!(started["message"]["seq"], 1);
    assert_eq!(started["chat"]["last_seq"], 1);
    let chat_id = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
    let note = agent_say(&alice, &chat_id, NOTE, "note").await;
    let reply = agent_say(&alice, &chat_id, REPLY, "text").await;
    // Agents keep the chat's numbering, notes included.
    assert_eq!(seq(&reply), seq(&note) + 1);
    Story {
        alice,
        visitor,
        chat_id,
        agent_token,
    }
}

async fn numbering_hides_notes(srv: &TestServer) {
    let Story {
        alice,
        visitor,
        chat_id,
        agent_token,
    } = story(srv).await;
    let pushed = visitor
        .sock
        .expect_where("message:new", has_body(REPLY))
        .await;
    let mine = visitor.say("Thanks!").await;
    // The visitor's own numbering: the reply follows what they saw, with no gap.
    assert_eq!(seq(&mine), seq(&pushed["message"]) + 1);

    // The history, the transcript and the replay all number the same way.
    let history = srv
        .rest
        .visitor_get(
            &visitor.token,
            &format!("/visitor/messages?chat_id={chat_id}"),
        )
        .await;
    assert_eq!(history.status, 200, "{}", history.body);
    let items = history.body["items"].as_array().unwrap().clone();
    let n = contiguous(&items, "GET /visitor/messages");
    assert_eq!(seq(items.last().unwrap()), seq(&mine));
    // Paging is by the visitor's numbers too.
    let older = srv
        .rest
        .visitor_get(
            &visitor.token,
            &format!("/visitor/messages?chat_id={chat_id}&before_seq={n}&limit=2"),
        )
        .await;
    let older: Vec<i64> = older.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(seq)
        .collect();
    assert_eq!(older, vec![n - 2, n - 1]);

    let transcript = srv
        .rest
        .visitor_get(
            &visitor.token,
            &format!("/visitor/transcript?chat_id={chat_id}&format=json"),
        )
        .await;
    assert_eq!(transcript.status, 200, "{}", transcript.body);
    let streamed = transcript.body["messages"].as_array().unwrap().clone();
    assert_eq!(contiguous(&streamed, "the visitor's transcript"), n);
    assert_eq!(transcript.body["chat"]["last_seq"], n);
    let text = srv
        .rest
        .visitor_get(
            &visitor.token,
            &format!("/visitor/transcript?chat_id={chat_id}"),
        )
        .await;
    let text = text.body.as_str().unwrap().to_owned();
    assert!(!text.contains(NOTE), "{text}");
    assert!(text.contains(&format!("#{n} ")), "{text}");
    assert!(!text.contains(&format!("#{} ", n + 1)), "{text}");

    let replay = visitor.sock.ok("sync", json!({"since_event_id": 0})).await;
    let events = replay["events"].as_array().unwrap();
    let replayed: Vec<Value> = events
        .iter()
        .filter(|e| e["event"] == "message:new")
        .map(|e| e["data"]["message"].clone())
        .collect();
    assert_eq!(contiguous(&replayed, "the visitor's sync"), n);
    for e in events.iter().filter(|e| e["event"] == "chat:updated") {
        let chat = &e["data"]["chat"];
        assert!(chat["last_seq"].as_i64().unwrap() <= n, "{chat}");
    }

    // Agents see the chat's own numbers: one more than the visitor, for the note.
    let theirs = srv.rest.messages(&agent_token, &chat_id).await;
    assert_eq!(theirs.len() as i64, n + 1);
    assert_eq!(contiguous(&theirs, "the agents' history"), n + 1);
    let chat = srv.rest.chat(&agent_token, &chat_id).await;
    assert_eq!(chat["last_seq"], n + 1);
    drop(alice);
}

async fn read_receipt_on_a_note(srv: &TestServer) {
    let Story {
        alice,
        visitor,
        chat_id,
        agent_token,
    } = story(srv).await;
    let reply = visitor
        .sock
        .expect_where("message:new", has_body(REPLY))
        .await;
    let visible = seq(&reply["message"]);
    // The agent reads the reply: the visitor hears of it by their number of it.
    let agents: Vec<Value> = srv.rest.messages(&agent_token, &chat_id).await;
    let real_reply = agents.iter().find(|m| m["body"] == REPLY).map(seq).unwrap();
    alice
        .ok(
            "message:read",
            json!({"chat_id": chat_id, "seq": real_reply}),
        )
        .await;
    let receipt = visitor
        .sock
        .expect_where("message:read", |v| v["chat_id"] == chat_id.as_str())
        .await;
    assert_eq!(receipt["seq"], visible);

    // A note after it, read by the agent: nothing the visitor could notice.
    let note = agent_say(&alice, &chat_id, SECOND_NOTE, "note").await;
    alice
        .ok(
            "message:read",
            json!({"chat_id": chat_id, "seq": seq(&note)}),
        )
        .await;
    visitor.sock.expect_none("message:read", |_| true).await;
    let replay = visitor.sock.ok("sync", json!({"since_event_id": 0})).await;
    let reads: Vec<i64> = replay["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "message:read")
        .map(|e| seq(&e["data"]))
        .collect();
    assert_eq!(reads, vec![visible], "the replay tells of the note's read");
    let updates = replay["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["event"] == "chat:updated")
        .map(|e| e["data"]["chat"].clone());
    for chat in updates {
        assert!(
            chat["agent_read_seq"].as_i64().unwrap() <= visible,
            "{chat}"
        );
        assert!(chat["last_seq"].as_i64().unwrap() <= visible, "{chat}");
    }

    // The visitor reads in their numbering; agents hear of it in the chat's.
    let mine = visitor.say("Great").await;
    alice.expect_where("message:new", has_body("Great")).await;
    let real_mine = seq(&note) + 1;
    alice
        .ok(
            "message:read",
            json!({"chat_id": chat_id, "seq": real_mine}),
        )
        .await;
    // Past the note to the visitor's next message: their number moved, so they hear.
    let receipt = visitor
        .sock
        .expect_where("message:read", |v| v["chat_id"] == chat_id.as_str())
        .await;
    assert_eq!(receipt["seq"], seq(&mine));
    visitor
        .sock
        .ok("message:read", json!({"chat_id": chat_id, "seq": visible}))
        .await;
    let heard = alice
        .expect_where("message:read", |v| v["reader"]["kind"] == "customer")
        .await;
    assert_eq!(heard["seq"], real_reply);
    let chat = srv.rest.chat(&agent_token, &chat_id).await;
    assert_eq!(chat["customer_read_seq"], real_reply);
    // A number past the visitor's last is outside their chat.
    let refused = visitor
        .sock
        .err(
            "message:read",
            json!({"chat_id": chat_id, "seq": seq(&mine) + 1}),
        )
        .await;
    assert_eq!(refused, "invalid");
}

/// Runs `body` on a server backed by a fresh PostgreSQL database, if there is one.
async fn on_postgres<F>(test: &str, body: impl FnOnce(TestServer) -> F)
where
    F: std::future::Future<Output = ()>,
{
    let Some(db) = pg_database(test).await else {
        return;
    };
    let url = db.url.clone();
    let srv = TestServer::start_with(|c| c.database_url = Some(url)).await;
    let outcome = AssertUnwindSafe(body(srv)).catch_unwind().await;
    db.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitor_numbering_hides_notes() {
    let srv = TestServer::start().await;
    numbering_hides_notes(&srv).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visitor_numbering_hides_notes_on_postgres() {
    on_postgres(
        "visitor_numbering_hides_notes_on_postgres",
        |srv| async move {
            numbering_hides_notes(&srv).await;
            srv.stop().await;
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_receipt_on_a_note_is_not_pushed_to_the_visitor() {
    let srv = TestServer::start().await;
    read_receipt_on_a_note(&srv).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_receipt_on_a_note_is_not_pushed_to_the_visitor_on_postgres() {
    on_postgres(
        "read_receipt_on_a_note_is_not_pushed_to_the_visitor_on_postgres",
        |srv| async move {
            read_receipt_on_a_note(&srv).await;
            srv.stop().await;
        },
    )
    .await;
}

//! Internal notes reach agents and never the visitor: not by push, not by `sync`, not
//! by the visitor's REST routes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, Visitor, about_chat, agent_say, has_body};
use serde_json::{Value, json};

const SECRET: &str = "internal: customer looks like a reseller, offer no discount";
const HANDOFF: &str = "handoff says refund already approved";
const PUBLIC: &str = "Thanks for waiting, here is your answer";

/// Does any value anywhere inside `v` contain `needle`?
fn mentions(v: &Value, needle: &str) -> bool {
    v.to_string().contains(needle)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn internal_notes_never_reach_the_visitor() {
    let server = TestServer::start().await;
    let team = server.team.clone();
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    let (_, bob) = server.agent_as("bob@example.com").await;
    let visitor = server
        .visitor_with_chat("Do you offer discounts?", None)
        .await;
    let chat_id = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;

    // A note, then a public reply, then a transfer with a hand-off note.
    let note = agent_say(&alice, &chat_id, SECRET, "note").await;
    assert_eq!(note["kind"], "note");
    agent_say(&alice, &chat_id, PUBLIC, "text").await;
    alice
        .ok(
            "chat:transfer",
            json!({"chat_id": chat_id, "to_agent_id": team.bob.id, "note": HANDOFF}),
        )
        .await;

    // Agents see the notes pushed.
    let pushed = bob.expect_where("message:new", has_body(SECRET)).await;
    assert_eq!(pushed["message"]["kind"], "note");
    assert_eq!(pushed["message"]["id"], note["id"]);
    bob.expect_where("message:new", |v| {
        v["message"]["kind"] == "note" && mentions(v, HANDOFF)
    })
    .await;

    // The visitor gets the public reply and the transfer (after both notes)…
    visitor
        .sock
        .expect_where("message:new", has_body(PUBLIC))
        .await;
    visitor
        .sock
        .expect_where("chat:updated", |v| {
            v["chat"]["assignee_name"] == "Bob Agent"
        })
        .await;
    // …and, after a pause for anything late, nothing that carries a note.
    visitor
        .sock
        .expect_none("message:new", |v| v["message"]["kind"] == "note")
        .await;
    let log = visitor.sock.log();
    assert!(
        log.iter()
            .any(|(n, v)| n == "message:new" && has_body(PUBLIC)(v))
    );
    for (name, payload) in &log {
        assert!(
            !mentions(payload, SECRET)
                && !mentions(payload, HANDOFF)
                && !mentions(payload, note["id"].as_str().unwrap()),
            "a note leaked to the visitor in {name}: {payload}"
        );
        assert_ne!(payload["message"]["kind"], "note", "{name}: {payload}");
        assert_ne!(
            payload["chat"]["last_message"]["kind"], "note",
            "{name}: {payload}"
        );
    }

    // Not by sync, on the open socket or after a reload.
    let sync = visitor.sock.ok("sync", json!({"since_event_id": 0})).await;
    let events = sync["events"].as_array().expect("events, not resync");
    assert!(
        events
            .iter()
            .any(|e| e["event"] == "message:new" && has_body(PUBLIC)(&e["data"]))
    );
    assert!(
        !mentions(&sync, SECRET) && !mentions(&sync, HANDOFF),
        "sync leaked a note: {sync}"
    );
    assert!(
        events
            .iter()
            .all(|e| e["data"]["message"]["kind"] != "note")
    );
    let reloaded = Visitor::reconnect(&server.base, &visitor.token).await;
    assert_eq!(reloaded.chat_id.as_deref(), Some(chat_id.as_str()));
    let sync = reloaded.sock.ok("sync", json!({"since_event_id": 0})).await;
    assert!(
        !mentions(&sync, SECRET) && !mentions(&sync, HANDOFF),
        "sync leaked a note: {sync}"
    );

    // Not by the visitor's REST routes.
    let msgs = server
        .rest
        .visitor_get(&visitor.token, "/visitor/messages")
        .await;
    assert_eq!(msgs.status, 200, "{}", msgs.body);
    let items = msgs.body["items"].as_array().unwrap();
    assert!(items.iter().any(|m| m["body"] == PUBLIC));
    assert!(items.iter().all(|m| m["kind"] != "note"), "{}", msgs.body);
    assert!(!mentions(&msgs.body, SECRET) && !mentions(&msgs.body, HANDOFF));
    let by_id = server
        .rest
        .visitor_get(
            &visitor.token,
            &format!("/visitor/messages?chat_id={chat_id}"),
        )
        .await;
    assert_eq!(by_id.status, 200);
    assert!(!mentions(&by_id.body, SECRET) && !mentions(&by_id.body, HANDOFF));
    for format in ["text", "json"] {
        let t = server
            .rest
            .visitor_get(
                &visitor.token,
                &format!("/visitor/transcript?format={format}"),
            )
            .await;
        assert_eq!(t.status, 200, "{}", t.body);
        assert!(
            mentions(&t.body, PUBLIC),
            "transcript without the reply: {}",
            t.body
        );
        assert!(
            !mentions(&t.body, SECRET) && !mentions(&t.body, HANDOFF),
            "the {format} transcript leaked a note: {}",
            t.body
        );
    }

    // Agents do see them: push (above), sync and REST.
    let agent_sync = alice.ok("sync", json!({"since_event_id": 0})).await;
    assert!(mentions(&agent_sync, SECRET) && mentions(&agent_sync, HANDOFF));
    let stored = server.rest.messages(&alice_token, &chat_id).await;
    let notes: Vec<&Value> = stored.iter().filter(|m| m["kind"] == "note").collect();
    assert_eq!(notes.len(), 2, "{stored:?}");
    assert_eq!(notes[0]["body"], SECRET);
    let transcript = server
        .rest
        .get(
            Some(&alice_token),
            &format!("/chats/{chat_id}/transcript?format=text"),
        )
        .await;
    assert!(mentions(&transcript.body, SECRET));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_note_as_the_last_message_stays_out_of_the_visitors_chat() {
    let server = TestServer::start().await;
    let (_, alice) = server.agent_as("alice@example.com").await;
    let visitor = server.visitor_with_chat("Hello", None).await;
    let chat_id = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
    agent_say(&alice, &chat_id, PUBLIC, "text").await;
    agent_say(&alice, &chat_id, SECRET, "note").await;
    // Pushes come in event order: once the reply is in, everything before it is.
    visitor
        .sock
        .expect_where("message:new", has_body(PUBLIC))
        .await;
    visitor.sock.drain().await;
    // Internal tags are agent-only too.
    alice
        .ok("chat:tag", json!({"chat_id": chat_id, "add": ["reseller"]}))
        .await;
    alice
        .expect_where("chat:updated", about_chat(&chat_id))
        .await;
    visitor.sock.expect_none("chat:updated", |_| true).await;

    // The chat object the visitor can fetch must not carry the note as last_message.
    let t = server
        .rest
        .visitor_get(&visitor.token, "/visitor/transcript?format=json")
        .await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert!(
        !mentions(&t.body, SECRET),
        "transcript leaked the note: {}",
        t.body
    );
    assert!(
        !mentions(&t.body, "reseller"),
        "transcript leaked a tag: {}",
        t.body
    );
    for (name, payload) in visitor.sock.log() {
        assert!(
            !mentions(&payload, SECRET) && !mentions(&payload, "reseller"),
            "{name}: {payload}"
        );
    }
}

//! Delivery guarantees: idempotent resend by `client_msg_id`, gap-free `seq` under
//! concurrent senders, and `sync` replaying exactly what an offline client missed.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;

use common::{Sock, TestServer, Visitor, about_chat, agent_say, has_body, new_id};
use serde_json::{Value, json};

fn seqs(msgs: &[Value]) -> Vec<i64> {
    msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resending_the_same_client_msg_id_stores_one_message() {
    let server = TestServer::start().await;
    let (alice_token, alice) = server.agent_as("alice@example.com").await;

    // A retried chat:start is idempotent too.
    let visitor = server.visitor().await;
    let start_id = new_id();
    let req = json!({"body": "Is anyone there?", "client_msg_id": start_id});
    let s1 = visitor.sock.ok("chat:start", req.clone()).await;
    let s2 = visitor.sock.ok("chat:start", req).await;
    assert_eq!(s1["chat"]["id"], s2["chat"]["id"]);
    assert_eq!(s1["message"]["id"], s2["message"]["id"]);
    let chat_id = s1["chat"]["id"].as_str().unwrap().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;

    // The visitor resends: same message, same seq, one stored row, one push.
    let cid = new_id();
    let send = json!({"client_msg_id": cid, "body": "my parcel is late"});
    let a1 = visitor.sock.ok("message:send", send.clone()).await;
    let a2 = visitor.sock.ok("message:send", send.clone()).await;
    assert_eq!(a1["id"], a2["id"]);
    assert_eq!(a1["seq"], a2["seq"]);
    // Even with another body and after a reconnect, the retry is the same message.
    let again = Visitor::reconnect(&server.base, &visitor.token).await;
    let a3 = again
        .sock
        .ok(
            "message:send",
            json!({"client_msg_id": cid, "body": "my parcel is late!!"}),
        )
        .await;
    assert_eq!(a3["id"], a1["id"]);
    assert_eq!(a3["body"], "my parcel is late");
    alice
        .expect_where("message:new", has_body("my parcel is late"))
        .await;
    alice
        .expect_none("message:new", |v| {
            v["message"]["client_msg_id"] == json!(cid)
        })
        .await;

    // Two tabs retrying the same message at the same moment: still one message.
    let tab2 = Visitor::reconnect(&server.base, &visitor.token).await;
    let race = json!({"client_msg_id": new_id(), "body": "sent from two tabs"});
    let (r1, r2) = tokio::join!(
        visitor.sock.ok("message:send", race.clone()),
        tab2.sock.ok("message:send", race.clone()),
    );
    assert_eq!(r1["id"], r2["id"]);
    assert_eq!(r1["seq"], r2["seq"]);

    // The agent resends too.
    let acid = new_id();
    let send = json!({"chat_id": chat_id, "client_msg_id": acid, "body": "looking into it"});
    let b1 = alice.ok("message:send", send.clone()).await;
    let b2 = alice.ok("message:send", send).await;
    assert_eq!(b1["id"], b2["id"]);
    assert_eq!(b1["seq"], b2["seq"]);

    let msgs = server.rest.messages(&alice_token, &chat_id).await;
    let race_id = race["client_msg_id"].as_str().unwrap().to_owned();
    for id in [&start_id, &cid, &acid, &race_id] {
        let n = msgs
            .iter()
            .filter(|m| m["client_msg_id"] == json!(id))
            .count();
        assert_eq!(n, 1, "client_msg_id {id} stored {n} times: {msgs:?}");
    }
    assert_eq!(seqs(&msgs), (1..=msgs.len() as i64).collect::<Vec<_>>());
    let chat = server.rest.chat(&alice_token, &chat_id).await;
    assert_eq!(chat["last_seq"], json!(msgs.len()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seq_has_no_gaps_under_concurrent_senders() {
    const PER_SENDER: usize = 15;
    let server = TestServer::start().await;
    let alice_token = server.login("alice@example.com").await;
    let sam_token = server.login("sam@example.com").await;
    let (_, observer) = server.agent_as("bob@example.com").await;
    let first = server.visitor_with_chat("Starting a busy chat", None).await;
    let chat_id = first.chat_id().to_owned();

    // Three tabs of the same visitor, Alice on two devices, and her supervisor.
    let alice1 = Arc::new(server.agent(&alice_token).await);
    alice1.ok("chat:claim", json!({"chat_id": chat_id})).await;
    let mut senders: Vec<(Arc<Sock>, bool)> = vec![(Arc::new(first.sock), true)];
    for _ in 0..2 {
        let tab = Visitor::reconnect(&server.base, &first.token).await;
        assert_eq!(tab.chat_id.as_deref(), Some(chat_id.as_str()));
        senders.push((Arc::new(tab.sock), true));
    }
    senders.push((alice1, false));
    senders.push((Arc::new(server.agent(&alice_token).await), false));
    senders.push((Arc::new(server.agent(&sam_token).await), false));

    let mut tasks = Vec::new();
    for (i, (sock, is_visitor)) in senders.iter().cloned().enumerate() {
        let chat_id = chat_id.clone();
        tasks.push(tokio::spawn(async move {
            let mut acked = Vec::new();
            for n in 0..PER_SENDER {
                let mut req = json!({"chat_id": chat_id, "client_msg_id": new_id(), "body": format!("sender {i} message {n}")});
                if !is_visitor {
                    req["kind"] = json!("text");
                }
                acked.push(sock.ok("message:send", req).await);
            }
            acked
        }));
    }
    let mut acked: Vec<Value> = Vec::new();
    for t in tasks {
        acked.extend(t.await.expect("sender task"));
    }

    // Acked seqs are distinct; the store holds exactly 1..=N.
    let ack_seqs: HashSet<i64> = acked.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(ack_seqs.len(), acked.len());
    let msgs = server.rest.messages(&sam_token, &chat_id).await;
    // The start message, the "joined" event and every acked message.
    assert_eq!(msgs.len(), 2 + senders.len() * PER_SENDER);
    assert_eq!(seqs(&msgs), (1..=msgs.len() as i64).collect::<Vec<_>>());
    for m in &acked {
        let stored: Vec<&Value> = msgs.iter().filter(|s| s["id"] == m["id"]).collect();
        assert_eq!(stored.len(), 1, "{m}");
        assert_eq!(stored[0]["seq"], m["seq"]);
        assert_eq!(stored[0]["body"], m["body"]);
    }

    // An observer got every message pushed once, in seq order, event ids increasing.
    let mut pushed = Vec::new();
    while pushed.len() < msgs.len() {
        pushed.push(
            observer
                .expect_where("message:new", about_chat(&chat_id))
                .await,
        );
    }
    let pushed_seqs: Vec<i64> = pushed
        .iter()
        .map(|e| e["message"]["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(pushed_seqs, seqs(&msgs));
    let ids: Vec<i64> = pushed
        .iter()
        .map(|e| e["event_id"].as_i64().unwrap())
        .collect();
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "event ids out of order: {ids:?}"
    );
    observer
        .expect_none("message:new", about_chat(&chat_id))
        .await;
}

fn event_ids(events: &[Value]) -> Vec<i64> {
    events
        .iter()
        .map(|e| e["data"]["event_id"].as_i64().unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_returns_exactly_what_an_offline_visitor_missed() {
    let server = TestServer::start().await;
    let (_, alice) = server.agent_as("alice@example.com").await;
    let visitor = server.visitor_with_chat("Hi there", None).await;
    let chat_id = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
    agent_say(&alice, &chat_id, "Hello, how can I help?", "text").await;
    visitor
        .sock
        .expect_where("message:new", has_body("Hello, how can I help?"))
        .await;
    let seen = visitor.sock.last_event_id();
    assert!(seen > 0);
    let token = visitor.token.clone();
    visitor.sock.disconnect().await;
    drop(visitor);

    // While the visitor is away: three replies and a note.
    let mut sent = Vec::new();
    for body in [
        "Are you still there?",
        "I found your order",
        "It ships today",
    ] {
        sent.push(agent_say(&alice, &chat_id, body, "text").await);
    }
    agent_say(&alice, &chat_id, "customer went quiet", "note").await;

    let back = Visitor::reconnect(&server.base, &token).await;
    assert_eq!(back.chat_id.as_deref(), Some(chat_id.as_str()));
    let sync = back.sock.ok("sync", json!({"since_event_id": seen})).await;
    let events = sync["events"]
        .as_array()
        .expect("events, not resync")
        .clone();
    assert_eq!(
        events.len(),
        3,
        "expected exactly the three replies: {sync}"
    );
    for (e, m) in events.iter().zip(&sent) {
        assert_eq!(e["event"], "message:new");
        assert_eq!(e["data"]["message"]["id"], m["id"]);
    }
    let ids = event_ids(&events);
    assert!(
        ids[0] > seen && ids.windows(2).all(|w| w[0] < w[1]),
        "{ids:?}"
    );
    assert!(sync["latest_event_id"].as_i64().unwrap() >= ids[2]);

    // Nothing new since the newest: an empty answer.
    let latest = sync["latest_event_id"].as_i64().unwrap();
    let again = back
        .sock
        .ok("sync", json!({"since_event_id": latest}))
        .await;
    assert_eq!(again["events"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_returns_what_an_offline_agent_missed_in_its_departments() {
    let server = TestServer::start().await;
    let (bob_token, bob) = server.agent_as("bob@example.com").await;
    let (_, alice) = server.agent_as("alice@example.com").await;
    let visitor = server.visitor_with_chat("Hello Sales", None).await;
    let chat_id = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
    bob.expect_where("chat:updated", about_chat(&chat_id)).await;
    let seen = bob.last_event_id();
    bob.disconnect().await;
    drop(bob);

    // While Bob is away: two messages in Sales, a chat in Support.
    let m1 = visitor.say("first while away").await;
    let m2 = agent_say(&alice, &chat_id, "second while away", "text").await;
    let other = server
        .visitor_with_chat("Hello Support", Some(&server.team.support.id))
        .await;

    let bob = server.agent(&bob_token).await;
    let sync = bob.ok("sync", json!({"since_event_id": seen})).await;
    let events = sync["events"]
        .as_array()
        .expect("events, not resync")
        .clone();
    let ids = event_ids(&events);
    assert!(ids.iter().all(|&i| i > seen), "{ids:?}");
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    let new_messages: Vec<&Value> = events
        .iter()
        .filter(|e| e["event"] == "message:new")
        .collect();
    assert_eq!(new_messages.len(), 2, "{sync}");
    assert_eq!(new_messages[0]["data"]["message"]["id"], m1["id"]);
    assert_eq!(new_messages[1]["data"]["message"]["id"], m2["id"]);
    let other_chat = other.chat_id();
    assert!(
        !sync.to_string().contains(other_chat),
        "Bob's sync includes a Support chat: {sync}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_event_right_after_connect_is_answered() {
    // A client may emit as soon as the namespace connect is confirmed (the JS client
    // flushes its buffer at that moment); the event must not be lost.
    let server = TestServer::start().await;
    for email in [
        "alice@example.com",
        "bob@example.com",
        "sam@example.com",
        "ada@example.com",
    ] {
        let token = server.login(email).await;
        let sock = server.agent(&token).await;
        let ack = sock
            .try_ack(
                "sync",
                rust_socketio::Payload::Text(vec![json!({"since_event_id": 0})]),
                std::time::Duration::from_secs(3),
            )
            .await;
        assert!(
            ack.is_some(),
            "{email}: the first event after connect got no ack"
        );
    }
    // A visitor that does not wait for `session` either.
    for _ in 0..4 {
        let sock = Sock::connect(&server.base, "/customer", json!({}))
            .await
            .unwrap();
        let ack = sock
            .try_ack(
                "ping:rtt",
                rust_socketio::Payload::Text(vec![json!({})]),
                std::time::Duration::from_secs(3),
            )
            .await;
        assert!(ack.is_some(), "a visitor's first event got no ack");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_asks_for_a_reload_when_too_much_was_missed() {
    // More than the 1000 events one sync may replay, from many visitors at once (so
    // that group commit keeps it quick).
    const SENDERS: usize = 20;
    const PER_SENDER: usize = 50;
    let server = TestServer::start().await;
    let sam_token = server.login("sam@example.com").await;
    let mut tasks = Vec::new();
    for i in 0..SENDERS {
        let visitor = server
            .visitor_with_chat(&format!("visitor {i}"), None)
            .await;
        tasks.push(tokio::spawn(async move {
            for n in 0..PER_SENDER {
                visitor.say(&format!("message {n}")).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("sender");
    }
    let sam = server.agent(&sam_token).await;
    let sync = sam.ok("sync", json!({"since_event_id": 0})).await;
    assert_eq!(sync["resync"], true, "{:.300}", sync.to_string());
    let latest = sync["latest_event_id"].as_i64().unwrap();
    assert!(latest > 1000);
    // A client that reloads and resumes from the newest id is back in step: a
    // supervisor sees every event, so exactly the ids after the one it names.
    let since = latest - 5;
    let recent = sam.ok("sync", json!({"since_event_id": since})).await;
    let ids: Vec<i64> = recent["events"]
        .as_array()
        .expect("events, not resync")
        .iter()
        .map(|e| e["data"]["event_id"].as_i64().unwrap())
        .collect();
    let newest = recent["latest_event_id"].as_i64().unwrap();
    assert_eq!(ids, (since + 1..=newest).collect::<Vec<_>>());
}

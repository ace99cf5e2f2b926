//! Who may act on a chat and what each side learns of it, driven over Socket.IO and
//! REST against a real server: a claimed chat stays its assignee's, a reused
//! `client_msg_id` answers only its own author, visitors learn nothing of notes, and
//! agents nothing beyond their departments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, Visitor, about_chat, agent_say, new_id};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_colleague_cannot_take_over_a_claimed_chat() {
    let server = TestServer::start().await;
    let team = server.team.clone();
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    let (_, bob) = server.agent_as("bob@example.com").await;
    let (_, sam) = server.agent_as("sam@example.com").await;
    let visitor = server.visitor_with_chat("My parcel is late", None).await;
    let chat_id = visitor.chat_id().to_owned();
    bob.ok("chat:claim", json!({"chat_id": chat_id})).await;
    let before = server.rest.messages(&alice_token, &chat_id).await;

    // Alice, of the same department, cannot take Bob's chat, pass it on or close it.
    let only = "only the assignee (Bob Agent), a supervisor or an admin may";
    for target in [
        json!({"to_agent_id": team.alice.id}),
        json!({"to_agent_id": team.sam.id}),
        json!({"to_department_id": team.support.id}),
    ] {
        let mut req = json!({"chat_id": chat_id, "note": "mine now"});
        req.as_object_mut()
            .unwrap()
            .extend(target.as_object().unwrap().clone());
        let e = alice.call("chat:transfer", req).await.unwrap_err();
        assert_eq!(e.code, "forbidden", "{target}: {}", e.message);
        assert_eq!(e.message, format!("{only} transfer this chat"));
    }
    let e = alice
        .call("chat:close", json!({"chat_id": chat_id}))
        .await
        .unwrap_err();
    assert_eq!(
        (e.code.as_str(), e.message.as_str()),
        ("forbidden", format!("{only} close this chat").as_str())
    );
    // Nothing changed, and nobody was told of anything.
    let chat = server.rest.chat(&alice_token, &chat_id).await;
    assert_eq!(
        (&chat["status"], &chat["assignee_id"]),
        (&json!("active"), &json!(team.bob.id))
    );
    assert_eq!(server.rest.messages(&alice_token, &chat_id).await, before);
    bob.expect_none("notification", |_| true).await;
    let bob_id = json!(team.bob.id);
    visitor
        .sock
        .expect_none("chat:updated", |v| {
            v["chat"]["status"] == "closed"
                || (!v["chat"]["assignee_id"].is_null() && v["chat"]["assignee_id"] != bob_id)
        })
        .await;

    // Bob himself may hand it on; a supervisor may take it from whoever holds it.
    bob.ok(
        "chat:transfer",
        json!({"chat_id": chat_id, "to_agent_id": team.alice.id}),
    )
    .await;
    let taken = sam
        .ok(
            "chat:transfer",
            json!({"chat_id": chat_id, "to_agent_id": team.bob.id}),
        )
        .await;
    assert_eq!(taken["assignee_id"], json!(team.bob.id));
    let closed = sam.ok("chat:close", json!({"chat_id": chat_id})).await;
    assert_eq!(closed["status"], "closed");

    // A waiting chat stays open to the whole department: anyone may move or close it.
    let waiting = server.visitor_with_chat("Anyone there?", None).await;
    let waiting_id = waiting.chat_id().to_owned();
    alice
        .expect_where("chat:created", about_chat(&waiting_id))
        .await;
    let queued = alice
        .ok(
            "chat:transfer",
            json!({"chat_id": waiting_id, "to_agent_id": team.bob.id}),
        )
        .await;
    assert_eq!(queued["assignee_id"], json!(team.bob.id));
    let other = server.visitor_with_chat("Hello?", None).await;
    let closed = alice
        .ok("chat:close", json!({"chat_id": other.chat_id()}))
        .await;
    assert_eq!(closed["status"], "closed");
    // A note is still the way for a colleague to weigh in on Bob's chat.
    agent_say(&alice, &waiting_id, "He called yesterday too", "note").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replayed_client_msg_id_returns_only_the_authors_own_message() {
    const NOTE: &str = "internal: this customer is on the fraud watch list";
    let server = TestServer::start().await;
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    let (_, bob) = server.agent_as("bob@example.com").await;
    let visitor = server.visitor_with_chat("Where is my refund?", None).await;
    let chat_id = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
    let (note_id, reply_id) = (new_id(), new_id());
    let note = alice
        .ok(
            "message:send",
            json!({"chat_id": chat_id, "client_msg_id": note_id, "body": NOTE, "kind": "note"}),
        )
        .await;
    let reply = alice
        .ok(
            "message:send",
            json!({"chat_id": chat_id, "client_msg_id": reply_id, "body": "Checking now"}),
        )
        .await;
    let mine_id = new_id();
    let mine = visitor
        .sock
        .ok(
            "message:send",
            json!({"client_msg_id": mine_id, "body": "Thank you"}),
        )
        .await;
    let before = server.rest.messages(&alice_token, &chat_id).await;

    // The visitor reusing the note's id (or the reply's) learns nothing of it.
    let taken = "client_msg_id is already used by another message; use a new one";
    for (event, req) in [
        (
            "message:send",
            json!({"client_msg_id": note_id, "body": "what did they write?"}),
        ),
        (
            "message:send",
            json!({"client_msg_id": note_id, "body": "hi", "chat_id": chat_id}),
        ),
        (
            "message:send",
            json!({"client_msg_id": reply_id, "body": "hi"}),
        ),
        (
            "chat:start",
            json!({"client_msg_id": note_id, "body": "hello again"}),
        ),
    ] {
        let e = visitor.sock.call(event, req.clone()).await.unwrap_err();
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("conflict", taken),
            "{event} {req}"
        );
        assert!(!e.message.contains("fraud"));
    }
    // Nor does a colleague get Alice's note, or Alice the visitor's message.
    for (sock, id, kind) in [
        (&bob, &note_id, "note"),
        (&bob, &note_id, "text"),
        (&alice, &mine_id, "text"),
    ] {
        let e = sock
            .call(
                "message:send",
                json!({"chat_id": chat_id, "client_msg_id": id, "body": "mine", "kind": kind}),
            )
            .await
            .unwrap_err();
        assert_eq!((e.code.as_str(), e.message.as_str()), ("conflict", taken));
    }
    assert_eq!(server.rest.messages(&alice_token, &chat_id).await, before);
    visitor
        .sock
        .expect_none("message:new", |v| v.to_string().contains("fraud"))
        .await;

    // Each author's own retry still answers their original message.
    let again = alice
        .ok(
            "message:send",
            json!({"chat_id": chat_id, "client_msg_id": note_id, "body": "edited", "kind": "note"}),
        )
        .await;
    assert_eq!(again, note);
    let again = alice
        .ok(
            "message:send",
            json!({"chat_id": chat_id, "client_msg_id": reply_id, "body": "edited"}),
        )
        .await;
    assert_eq!(again, reply);
    let again = visitor
        .sock
        .ok(
            "message:send",
            json!({"client_msg_id": mine_id, "body": "Thank you!!"}),
        )
        .await;
    assert_eq!(again, mine);
    assert_eq!(server.rest.messages(&alice_token, &chat_id).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_see_nothing_beyond_their_departments() {
    const COMPLAINT: &str = "Support was rude to me";
    const ASKED: &str = "@Carol Agent did Support promise this customer a refund?";
    let server = TestServer::start().await;
    let team = server.team.clone();
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    let (_, carol) = server.agent_as("carol@example.com").await;
    let (sam_token, sam) = server.agent_as("sam@example.com").await;

    // A visitor's chat with Support, closed and rated, then a new one with Sales.
    let visitor = server
        .visitor_with_chat("My printer is broken", Some(&team.support.id))
        .await;
    let support_chat = visitor.chat_id().to_owned();
    carol
        .ok("chat:claim", json!({"chat_id": support_chat}))
        .await;
    carol
        .ok("chat:close", json!({"chat_id": support_chat}))
        .await;
    visitor
        .sock
        .expect_where("chat:updated", |v| v["chat"]["status"] == "closed")
        .await;
    visitor
        .sock
        .ok("chat:rate", json!({"score": 1, "comment": COMPLAINT}))
        .await;
    let mut visitor = Visitor::reconnect(&server.base, &visitor.token).await;
    visitor.start("Now I want to buy a new one", None).await;
    let sales_chat = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": sales_chat})).await;

    // Alice reads the profile: the Sales chat only, nothing of Support's or its rating.
    let path = format!("/customers/{}", visitor.customer_id);
    let profile = server.rest.get(Some(&alice_token), &path).await;
    assert_eq!(profile.status, 200, "{}", profile.body);
    let listed: Vec<&str> = profile.body["previous_chats"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(listed, [sales_chat.as_str()]);
    let text = profile.body.to_string();
    assert!(
        !text.contains(&support_chat) && !text.contains(COMPLAINT),
        "{text}"
    );
    // A supervisor sees both.
    let all = server.rest.get(Some(&sam_token), &path).await;
    assert_eq!(all.body["previous_chats"].as_array().unwrap().len(), 2);
    assert!(all.body.to_string().contains(COMPLAINT));

    // A note in the Sales chat naming Carol (Support only) does not reach her; one
    // naming Sam (who sees every chat) does; both notes are stored.
    agent_say(&alice, &sales_chat, ASKED, "note").await;
    agent_say(
        &alice,
        &sales_chat,
        "@Sam Supervisor please approve",
        "note",
    )
    .await;
    let told = sam.expect("notification").await;
    assert_eq!(
        told["notification"]["body"],
        "@Sam Supervisor please approve"
    );
    carol.expect_none("notification", |_| true).await;
    let replay = carol.ok("sync", json!({"since_event_id": 0})).await;
    assert!(!replay.to_string().contains("refund"), "{replay}");
    let notes: Vec<String> = server
        .rest
        .messages(&alice_token, &sales_chat)
        .await
        .iter()
        .filter(|m| m["kind"] == "note")
        .map(|m| m["body"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(notes, [ASKED, "@Sam Supervisor please approve"]);
}

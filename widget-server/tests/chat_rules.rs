//! Who may act on a chat and what each side learns of it, driven over Socket.IO and
//! REST against a real server: a claimed chat stays its assignee's, a reused
//! `client_msg_id` answers only its own author, visitors learn nothing of notes, and
//! agents nothing beyond their departments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, about_chat, agent_say};
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

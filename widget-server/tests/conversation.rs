//! A full conversation between a visitor and the team: start, queue pushes, claim,
//! messages both ways, typing, read receipts, close and reopen; transfers; claim
//! conflicts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, about_chat, agent_say, has_body, new_id};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_conversation_from_start_to_reopen() {
    let server = TestServer::start().await;
    let team = server.team.clone();
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    let (_, bob) = server.agent_as("bob@example.com").await;
    let (_, carol) = server.agent_as("carol@example.com").await;

    // A new visitor gets a session without a chat.
    let mut visitor = server.visitor().await;
    assert!(!visitor.token.is_empty());
    assert!(visitor.chat_id.is_none());

    // Start: the chat waits in the default department (Sales, created first).
    let started = visitor.start("Hello, my order never arrived", None).await;
    let chat_id = visitor.chat_id().to_owned();
    assert_eq!(started["chat"]["status"], "waiting");
    assert_eq!(started["chat"]["department_id"], json!(team.sales.id));
    assert_eq!(started["chat"]["queue_position"], 1);
    assert_eq!(started["message"]["seq"], 1);
    assert_eq!(started["message"]["author"]["kind"], "customer");
    assert_eq!(started["message"]["body"], "Hello, my order never arrived");

    // Sales agents hear of it; Support's agent does not.
    let created = alice
        .expect_where("chat:created", about_chat(&chat_id))
        .await;
    assert!(created["event_id"].as_i64().unwrap() > 0);
    assert_eq!(created["chat"]["status"], "waiting");
    bob.expect_where("chat:created", about_chat(&chat_id)).await;
    let first = alice
        .expect_where("message:new", has_body("Hello, my order never arrived"))
        .await;
    assert_eq!(first["message"]["id"], started["message"]["id"]);
    carol
        .expect_none("chat:created", about_chat(&chat_id))
        .await;
    carol.expect_none("message:new", about_chat(&chat_id)).await;

    // Claim: the visitor sees who is answering.
    let claimed = alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
    assert_eq!(claimed["status"], "active");
    assert_eq!(claimed["assignee_id"], json!(team.alice.id));
    let upd = visitor
        .sock
        .expect_where("chat:updated", |v| v["chat"]["status"] == "active")
        .await;
    assert_eq!(upd["chat"]["assignee_name"], "Alice Agent");
    assert!(upd["event_id"].as_i64().unwrap() > created["event_id"].as_i64().unwrap());
    bob.expect_where("chat:updated", |v| {
        about_chat(&chat_id)(v) && v["chat"]["assignee_id"] == json!(team.alice.id)
    })
    .await;

    // A second claimant gets `conflict`, and the chat stays Alice's.
    assert_eq!(
        bob.err("chat:claim", json!({"chat_id": chat_id})).await,
        "conflict"
    );
    assert_eq!(
        server.rest.chat(&alice_token, &chat_id).await["assignee_id"],
        json!(team.alice.id)
    );

    // Visitor → agent, with ack and push.
    let m1 = visitor.say("It was order 1234").await;
    assert_eq!(m1["author"]["kind"], "customer");
    assert_eq!(m1["chat_id"], json!(chat_id));
    let pushed = alice
        .expect_where("message:new", has_body("It was order 1234"))
        .await;
    assert_eq!(pushed["message"]["id"], m1["id"]);
    assert_eq!(pushed["message"]["seq"], m1["seq"]);

    // Agent → visitor.
    let m2 = agent_say(&alice, &chat_id, "Let me check that for you", "text").await;
    assert_eq!(m2["seq"].as_i64(), Some(m1["seq"].as_i64().unwrap() + 1));
    let got = visitor
        .sock
        .expect_where("message:new", has_body("Let me check that for you"))
        .await;
    assert_eq!(got["message"]["id"], m2["id"]);
    assert_eq!(got["message"]["author"]["kind"], "agent");
    assert_eq!(got["message"]["author"]["name"], "Alice Agent");

    // Typing, both ways; not to other departments.
    visitor.sock.ok("typing", json!({"typing": true})).await;
    let t = alice.expect_where("typing", about_chat(&chat_id)).await;
    assert_eq!(t["typing"], true);
    assert_eq!(t["author"]["kind"], "customer");
    carol.expect_none("typing", |_| true).await;
    alice
        .ok("typing", json!({"chat_id": chat_id, "typing": true}))
        .await;
    let t = visitor.sock.expect("typing").await;
    assert_eq!(t["typing"], true);
    assert_eq!(t["author"]["kind"], "agent");
    assert_eq!(t["author"]["name"], "Alice Agent");
    alice
        .ok("typing", json!({"chat_id": chat_id, "typing": false}))
        .await;
    assert_eq!(visitor.sock.expect("typing").await["typing"], false);

    // Read receipts, both ways.
    visitor
        .sock
        .ok("message:read", json!({"seq": m2["seq"]}))
        .await;
    let r = alice
        .expect_where("message:read", about_chat(&chat_id))
        .await;
    assert_eq!(r["seq"], m2["seq"]);
    assert_eq!(r["reader"]["kind"], "customer");
    alice
        .ok(
            "message:read",
            json!({"chat_id": chat_id, "seq": m1["seq"]}),
        )
        .await;
    let r = visitor.sock.expect("message:read").await;
    assert_eq!(r["seq"], m1["seq"]);
    assert_eq!(r["reader"]["kind"], "agent");
    let chat = server.rest.chat(&alice_token, &chat_id).await;
    assert_eq!(chat["customer_read_seq"], m2["seq"]);
    assert_eq!(chat["agent_read_seq"], m1["seq"]);
    assert_eq!(chat["unread_count"], 0);

    // Close: the visitor is told and can no longer write into it.
    let closed = alice
        .ok(
            "chat:close",
            json!({"chat_id": chat_id, "resolution": "parcel re-sent"}),
        )
        .await;
    assert_eq!(closed["status"], "closed");
    visitor
        .sock
        .expect_where("chat:updated", |v| v["chat"]["status"] == "closed")
        .await;
    let refused = visitor
        .sock
        .call(
            "message:send",
            json!({"client_msg_id": new_id(), "body": "hello?", "chat_id": chat_id}),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, "conflict");
    assert_eq!(
        alice.err("chat:close", json!({"chat_id": chat_id})).await,
        "conflict"
    );

    // Reopen: active again, assigned to whoever reopened, and the visitor can write.
    let reopened = alice.ok("chat:reopen", json!({"chat_id": chat_id})).await;
    assert_eq!(reopened["status"], "active");
    assert_eq!(reopened["assignee_id"], json!(team.alice.id));
    visitor
        .sock
        .expect_where("chat:updated", |v| {
            v["chat"]["status"] == "active" && v["chat"]["closed_at"].is_null()
        })
        .await;
    let m3 = visitor
        .sock
        .ok(
            "message:send",
            json!({"client_msg_id": new_id(), "body": "Thanks, one more thing", "chat_id": chat_id}),
        )
        .await;
    alice
        .expect_where("message:new", has_body("Thanks, one more thing"))
        .await;

    // The stored history has every message once, in seq order 1..=N.
    let msgs = server.rest.messages(&alice_token, &chat_id).await;
    let seqs: Vec<i64> = msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
    assert_eq!(msgs.last().unwrap()["id"], m3["id"]);
    // Every push but `typing` and `session` carries an event id, and each socket
    // receives them in increasing order.
    for (who, sock) in [("visitor", &visitor.sock), ("alice", &alice), ("bob", &bob)] {
        let ids: Vec<i64> = sock
            .log()
            .iter()
            .filter(|(n, _)| n != "typing" && n != "session")
            .map(|(n, v)| {
                v["event_id"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("{who}: {n} without event_id: {v}"))
            })
            .collect();
        assert!(ids.len() >= 5, "{who}: {ids:?}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{who}: {ids:?}");
    }
    for body in [
        "It was order 1234",
        "Let me check that for you",
        "Thanks, one more thing",
    ] {
        assert_eq!(
            msgs.iter().filter(|m| m["body"] == body).count(),
            1,
            "{body}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfer_to_agent_then_to_another_department() {
    let server = TestServer::start().await;
    let team = server.team.clone();
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    let (bob_token, bob) = server.agent_as("bob@example.com").await;
    let (carol_token, carol) = server.agent_as("carol@example.com").await;
    let visitor = server.visitor_with_chat("Can someone help me?", None).await;
    let chat_id = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;

    // To another agent: Bob owns it, is notified, and the visitor sees his name.
    let moved = alice
        .ok(
            "chat:transfer",
            json!({"chat_id": chat_id, "to_agent_id": team.bob.id}),
        )
        .await;
    assert_eq!(moved["assignee_id"], json!(team.bob.id));
    assert_eq!(moved["status"], "active");
    bob.expect_where("chat:updated", |v| {
        about_chat(&chat_id)(v) && v["chat"]["assignee_id"] == json!(team.bob.id)
    })
    .await;
    let note = bob.expect("notification").await;
    assert_eq!(note["notification"]["chat_id"], json!(chat_id));
    visitor
        .sock
        .expect_where("chat:updated", |v| {
            v["chat"]["assignee_name"] == "Bob Agent"
        })
        .await;
    // Alice may still look (same department) but no longer answer.
    server.rest.chat(&alice_token, &chat_id).await;
    let code = alice
        .err(
            "message:send",
            json!({"chat_id": chat_id, "client_msg_id": new_id(), "body": "still me"}),
        )
        .await;
    assert_eq!(code, "forbidden");

    // To another department: it waits in Support's queue.
    let moved = bob
        .ok(
            "chat:transfer",
            json!({"chat_id": chat_id, "to_department_id": team.support.id, "note": "billing question"}),
        )
        .await;
    assert_eq!(moved["department_id"], json!(team.support.id));
    assert_eq!(moved["status"], "waiting");
    assert!(moved["assignee_id"].is_null());
    let pushed = carol
        .expect_where("chat:updated", about_chat(&chat_id))
        .await;
    assert_eq!(pushed["chat"]["department_id"], json!(team.support.id));

    // The old department's agents stop seeing it.
    for token in [&alice_token, &bob_token] {
        let a = server
            .rest
            .get(Some(token), &format!("/chats/{chat_id}"))
            .await;
        a.assert_error(403, "forbidden");
        let a = server
            .rest
            .get(Some(token), &format!("/chats/{chat_id}/messages"))
            .await;
        a.assert_error(403, "forbidden");
    }
    assert_eq!(
        alice.err("chat:claim", json!({"chat_id": chat_id})).await,
        "forbidden"
    );
    let list = server.rest.get(Some(&alice_token), "/chats").await;
    assert!(
        list.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["id"] != json!(chat_id)),
        "the chat is still in Alice's list: {}",
        list.body
    );

    // The new department works it; the old one hears nothing more.
    server.rest.chat(&carol_token, &chat_id).await;
    carol.ok("chat:claim", json!({"chat_id": chat_id})).await;
    agent_say(&carol, &chat_id, "Billing here, how can I help?", "text").await;
    visitor
        .sock
        .expect_where("message:new", has_body("Billing here, how can I help?"))
        .await;
    visitor.say("About my invoice").await;
    carol
        .expect_where("message:new", has_body("About my invoice"))
        .await;
    alice
        .expect_none("message:new", has_body("About my invoice"))
        .await;
    bob.expect_none("message:new", has_body("About my invoice"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_claims_have_exactly_one_winner() {
    let server = TestServer::start().await;
    let (_, alice) = server.agent_as("alice@example.com").await;
    let (_, bob) = server.agent_as("bob@example.com").await;
    let (sam_token, sam) = server.agent_as("sam@example.com").await;
    let visitor = server
        .visitor_with_chat("First come, first served", None)
        .await;
    let chat_id = visitor.chat_id().to_owned();
    let req = json!({"chat_id": chat_id});
    let (a, b, s) = tokio::join!(
        alice.call("chat:claim", req.clone()),
        bob.call("chat:claim", req.clone()),
        sam.call("chat:claim", req.clone()),
    );
    let results = [a, b, s];
    let winners: Vec<&Value> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
    assert_eq!(winners.len(), 1, "claims: {results:?}");
    for r in &results {
        if let Err(e) = r {
            assert_eq!(e.code, "conflict", "{results:?}");
        }
    }
    let chat = server.rest.chat(&sam_token, &chat_id).await;
    assert_eq!(chat["assignee_id"], winners[0]["assignee_id"]);
    // Exactly one "joined" system message was written.
    let joined = server
        .rest
        .messages(&sam_token, &chat_id)
        .await
        .into_iter()
        .filter(|m| m["kind"] == "event")
        .count();
    assert_eq!(joined, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_visitors_learn_their_queue_position() {
    let server = TestServer::start().await;
    let support = server.team.support.id.clone();
    let mut first = server.visitor().await;
    let mut second = server.visitor().await;
    let mut elsewhere = server.visitor().await;
    let a = first.start("first in line", None).await;
    let b = second.start("second in line", None).await;
    let c = elsewhere.start("first in Support", Some(&support)).await;
    assert_eq!(a["chat"]["queue_position"], 1);
    assert_eq!(b["chat"]["queue_position"], 2);
    assert_eq!(c["chat"]["queue_position"], 1);
    // Once claimed, a chat has no queue position.
    let (_, alice) = server.agent_as("alice@example.com").await;
    let claimed = alice
        .ok("chat:claim", json!({"chat_id": first.chat_id()}))
        .await;
    assert!(claimed["queue_position"].is_null(), "{claimed}");
    let upd = first
        .sock
        .expect_where("chat:updated", |v| v["chat"]["status"] == "active")
        .await;
    assert!(upd["chat"]["queue_position"].is_null());
    // The visitor behind moves up, and the other department's queue is untouched.
    let moved = second
        .sock
        .expect_where("chat:updated", |v| v["chat"]["queue_position"] == 1)
        .await;
    assert_eq!(moved["chat"]["status"], "waiting");
    assert!(moved["event_id"].as_i64().is_some_and(|id| id > 0));
    elsewhere
        .sock
        .expect_none("chat:updated", |v| v["event_id"] == moved["event_id"])
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chats_go_to_the_configured_default_department() {
    let server = TestServer::start_with(|c| c.default_department = Some("Support".into())).await;
    let (_, carol) = server.agent_as("carol@example.com").await;
    let (_, alice) = server.agent_as("alice@example.com").await;
    let visitor = server.visitor_with_chat("Where does this go?", None).await;
    let chat_id = visitor.chat_id().to_owned();
    let created = carol
        .expect_where("chat:created", about_chat(&chat_id))
        .await;
    assert_eq!(
        created["chat"]["department_id"],
        json!(server.team.support.id)
    );
    alice
        .expect_none("chat:created", about_chat(&chat_id))
        .await;
    // Naming a department (by name) still wins.
    let other = server
        .visitor_with_chat("Sales please", Some("sales"))
        .await;
    alice
        .expect_where("chat:created", about_chat(other.chat_id()))
        .await;
}

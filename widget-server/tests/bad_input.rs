//! Bad input at the edge: malformed and oversized REST bodies, wrong socket payloads,
//! unknown events, empty/oversized/control-character messages, oversized WebSocket
//! frames and send bursts — each gets its error code and changes nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{RawRead, RawSocket, TestServer, Visitor, WAIT, new_id};
use rust_socketio::Payload;
use serde_json::{Value, json};

/// The chat's `last_seq` and message count, as a supervisor sees them over REST.
async fn chat_state(server: &TestServer, token: &str, chat_id: &str) -> (i64, usize) {
    let chat = server.rest.chat(token, chat_id).await;
    let msgs = server.rest.messages(token, chat_id).await;
    (chat["last_seq"].as_i64().unwrap(), msgs.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_rest_requests_get_invalid() {
    let server = TestServer::start().await;
    let rest = &server.rest;
    let token = server.login("sam@example.com").await;
    let visitor = server.visitor_with_chat("Hello", None).await;
    let chat_id = visitor.chat_id().to_owned();
    let before = chat_state(&server, &token, &chat_id).await;

    // Bodies: not JSON, wrong types, missing fields, not declared as JSON.
    for body in [
        r#"{"email": "alice@example.com", "password": "#,
        "this is not json",
        r#"{"email": 5, "password": true}"#,
        r#"{"email": "alice@example.com"}"#,
        r#"["alice@example.com"]"#,
        "42",
        r#"{"email": "alice@example.com", "password": "correct-horse-battery-9", "remember_me": "yes"}"#,
    ] {
        let r = rest.post_raw(None, "/auth/login", body.to_owned()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.error_code(), "invalid", "{body}");
    }
    let r = rest
        .send(
            rest.http
                .post(rest.url("/auth/login"))
                .header("content-type", "text/plain")
                .body(r#"{"email":"alice@example.com","password":"correct-horse-battery-9"}"#),
        )
        .await;
    r.assert_error(422, "invalid");

    // Query strings with wrong types or out-of-range values.
    for path in [
        "/chats?page=abc".to_owned(),
        "/chats?page=0".to_owned(),
        "/chats?per_page=0".to_owned(),
        "/chats?per_page=101".to_owned(),
        "/chats?status=sleeping".to_owned(),
        "/chats?sort=random".to_owned(),
        format!("/chats?q={}", "x".repeat(201)),
        format!("/chats/{chat_id}/messages?limit=0"),
        format!("/chats/{chat_id}/messages?limit=-1"),
        format!("/chats/{chat_id}/messages?before_seq=soon"),
        format!("/chats/{chat_id}/transcript?format=pdf"),
        format!("/chats/{}", "x".repeat(65)),
    ] {
        let r = rest.get(Some(&token), &path).await;
        assert_eq!(r.status, 422, "{path}: {}", r.body);
        assert_eq!(r.error_code(), "invalid", "{path}");
    }
    // Unknown things are 404 with the same body shape.
    rest.get(Some(&token), "/no/such/route")
        .await
        .assert_error(404, "not_found");
    rest.get(Some(&token), &format!("/chats/{}", new_id()))
        .await
        .assert_error(404, "not_found");

    assert_eq!(chat_state(&server, &token, &chat_id).await, before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_rest_body_gets_too_large() {
    let server = TestServer::start().await;
    let big = json!({"email": "alice@example.com", "password": "x".repeat(70 * 1024)}).to_string();
    let r = server.rest.post_raw(None, "/auth/login", big).await;
    r.assert_error(413, "too_large");
    // Nothing was counted against the account: the right password still works.
    assert_eq!(
        server
            .rest
            .login_answer("alice@example.com", common::PASSWORD)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_socket_payloads_and_unknown_events_get_invalid() {
    let server = TestServer::start().await;
    let team = server.team.clone();
    let (token, sam) = server.agent_as("sam@example.com").await;
    let visitor = server.visitor_with_chat("Hello", None).await;
    let chat_id = visitor.chat_id().to_owned();
    sam.ok("chat:claim", json!({"chat_id": chat_id})).await;
    let before = chat_state(&server, &token, &chat_id).await;
    let v = &visitor.sock;

    // Not one JSON object.
    for payload in [
        Payload::Text(vec![]),
        Payload::Text(vec![Value::Null]),
        Payload::Text(vec![json!("send this")]),
        Payload::Text(vec![json!(42)]),
        Payload::Text(vec![json!(["client_msg_id", "body"])]),
    ] {
        let e = v
            .call_raw("message:send", payload.clone())
            .await
            .unwrap_err();
        assert_eq!(e.code, "invalid", "/customer {payload:?}");
        let e = sam
            .call_raw("message:send", payload.clone())
            .await
            .unwrap_err();
        assert_eq!(e.code, "invalid", "/agent {payload:?}");
    }

    // Wrong types, missing fields, values out of range — visitor side.
    let cid = new_id();
    for (event, data) in [
        ("message:send", json!({"client_msg_id": cid, "body": 42})),
        ("message:send", json!({"client_msg_id": cid})),
        ("message:send", json!({"body": "no id"})),
        (
            "message:send",
            json!({"client_msg_id": "has spaces in it", "body": "x"}),
        ),
        (
            "message:send",
            json!({"client_msg_id": "x".repeat(65), "body": "x"}),
        ),
        ("message:send", json!({"client_msg_id": "", "body": "x"})),
        (
            "message:send",
            json!({"client_msg_id": cid, "body": "x", "chat_id": 7}),
        ),
        ("message:read", json!({"seq": "one"})),
        ("message:read", json!({"seq": 999})),
        ("message:read", json!({"seq": 0})),
        ("typing", json!({"typing": "yes"})),
        ("chat:rate", json!({"score": 0})),
        ("chat:rate", json!({"score": 6})),
        ("chat:rate", json!({"score": "5"})),
        (
            "chat:rate",
            json!({"score": 5, "comment": "x".repeat(1001)}),
        ),
        ("chat:start", json!({"body": "x", "email": "not an email"})),
        (
            "chat:start",
            json!({"body": "x", "department_id": "no-such-department"}),
        ),
        ("sync", json!({"since_event_id": "zero"})),
        ("sync", json!({"since_event_id": -1})),
        ("sync", json!({})),
        ("no:such:event", json!({})),
        ("message:delete", json!({"chat_id": chat_id})),
    ] {
        let e = v.call(event, data.clone()).await.unwrap_err();
        assert_eq!(e.code, "invalid", "/customer {event} {data}: {}", e.message);
        assert!(!e.message.is_empty());
    }

    // Agent side.
    for (event, data) in [
        ("chat:claim", json!({"chat_id": 123})),
        ("chat:claim", json!({"chat_id": ""})),
        ("chat:claim", json!({})),
        (
            "message:send",
            json!({"chat_id": chat_id, "client_msg_id": cid, "body": "x", "kind": "event"}),
        ),
        (
            "message:send",
            json!({"chat_id": chat_id, "client_msg_id": cid, "body": "x", "kind": "shout"}),
        ),
        ("message:read", json!({"chat_id": chat_id, "seq": "last"})),
        ("chat:tag", json!({"chat_id": chat_id, "add": "vip"})),
        (
            "chat:tag",
            json!({"chat_id": chat_id, "add": ["no spaces allowed"]}),
        ),
        ("chat:transfer", json!({"chat_id": chat_id})),
        (
            "chat:transfer",
            json!({"chat_id": chat_id, "to_agent_id": new_id()}),
        ),
        (
            "chat:transfer",
            json!({"chat_id": chat_id, "to_department_id": team.sales.id, "note": "\u{1b}[2J"}),
        ),
        (
            "chat:close",
            json!({"chat_id": chat_id, "resolution": "x".repeat(1001)}),
        ),
        ("presence:set", json!({"status": "sleeping"})),
        ("typing", json!({"chat_id": chat_id})),
        ("customer:block", json!({"customer_id": ""})),
        ("sync", json!({"since_event_id": null})),
        ("chat:explode", json!({"chat_id": chat_id})),
    ] {
        let e = sam.call(event, data.clone()).await.unwrap_err();
        assert_eq!(e.code, "invalid", "/agent {event} {data}: {}", e.message);
    }

    // Nothing changed.
    assert_eq!(chat_state(&server, &token, &chat_id).await, before);
    let chat = server.rest.chat(&token, &chat_id).await;
    assert_eq!(chat["status"], "active");
    assert_eq!(chat["tags"], json!([]));
    assert!(chat["rating"].is_null());
    // The sockets still work.
    visitor.say("still fine").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_oversized_and_control_character_messages_are_refused() {
    let server = TestServer::start().await;
    let (token, sam) = server.agent_as("sam@example.com").await;
    let visitor = server.visitor_with_chat("Hello", None).await;
    let chat_id = visitor.chat_id().to_owned();
    sam.ok("chat:claim", json!({"chat_id": chat_id})).await;
    let before = chat_state(&server, &token, &chat_id).await;

    let cases: Vec<(&str, String)> = vec![
        ("invalid", String::new()),
        ("invalid", "   ".into()),
        ("invalid", " \n\t \r\n ".into()),
        ("too_large", "a".repeat(4001)),
        ("too_large", "é".repeat(4001)),
        ("invalid", "clear \u{1b}[2J screen".into()),
        ("invalid", "nul \u{0} byte".into()),
        ("invalid", "bell \u{7}".into()),
        ("invalid", "c1 csi \u{9b}31m".into()),
        ("invalid", "osc \u{1b}]52;c;aGVsbG8=\u{7}".into()),
        ("invalid", "delete \u{7f}".into()),
        ("invalid", "backspace \u{8}\u{8}".into()),
    ];
    for (code, body) in &cases {
        let e = visitor
            .sock
            .call(
                "message:send",
                json!({"client_msg_id": new_id(), "body": body}),
            )
            .await
            .unwrap_err();
        assert_eq!(&e.code, code, "/customer {body:?}: {}", e.message);
        let e = sam
            .call(
                "message:send",
                json!({"chat_id": chat_id, "client_msg_id": new_id(), "body": body}),
            )
            .await
            .unwrap_err();
        assert_eq!(&e.code, code, "/agent {body:?}: {}", e.message);
        let e = sam
            .call(
                "message:send",
                json!({"chat_id": chat_id, "client_msg_id": new_id(), "body": body, "kind": "note"}),
            )
            .await
            .unwrap_err();
        assert_eq!(&e.code, code, "/agent note {body:?}");
    }
    // A new visitor cannot open a chat with them either.
    let fresh = server.visitor().await;
    for (code, body) in &cases {
        let e = fresh
            .sock
            .call("chat:start", json!({"body": body}))
            .await
            .unwrap_err();
        assert_eq!(&e.code, code, "chat:start {body:?}");
    }
    let all = server.rest.get(Some(&token), "/chats").await;
    assert_eq!(
        all.body["total"], 1,
        "a refused chat:start created a chat: {}",
        all.body
    );
    assert_eq!(chat_state(&server, &token, &chat_id).await, before);

    // The limits' edges are accepted: 4000 characters (after trimming), newlines and
    // tabs, bidi and zero-width characters (clients neutralise them when drawing).
    let edge = format!("  {}  ", "b".repeat(4000));
    let m = visitor.say(&edge).await;
    assert_eq!(m["body"].as_str().unwrap().chars().count(), 4000);
    visitor.say("line one\nline two\tand a tab").await;
    visitor
        .say("bidi \u{202e}txet\u{202c} and zero\u{200b}width")
        .await;
    let after = chat_state(&server, &token, &chat_id).await;
    assert_eq!(after, (before.0 + 3, before.1 + 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_websocket_frame_closes_the_connection_and_stores_nothing() {
    let server = TestServer::start().await;
    let token = server.login("sam@example.com").await;
    let visitor = server.visitor_with_chat("Hello", None).await;
    let chat_id = visitor.chat_id().to_owned();

    // Under the packet limit: a 60 KiB message is read and refused for its body.
    let e = visitor
        .sock
        .call(
            "message:send",
            json!({"client_msg_id": new_id(), "body": "x".repeat(60 * 1024)}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "too_large");
    let before = chat_state(&server, &token, &chat_id).await;

    // The same visitor by hand: a normal message works on this connection…
    let mut raw = RawSocket::connect(
        server.port,
        "/customer",
        json!({"visitor_token": visitor.token}),
    )
    .await;
    let small_id = new_id();
    raw.emit(
        1,
        "message:send",
        &json!({"client_msg_id": small_id, "body": "by hand"}),
    )
    .await
    .unwrap();
    let acks = raw.acks(1).await;
    assert_eq!(acks[&1]["ok"], true, "{:?}", acks);

    // …and a 70 KiB frame makes the server close it, without an answer.
    let big_id = new_id();
    let sent = raw
        .emit(
            2,
            "message:send",
            &json!({"client_msg_id": big_id, "body": "y".repeat(70 * 1024)}),
        )
        .await;
    if sent.is_ok() {
        loop {
            match raw.read(WAIT).await {
                RawRead::Closed(_) => break,
                RawRead::Timeout => {
                    panic!("the server kept the connection open after a 70 KiB frame")
                }
                RawRead::Text(t) => assert!(
                    !t.starts_with("43/customer,2"),
                    "the 70 KiB frame was answered: {t:.200}"
                ),
            }
        }
    }

    let msgs = server.rest.messages(&token, &chat_id).await;
    assert_eq!(msgs.len(), before.1 + 1);
    assert!(msgs.iter().any(|m| m["client_msg_id"] == json!(small_id)));
    assert!(msgs.iter().all(|m| m["client_msg_id"] != json!(big_id)));
    // The server is fine.
    visitor.say("still here").await;
    let again = Visitor::reconnect(&server.base, &visitor.token).await;
    again.say("and again").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_burst_is_rate_limited_and_every_acked_message_is_stored() {
    const BURST: u32 = 40;
    // The defaults: 10 messages/s, bursts of 20.
    let server = TestServer::start_with(|c| {
        c.send_rate_limit = 10;
        c.send_burst = 20;
    })
    .await;
    let token = server.login("sam@example.com").await;
    let visitor = server.visitor_with_chat("Hello", None).await;
    let chat_id = visitor.chat_id().to_owned();
    let before = chat_state(&server, &token, &chat_id).await;

    // All 40 at once, each with its own ack id, on a new connection of the visitor.
    let mut raw = RawSocket::connect(
        server.port,
        "/customer",
        json!({"visitor_token": visitor.token}),
    )
    .await;
    let mut ids = Vec::new();
    for n in 1..=BURST {
        let id = new_id();
        raw.emit(
            n,
            "message:send",
            &json!({"client_msg_id": id, "body": format!("burst {n}")}),
        )
        .await
        .unwrap();
        ids.push(id);
    }
    let acks = raw.acks(BURST as usize).await;
    let mut accepted = Vec::new();
    let mut limited = Vec::new();
    for (n, ack) in &acks {
        let id = &ids[(*n - 1) as usize];
        if ack["ok"] == true {
            assert_eq!(ack["data"]["client_msg_id"], json!(id));
            accepted.push(id.clone());
        } else {
            assert_eq!(ack["error"]["code"], "rate_limited", "{ack}");
            limited.push(id.clone());
        }
    }
    assert!(!limited.is_empty(), "40 sends at once were not limited");
    // The bucket is the visitor's, whatever the socket: its chat:start took one.
    assert!(
        accepted.len() >= 19,
        "the burst of 20 (less the chat:start) was not honoured: {}",
        accepted.len()
    );

    let msgs = server.rest.messages(&token, &chat_id).await;
    assert_eq!(msgs.len(), before.1 + accepted.len());
    for id in &accepted {
        assert_eq!(
            msgs.iter()
                .filter(|m| m["client_msg_id"] == json!(id))
                .count(),
            1
        );
    }
    for id in &limited {
        assert!(msgs.iter().all(|m| m["client_msg_id"] != json!(id)));
    }
    let seqs: Vec<i64> = msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
    assert_eq!(seqs, (1..=msgs.len() as i64).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_long_polling_post_is_refused_and_stores_nothing() {
    let server = TestServer::start().await;
    let token = server.login("sam@example.com").await;
    let visitor = server.visitor_with_chat("Hello", None).await;
    let chat_id = visitor.chat_id().to_owned();
    let before = chat_state(&server, &token, &chat_id).await;

    // Engine.IO over HTTP long-polling, by hand.
    let http = &server.rest.http;
    let url = format!("{}/socket.io/?EIO=4&transport=polling", server.base);
    let open = http.get(&url).send().await.unwrap().text().await.unwrap();
    let handshake: Value =
        serde_json::from_str(open.strip_prefix('0').expect("open packet")).unwrap();
    let sid = handshake["sid"].as_str().unwrap();
    let url = format!("{url}&sid={sid}");
    let connect = format!("40/customer,{}", json!({"visitor_token": visitor.token}));
    let r = http.post(&url).body(connect).send().await.unwrap();
    assert!(r.status().is_success());
    // Read until the namespace answer, answering Engine.IO pings on the way.
    let mut answers = Vec::new();
    while !answers.iter().any(|a: &String| a.contains("40/customer,")) {
        assert!(answers.len() < 5, "no namespace answer: {answers:?}");
        let answer = http.get(&url).send().await.unwrap().text().await.unwrap();
        if answer.split('\u{1e}').any(|p| p == "2") {
            http.post(&url).body("3").send().await.unwrap();
        }
        answers.push(answer);
    }

    let big_id = new_id();
    let packet = format!(
        "42/customer,1{}",
        json!(["message:send", {"client_msg_id": big_id, "body": "z".repeat(70 * 1024)}])
    );
    let r = http.post(&url).body(packet).send().await.unwrap();
    assert!(
        r.status().is_client_error(),
        "a 70 KiB polling POST was accepted: {}",
        r.status()
    );
    assert_eq!(chat_state(&server, &token, &chat_id).await, before);
    visitor.say("the server is fine").await;
}

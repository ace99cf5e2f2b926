//! The authorisation matrix: visitors only reach their own chats, agents their
//! departments' chats, bad/expired/revoked tokens nothing; sign-in failures look
//! alike and lock the account.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::{Sock, TestServer, WAIT, about_chat, agent_say, new_id};
use rust_socketio::Payload;
use serde_json::{Value, json};

// ---------------------------------------------------------------------------
// Hand-made JWTs (HS256), signed with the server's own secret, to present tokens that
// are well-formed but expired or about an unknown agent.

fn b64url(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
        }
    }
    out
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    use sha2::{Digest, Sha256};
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().to_vec()
}

fn forge(server: &TestServer, sub: &str, exp_offset_secs: i64) -> String {
    let secret = std::fs::read_to_string(server.config.data_dir.join("jwt.secret")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims =
        json!({"sub": sub, "jti": new_id(), "iat": now - 7200, "exp": now + exp_offset_secs});
    let claims = b64url(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{claims}");
    let sig = b64url(&hmac_sha256(
        secret.trim().as_bytes(),
        signing_input.as_bytes(),
    ));
    format!("{signing_input}.{sig}")
}

// ---------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_cannot_reach_another_visitors_chat() {
    let server = TestServer::start().await;
    let sam_token = server.login("sam@example.com").await;
    let a = server.visitor_with_chat("I am visitor A", None).await;
    let b = server.visitor_with_chat("B's private question", None).await;
    let b_chat = b.chat_id().to_owned();
    let before = server.rest.messages(&sam_token, &b_chat).await;

    // Every event that names B's chat answers exactly like a chat that does not exist.
    let attempts = [
        (
            "message:send",
            json!({"client_msg_id": new_id(), "body": "hijack", "chat_id": b_chat}),
        ),
        ("message:read", json!({"seq": 1, "chat_id": b_chat})),
        (
            "chat:rate",
            json!({"score": 1, "comment": "bad", "chat_id": b_chat}),
        ),
        ("typing", json!({"typing": true, "chat_id": b_chat})),
    ];
    for (event, data) in attempts {
        let mut missing = data.clone();
        missing["chat_id"] = json!(new_id());
        let theirs = a.sock.call(event, data).await.unwrap_err();
        let nobodys = a.sock.call(event, missing).await.unwrap_err();
        assert_eq!(theirs.code, "not_found", "{event}");
        assert_eq!(nobodys.code, "not_found", "{event}");
    }
    b.sock.expect_none("typing", |_| true).await;
    b.sock
        .expect_none("message:new", |v| v.to_string().contains("hijack"))
        .await;

    // Sync only replays A's own chat.
    let sync = a.sock.ok("sync", json!({"since_event_id": 0})).await;
    assert!(!sync["events"].as_array().unwrap().is_empty());
    let text = sync.to_string();
    assert!(
        !text.contains(&b_chat) && !text.contains("B's private question"),
        "{sync}"
    );
    assert!(
        sync["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| about_chat(a.chat_id())(&e["data"]))
    );

    // The visitor REST routes: someone else's chat is 404, no token is 401.
    for path in ["/visitor/messages", "/visitor/transcript"] {
        let r = server
            .rest
            .visitor_get(&a.token, &format!("{path}?chat_id={b_chat}"))
            .await;
        r.assert_error(404, "not_found");
        let r = server.rest.get(None, path).await;
        r.assert_error(401, "unauthorized");
        let r = server.rest.visitor_get("not-a-visitor-token", path).await;
        r.assert_error(401, "unauthorized");
    }

    // B's chat is untouched.
    assert_eq!(server.rest.messages(&sam_token, &b_chat).await, before);
    let chat = server.rest.chat(&sam_token, &b_chat).await;
    assert!(chat["rating"].is_null(), "{chat}");
    assert_eq!(chat["customer_read_seq"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_outside_the_department_is_refused() {
    let server = TestServer::start().await;
    let team = server.team.clone();
    let (sam_token, _sam) = server.agent_as("sam@example.com").await;
    let (carol_token, carol) = server.agent_as("carol@example.com").await;
    let visitor = server.visitor_with_chat("A Sales question", None).await;
    let chat_id = visitor.chat_id().to_owned();
    let before = server.rest.messages(&sam_token, &chat_id).await;

    for path in [
        format!("/chats/{chat_id}"),
        format!("/chats/{chat_id}/messages"),
        format!("/chats/{chat_id}/transcript?format=json"),
        format!("/customers/{}", visitor.customer_id),
    ] {
        server
            .rest
            .get(Some(&carol_token), &path)
            .await
            .assert_error(403, "forbidden");
    }
    let list = server.rest.get(Some(&carol_token), "/chats").await;
    assert_eq!(list.status, 200);
    assert_eq!(list.body["total"], 0, "{}", list.body);

    let attempts = [
        ("chat:claim", json!({"chat_id": chat_id})),
        (
            "message:send",
            json!({"chat_id": chat_id, "client_msg_id": new_id(), "body": "note", "kind": "note"}),
        ),
        ("message:read", json!({"chat_id": chat_id, "seq": 1})),
        ("typing", json!({"chat_id": chat_id, "typing": true})),
        ("chat:close", json!({"chat_id": chat_id})),
        ("chat:tag", json!({"chat_id": chat_id, "add": ["mine"]})),
        (
            "chat:transfer",
            json!({"chat_id": chat_id, "to_agent_id": team.carol.id}),
        ),
    ];
    for (event, data) in attempts {
        assert_eq!(carol.err(event, data).await, "forbidden", "{event}");
    }
    // Blocking a customer she has never served: as if there were none.
    let code = carol
        .err(
            "customer:block",
            json!({"customer_id": visitor.customer_id}),
        )
        .await;
    assert_eq!(code, "not_found");
    visitor.sock.expect_none("typing", |_| true).await;

    // Her sync does not carry the chat either.
    let sync = carol.ok("sync", json!({"since_event_id": 0})).await;
    assert!(!sync.to_string().contains(&chat_id), "{sync}");

    // Nothing changed.
    assert_eq!(server.rest.messages(&sam_token, &chat_id).await, before);
    let chat = server.rest.chat(&sam_token, &chat_id).await;
    assert_eq!(chat["status"], "waiting");
    assert_eq!(chat["tags"], json!([]));
    assert_eq!(chat["department_id"], json!(team.sales.id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_limit_what_an_agent_may_do() {
    let server = TestServer::start().await;
    let team = server.team.clone();
    let (alice_token, alice) = server.agent_as("alice@example.com").await;
    let (_, bob) = server.agent_as("bob@example.com").await;
    let (sam_token, sam) = server.agent_as("sam@example.com").await;
    let (ada_token, ada) = server.agent_as("ada@example.com").await;
    let sales = server.visitor_with_chat("Sales chat", None).await;
    let support = server
        .visitor_with_chat("Support chat", Some(&team.support.id))
        .await;

    // Lists: an agent sees its departments; supervisors and admins see everything.
    let ids = |body: &Value| -> Vec<String> {
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect()
    };
    let mine = server.rest.get(Some(&alice_token), "/chats").await;
    assert_eq!(ids(&mine.body), vec![sales.chat_id().to_owned()]);
    for token in [&sam_token, &ada_token] {
        let all = server.rest.get(Some(token), "/chats").await;
        assert_eq!(all.body["total"], 2, "{}", all.body);
        server.rest.chat(token, support.chat_id()).await;
    }
    // Admin (in no department) receives every chat's pushes.
    ada.expect_where("chat:created", about_chat(support.chat_id()))
        .await;
    alice
        .expect_none("chat:created", about_chat(support.chat_id()))
        .await;

    // Only the assignee answers a claimed chat, unless a supervisor steps in.
    bob.ok("chat:claim", json!({"chat_id": sales.chat_id()}))
        .await;
    let code = alice
        .err(
            "message:send",
            json!({"chat_id": sales.chat_id(), "client_msg_id": new_id(), "body": "me too"}),
        )
        .await;
    assert_eq!(code, "forbidden");
    // A note is still fine for a colleague of the department.
    agent_say(
        &alice,
        sales.chat_id(),
        "FYI this customer called yesterday",
        "note",
    )
    .await;
    agent_say(
        &sam,
        sales.chat_id(),
        "Supervisor here, stepping in",
        "text",
    )
    .await;

    // Blocking: not a customer outside your departments; an admin may block anyone.
    let code = alice
        .err(
            "customer:block",
            json!({"customer_id": support.customer_id}),
        )
        .await;
    assert_eq!(code, "not_found");
    let blocked = ada
        .ok(
            "customer:block",
            json!({"customer_id": support.customer_id, "blocked": true}),
        )
        .await;
    assert_eq!(blocked["blocked"], true);
    // A blocked visitor can no longer write.
    let refused = support
        .sock
        .call(
            "message:send",
            json!({"client_msg_id": new_id(), "body": "hello?"}),
        )
        .await
        .unwrap_err();
    assert_eq!(refused.code, "forbidden");
    let mut again = common::Visitor::reconnect(&server.base, &support.token).await;
    let refused = again
        .sock
        .call("chat:start", json!({"body": "let me in"}))
        .await
        .unwrap_err();
    assert_eq!(refused.code, "forbidden");
    // Unblocked, the visitor can write again.
    ada.ok(
        "customer:block",
        json!({"customer_id": support.customer_id, "blocked": false}),
    )
    .await;
    again.say("thank you").await;
    again.start("and once more", None).await;

    // The directory is for every signed-in agent; not for anyone else.
    for path in ["/agents", "/departments"] {
        assert_eq!(server.rest.get(Some(&alice_token), path).await.status, 200);
        server
            .rest
            .get(None, path)
            .await
            .assert_error(401, "unauthorized");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_garbage_and_expired_tokens_are_refused() {
    let server = TestServer::start().await;
    let alice_id = server.team.alice.id.clone();

    // The forging works: a fresh, correctly signed token is accepted…
    let fresh = forge(&server, &alice_id, 3600);
    let me = server.rest.get(Some(&fresh), "/auth/me").await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["id"], json!(alice_id));

    // …and these are not.
    let real = server.login("alice@example.com").await;
    let mut tampered = real.clone();
    tampered.replace_range(real.len() - 4.., "AAAA");
    let bad_tokens = [
        ("garbage", "not-a-token".to_owned()),
        ("three garbage parts", "aaa.bbb.ccc".to_owned()),
        ("tampered", tampered),
        ("expired", forge(&server, &alice_id, -3600)),
        ("unknown agent", forge(&server, &new_id(), 3600)),
    ];
    let r = server.rest.get(None, "/auth/me").await;
    r.assert_error(401, "unauthorized");
    let r = server
        .rest
        .send(
            server
                .rest
                .http
                .get(server.rest.url("/chats"))
                .header("Authorization", format!("Basic {real}")),
        )
        .await;
    r.assert_error(401, "unauthorized");
    for (what, token) in &bad_tokens {
        for path in ["/auth/me", "/chats", "/agents"] {
            let r = server.rest.get(Some(token), path).await;
            assert_eq!(r.status, 401, "{what} on {path}: {}", r.body);
            assert_eq!(r.error_code(), "unauthorized", "{what} on {path}");
        }
        let refused = Sock::connect(&server.base, "/agent", json!({"token": token})).await;
        assert_eq!(
            refused.err(),
            Some("unauthorized".to_owned()),
            "{what} on /agent"
        );
    }
    for auth in [json!({}), json!({"token": 42}), json!("just a string")] {
        let refused = Sock::connect(&server.base, "/agent", auth.clone()).await;
        assert_eq!(
            refused.err(),
            Some("unauthorized".to_owned()),
            "auth {auth}"
        );
    }
    // The real token still works on both.
    assert_eq!(server.rest.get(Some(&real), "/auth/me").await.status, 200);
    server.agent(&real).await.ok("ping:rtt", json!({})).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_out_revokes_the_token_on_rest_and_on_open_sockets() {
    let server = TestServer::start().await;
    let (sam_token, _sam) = server.agent_as("sam@example.com").await;
    let old = server.login("alice@example.com").await;
    let other = server.login("alice@example.com").await;
    let old_sock = server.agent(&old).await;
    let other_sock = server.agent(&other).await;
    let visitor = server.visitor_with_chat("Hello", None).await;
    let chat_id = visitor.chat_id().to_owned();
    old_sock.ok("chat:claim", json!({"chat_id": chat_id})).await;

    let out = server
        .rest
        .post(Some(&old), "/auth/logout", &json!({}))
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    assert_eq!(out.body, json!({}));

    // REST: refused at once; the same agent's other session is unaffected.
    server
        .rest
        .get(Some(&old), "/auth/me")
        .await
        .assert_error(401, "unauthorized");
    server
        .rest
        .get(Some(&old), "/chats")
        .await
        .assert_error(401, "unauthorized");
    server
        .rest
        .post(Some(&old), "/auth/logout", &json!({}))
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(server.rest.get(Some(&other), "/auth/me").await.status, 200);

    // The open socket: disconnected by the server, or refusing with `unauthorized`.
    let closed = old_sock.wait_closed(WAIT).await;
    let attempt = old_sock
        .try_ack(
            "message:send",
            Payload::Text(vec![
                json!({"chat_id": chat_id, "client_msg_id": new_id(), "body": "after sign-out"}),
            ]),
            Duration::from_secs(2),
        )
        .await;
    match &attempt {
        None => assert!(closed, "no ack and the socket was not disconnected"),
        Some(ack) => {
            assert_eq!(ack["ok"], false, "a revoked socket could still send: {ack}");
            assert_eq!(ack["error"]["code"], "unauthorized", "{ack}");
        }
    }
    let msgs = server.rest.messages(&sam_token, &chat_id).await;
    assert!(
        msgs.iter().all(|m| m["body"] != "after sign-out"),
        "{msgs:?}"
    );
    visitor
        .sock
        .expect_none("message:new", |v| v.to_string().contains("after sign-out"))
        .await;

    // Connecting again with it is refused; the other session's socket still works.
    let refused = Sock::connect(&server.base, "/agent", json!({"token": old})).await;
    assert_eq!(refused.err(), Some("unauthorized".to_owned()));
    assert!(!other_sock.server_closed());
    agent_say(&other_sock, &chat_id, "still here", "text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_look_alike_and_lock_the_account() {
    let server = TestServer::start().await;
    let rest = &server.rest;

    // Unknown email and wrong password: the same answer, byte for byte.
    let unknown = rest
        .login_answer("nobody@example.com", "whatever-password")
        .await;
    let wrong = rest
        .login_answer("carol@example.com", "whatever-password")
        .await;
    unknown.assert_error(401, "unauthorized");
    assert_eq!(unknown.status, wrong.status);
    assert_eq!(unknown.body, wrong.body);

    // Four failures do not lock (and a success clears them)…
    for _ in 0..4 {
        rest.login_answer("bob@example.com", "not-bobs-password")
            .await
            .assert_error(401, "unauthorized");
    }
    assert_eq!(
        rest.login_answer("bob@example.com", common::PASSWORD)
            .await
            .status,
        200
    );

    // …five do, even for the right password, and for an unknown email alike.
    for _ in 0..5 {
        rest.login_answer("alice@example.com", "not-alices-password")
            .await
            .assert_error(401, "unauthorized");
    }
    rest.login_answer("alice@example.com", common::PASSWORD)
        .await
        .assert_error(429, "rate_limited");
    rest.login_answer("ALICE@example.com ", common::PASSWORD)
        .await
        .assert_error(429, "rate_limited");
    for _ in 0..5 {
        rest.login_answer("ghost@example.com", "some-password-1")
            .await
            .assert_error(401, "unauthorized");
    }
    rest.login_answer("ghost@example.com", "some-password-1")
        .await
        .assert_error(429, "rate_limited");

    // Other accounts are not affected.
    assert_eq!(
        rest.login_answer("bob@example.com", common::PASSWORD)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_connects_from_foreign_origins_are_refused() {
    let server =
        TestServer::start_with(|c| c.allowed_origins = vec!["https://shop.example".into()]).await;
    let sam_token = server.login("sam@example.com").await;
    for origin in [
        "https://evil.example",
        "http://shop.example.evil.example",
        "null",
    ] {
        let refused = Sock::connect_with(
            &server.base,
            "/customer",
            json!({"name": "Mallory"}),
            &[("Origin", origin)],
        )
        .await;
        assert_eq!(
            refused.err(),
            Some("forbidden".to_owned()),
            "Origin {origin}"
        );
    }
    let own = server.base.clone();
    for origin in ["https://shop.example", own.as_str()] {
        let ok =
            Sock::connect_with(&server.base, "/customer", json!({}), &[("Origin", origin)]).await;
        let sock = ok.unwrap_or_else(|e| panic!("Origin {origin} refused: {e}"));
        sock.expect("session").await;
    }
    // A refused visitor left no trace.
    let agents_view = server.rest.get(Some(&sam_token), "/chats?q=Mallory").await;
    assert_eq!(agents_view.body["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_stops_working_once_its_token_has_expired() {
    let server = TestServer::start().await;
    // Expired two seconds ago: inside the verifier's clock-skew leeway, so the connect
    // may pass, but the socket must not act on it.
    let token = forge(&server, &server.team.sam.id, -2);
    match Sock::connect(&server.base, "/agent", json!({"token": token})).await {
        Err(code) => assert_eq!(code, "unauthorized"),
        Ok(sock) => {
            let e = sock
                .call("sync", json!({"since_event_id": 0}))
                .await
                .unwrap_err();
            assert_eq!(e.code, "unauthorized");
        }
    }
}

//! An agent socket is authorized on every event and follows the store: a token that
//! expires, a sign-out or a password reset made by another process ends the socket
//! within seconds, and a role or department change moves its rooms and permissions.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::{Sock, TestServer, about_chat};
use serde_json::json;
use shared::model::Role;
use widget_server::admin::Admin;
use widget_server::auth::Tokens;

/// The watcher checks often in these tests; what is asserted is the outcome.
async fn server() -> TestServer {
    TestServer::start_with(|c| c.session_check_interval = Duration::from_millis(200)).await
}

/// Long enough for several passes of the watcher.
const FOLLOW: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_after_password_reset_elsewhere_is_disconnected() {
    let srv = server().await;
    let (token, alice) = srv.agent_as("alice@example.com").await;
    alice.ok("sync", json!({"since_event_id": 0})).await;
    // Another process (the admin CLI) on the same database.
    let admin = Admin::open(&srv.config).await.unwrap();
    admin
        .reset_password("alice@example.com", "a-brand-new-passphrase")
        .await
        .unwrap();
    admin.close().await;
    assert!(alice.wait_closed(FOLLOW).await, "the socket was not ended");
    let again = Sock::connect(&srv.base, "/agent", json!({ "token": token })).await;
    assert_eq!(again.err(), Some("unauthorized".to_owned()));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_after_sign_out_on_another_node_is_disconnected() {
    let srv = server().await;
    let (token, alice) = srv.agent_as("alice@example.com").await;
    let claims = Tokens::load_or_create(&srv.config.data_dir)
        .unwrap()
        .verify(&token)
        .unwrap();
    // Another node's store revokes the token; this node has not heard of it.
    let other = widget_server::store::open(&srv.config).await.unwrap();
    other
        .revoke_token(&claims.jti, i64::try_from(claims.exp).unwrap() * 1000)
        .await
        .unwrap();
    other.close_store().await;
    assert!(alice.wait_closed(FOLLOW).await, "the socket was not ended");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_with_expired_token_is_refused_and_disconnected() {
    let srv = server().await;
    let tokens = Tokens::load_or_create(&srv.config.data_dir).unwrap();
    let (token, claims) = tokens
        .issue(&srv.team.alice.id, Duration::from_secs(2))
        .unwrap();
    let alice = Sock::agent(&srv.base, &token).await;
    alice.ok("sync", json!({"since_event_id": 0})).await;
    // Wait until the token is past its expiry, then it may do nothing more.
    while jsonwebtoken::get_current_timestamp() <= claims.exp {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let deadline = Instant::now() + FOLLOW;
    while !alice.server_closed() && Instant::now() < deadline {
        if let Err(e) = alice.call("sync", json!({"since_event_id": 0})).await {
            assert_eq!(e.code, "unauthorized");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(alice.server_closed(), "the expired socket was not ended");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn socket_follows_role_and_department_changes() {
    let srv = server().await;
    let sales = srv.team.sales.id.clone();
    let (_, carol) = srv.agent_as("carol@example.com").await;

    // Carol works Support only: a Sales chat is neither pushed to her nor hers to claim.
    let first = srv.visitor_with_chat("Hello Sales", Some(&sales)).await;
    carol
        .expect_none("chat:created", about_chat(first.chat_id()))
        .await;
    assert_eq!(
        carol
            .err("chat:claim", json!({"chat_id": first.chat_id()}))
            .await,
        "forbidden"
    );

    // An admin adds her to Sales from another process: her socket follows.
    let admin = Admin::open(&srv.config).await.unwrap();
    admin
        .update_agent(
            "carol@example.com",
            None,
            Some(&["Support".into(), "Sales".into()]),
            None,
            None,
        )
        .await
        .unwrap();
    let deadline = Instant::now() + FOLLOW;
    loop {
        match carol
            .call("chat:claim", json!({"chat_id": first.chat_id()}))
            .await
        {
            Ok(_) => break,
            Err(e) if Instant::now() < deadline => {
                assert_eq!(e.code, "forbidden", "{e:?}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("the department change never reached the socket: {e:?}"),
        }
    }
    let second = srv
        .visitor_with_chat("Hello again, Sales", Some(&sales))
        .await;
    carol
        .expect_where("chat:created", about_chat(second.chat_id()))
        .await;

    // Made a supervisor with no department, she hears about every chat: Billing's too.
    let billing = admin.create_department("Billing").await.unwrap().id;
    admin
        .update_agent(
            "carol@example.com",
            Some(Role::Supervisor),
            Some(&[]),
            None,
            None,
        )
        .await
        .unwrap();
    let deadline = Instant::now() + FOLLOW;
    loop {
        let v = srv
            .visitor_with_chat("Billing, please", Some(&billing))
            .await;
        if carol
            .next_where(
                "chat:created",
                about_chat(v.chat_id()),
                Duration::from_millis(500),
            )
            .await
            .is_some()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the role change never reached the socket"
        );
    }

    // Back to a Support agent: Sales chats are no longer hers to see. Her socket's
    // replay (`sync`, read with the socket's own permissions) shows when it followed.
    admin
        .update_agent(
            "carol@example.com",
            Some(Role::Agent),
            Some(&["Support".into()]),
            None,
            None,
        )
        .await
        .unwrap();
    admin.close().await;
    let sees_second = |ack: &serde_json::Value| {
        ack["events"]
            .as_array()
            .is_some_and(|evs| evs.iter().any(|e| about_chat(second.chat_id())(&e["data"])))
    };
    let deadline = Instant::now() + FOLLOW;
    while sees_second(&carol.ok("sync", json!({"since_event_id": 0})).await) {
        assert!(
            Instant::now() < deadline,
            "the socket still reads Sales chats"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let third = srv.visitor_with_chat("Sales once more", Some(&sales)).await;
    assert_eq!(
        carol
            .err("chat:claim", json!({"chat_id": third.chat_id()}))
            .await,
        "forbidden"
    );
    carol
        .expect_none("chat:created", about_chat(third.chat_id()))
        .await;
    srv.stop().await;
}

/// email, departments, max chats, and what the refusal says.
type Case<'a> = (&'a str, Option<&'a [String]>, Option<u32>, &'a str);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn update_agent_refuses_bad_input_and_changes_nothing() {
    let srv = server().await;
    let admin = Admin::open(&srv.config).await.unwrap();
    let cases: [Case; 4] = [
        ("nobody@example.com", None, None, "no agent with email"),
        (
            "alice@example.com",
            Some(&[]),
            None,
            "an agent needs at least one department",
        ),
        (
            "alice@example.com",
            Some(&["Nowhere".to_owned()]),
            None,
            "unknown department \"Nowhere\"",
        ),
        (
            "alice@example.com",
            None,
            Some(0),
            "--max-chats must be 1 to 100",
        ),
    ];
    for (email, departments, max_chats, says) in cases {
        let e = admin
            .update_agent(email, None, departments, None, max_chats)
            .await
            .expect_err(says);
        assert!(format!("{e:#}").contains(says), "{e:#} should say {says}");
    }
    let agents = admin.list_agents().await.unwrap();
    let alice = agents
        .iter()
        .find(|a| a.email == "alice@example.com")
        .unwrap();
    assert_eq!(alice, &srv.team.alice);
    admin.close().await;
    srv.stop().await;
}

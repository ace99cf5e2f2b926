//! `/metrics`: off on the public listener by default, behind a bearer token when one
//! is configured, open on a listener of its own; scraped and parsed as Prometheus
//! text after real traffic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashMap;

use common::{TestServer, agent_say, free_port};
use serde_json::json;

/// Every sample of a text exposition: `name{labels}` → value.
fn parse(text: &str) -> HashMap<String, f64> {
    let mut out = HashMap::new();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let (key, value) = line.rsplit_once(' ').expect("sample: name value");
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("a number: {line}"));
        out.insert(key.to_string(), value);
    }
    out
}

async fn traffic(server: &TestServer) {
    let (_, alice) = server.agent_as("alice@example.com").await;
    let visitor = server.visitor_with_chat("Hello?", None).await;
    let chat_id = visitor.chat_id().to_owned();
    alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
    agent_say(&alice, &chat_id, "Hi there", "text").await;
    let wrong = server
        .rest
        .login_answer("alice@example.com", "not the password")
        .await;
    assert_eq!(wrong.status, 401);
    // A second chat stays in the queue.
    let _waiting = server.visitor_with_chat("Anyone?", None).await;
    // The pushes are counted as the dispatcher sends them.
    visitor
        .sock
        .expect_where("message:new", |v| v["message"]["body"] == "Hi there")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_off_on_the_public_listener_by_default() {
    let server = TestServer::start().await;
    let r = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_behind_a_token_are_scraped_and_parsed() {
    let server = TestServer::start_with(|c| c.metrics_token = Some("scrape-me".into())).await;
    let url = format!("{}/metrics", server.base);
    let http = reqwest::Client::new();
    assert_eq!(http.get(&url).send().await.unwrap().status(), 401);
    let wrong = http.get(&url).bearer_auth("guess").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    traffic(&server).await;
    let r = http
        .get(&url)
        .bearer_auth("scrape-me")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/plain")
    );
    let m = parse(&r.text().await.unwrap());
    assert!(m[r#"panel_sockets{namespace="/agent"}"#] >= 1.0, "{m:?}");
    assert!(m[r#"panel_sockets{namespace="/customer"}"#] >= 2.0);
    assert!(m["panel_queue_waiting_chats"] >= 1.0);
    assert!(m["panel_queue_longest_wait_seconds"] >= 0.0);
    assert!(m["panel_events_pushed_total"] >= 3.0);
    assert!(m["panel_messages_total"] >= 2.0);
    assert!(m["panel_failed_logins_total"] >= 1.0);
    assert!(m[r#"panel_errors_total{code="unauthorized",via="rest"}"#] >= 1.0);
    assert!(m["panel_commit_batch_size_count"] >= 1.0);
    assert!(m["panel_commit_seconds_count"] >= 1.0);
    assert!(m["panel_write_ack_seconds_count"] >= 1.0);
    assert!(
        m.contains_key(r#"panel_write_ack_seconds{quantile="0.99"}"#),
        "{m:?}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_on_their_own_listener_need_no_token() {
    let port = free_port();
    let server = TestServer::start_with(|c| {
        c.metrics_bind = Some(format!("127.0.0.1:{port}").parse().unwrap());
    })
    .await;
    let public = reqwest::get(format!("{}/metrics", server.base))
        .await
        .unwrap();
    assert_eq!(public.status(), 404, "still off on the public listener");
    traffic(&server).await;
    let r = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let m = parse(&r.text().await.unwrap());
    assert!(m["panel_messages_total"] >= 2.0);
    server.stop().await;
}

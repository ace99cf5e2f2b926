//! Transcripts of any length are streamed (chunked, read a window at a time) and hold
//! every message in order: notes for agents, never for the visitor.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestServer, agent_say};
use serde_json::{Value, json};

async fn get(
    srv: &TestServer,
    path: &str,
    agent: Option<&str>,
    visitor: Option<&str>,
) -> reqwest::Response {
    let mut req = reqwest::Client::new().get(srv.rest.url(path));
    if let Some(t) = agent {
        req = req.bearer_auth(t);
    }
    if let Some(t) = visitor {
        req = req.header("x-visitor-token", t);
    }
    let r = req.send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcripts_have_no_size_limit_and_are_streamed_in_order() {
    let srv = TestServer::start().await;
    let mut v = srv.visitor().await;
    v.start("message 0", None).await;
    let chat = v.chat_id().to_owned();
    let (token, sam) = srv.agent_as("sam@example.com").await;
    sam.ok("chat:claim", json!({"chat_id": chat})).await;
    // Over two windows of messages, with notes among them.
    let mut public = 1;
    for n in 1..=1100 {
        if n % 10 == 0 {
            agent_say(&sam, &chat, &format!("note {n}"), "note").await;
        } else {
            v.say(&format!("message {n}")).await;
            public += 1;
        }
    }

    let r = get(
        &srv,
        &format!("/chats/{chat}/transcript"),
        Some(&token),
        None,
    )
    .await;
    assert!(
        r.content_length().is_none(),
        "the transcript was not streamed"
    );
    assert_eq!(
        r.headers()["transfer-encoding"].to_str().unwrap(),
        "chunked"
    );
    let text = r.text().await.unwrap();
    let seqs: Vec<i64> = text
        .lines()
        .filter_map(|l| l.split(" #").nth(1))
        .filter_map(|rest| rest.split(' ').next()?.parse().ok())
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "out of order");
    assert!(text.contains("[internal note] Sam Supervisor: note 1100"));
    assert!(text.contains("Visitor") && text.contains(": message 1099"));

    let r = get(
        &srv,
        &format!("/chats/{chat}/transcript?format=json"),
        Some(&token),
        None,
    )
    .await;
    let all: Value = r.json().await.unwrap();
    let messages = all["messages"].as_array().unwrap();
    assert_eq!(all["chat"]["id"], json!(chat));
    // Every message: the visitor's, the notes, the system line of the claim.
    assert_eq!(
        messages.len() as i64,
        all["chat"]["last_seq"].as_i64().unwrap()
    );
    assert_eq!(messages.iter().filter(|m| m["kind"] == "note").count(), 110);

    let r = get(
        &srv,
        "/visitor/transcript?format=json",
        None,
        Some(&v.token),
    )
    .await;
    let theirs: Value = r.json().await.unwrap();
    let theirs = theirs["messages"].as_array().unwrap();
    assert!(
        theirs.iter().all(|m| m["kind"] != "note"),
        "a note reached the visitor"
    );
    assert_eq!(
        theirs
            .iter()
            .filter(|m| m["author"]["kind"] == "customer")
            .count(),
        public
    );
    srv.stop().await;
}

//! A customer's profile lists every previous chat its reader may see, however many
//! other chats the customer had, a page at a time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::TestServer;
use serde_json::{Value, json};

fn chat_ids(profile: &Value) -> Vec<String> {
    profile["previous_chats"]
        .as_array()
        .unwrap_or_else(|| panic!("no previous_chats in {profile}"))
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn customer_profile_lists_every_visible_chat_not_only_among_the_newest() {
    let srv = TestServer::start_with(|c| c.event_rate_limit = 0).await;
    let team = srv.team.clone();
    let (alice_token, alice) = srv.agent_as("alice@example.com").await;
    let (_, carol) = srv.agent_as("carol@example.com").await;
    let mut visitor = srv.visitor().await;

    // One chat with Sales, the oldest, then 55 with Support.
    visitor
        .start("Sales: a question about my invoice", Some(&team.sales.id))
        .await;
    let sales_chat = visitor.chat_id().to_owned();
    alice.ok("chat:close", json!({"chat_id": sales_chat})).await;
    let mut support_chats = Vec::new();
    for n in 0..55 {
        visitor
            .start(&format!("Support question {n}"), Some(&team.support.id))
            .await;
        let id = visitor.chat_id().to_owned();
        carol.ok("chat:close", json!({"chat_id": id})).await;
        support_chats.push(id);
    }
    let path = format!("/customers/{}", visitor.customer_id);

    // Alice (Sales) sees her department's chat, though 55 newer ones came after it.
    let profile = srv.rest.get(Some(&alice_token), &path).await;
    assert_eq!(profile.status, 200, "{}", profile.body);
    assert_eq!(chat_ids(&profile.body), vec![sales_chat.clone()]);
    assert_eq!(profile.body["previous_chats_total"], 1);
    assert_eq!(profile.body["id"], visitor.customer_id.as_str());

    // The admin sees all 56, newest first, a page at a time.
    let ada = srv.login("ada@example.com").await;
    let first = srv.rest.get(Some(&ada), &path).await;
    assert_eq!(first.body["previous_chats_total"], 56);
    assert_eq!(
        (first.body["page"].clone(), first.body["per_page"].clone()),
        (json!(1), json!(50))
    );
    let mut seen = chat_ids(&first.body);
    assert_eq!(seen.len(), 50);
    let second = srv.rest.get(Some(&ada), &format!("{path}?page=2")).await;
    seen.extend(chat_ids(&second.body));
    let mut all: Vec<String> = support_chats.iter().rev().cloned().collect();
    all.push(sales_chat);
    assert_eq!(seen, all);
    let small = srv
        .rest
        .get(Some(&ada), &format!("{path}?page=3&per_page=2"))
        .await;
    assert_eq!(chat_ids(&small.body), all[4..6].to_vec());

    // Bad pages are refused and say why.
    srv.rest
        .get(Some(&ada), &format!("{path}?per_page=0"))
        .await
        .assert_error(422, "invalid");
    srv.rest
        .get(Some(&ada), &format!("{path}?page=0"))
        .await
        .assert_error(422, "invalid");
    srv.stop().await;
}

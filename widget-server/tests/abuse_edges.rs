//! Server edges under abuse: the revoked-token cache stays bounded (the store still
//! refuses what it forgot), and absurd page numbers are refused instead of
//! overflowing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod stateful;

use common::TestServer;
use stateful::StateServer;
use widget_server::auth::MAX_REVOKED_CACHED;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_revoked_cache_is_bounded_and_the_store_still_refuses_forgotten_tokens() {
    let server = StateServer::start(|_| {}).await;
    let rest = &server.rest;
    let gone = rest.login("alice@example.com").await;
    let kept = rest.login("alice@example.com").await;
    let out = rest
        .post(Some(&gone), "/auth/logout", &serde_json::json!({}))
        .await;
    assert_eq!(out.status, 200, "{}", out.body);
    // A flood of sign-outs of tokens that live longer than this one.
    let cache = &server.state.revoked;
    let later = jsonwebtoken::get_current_timestamp() + 40 * 24 * 3600;
    for i in 0..MAX_REVOKED_CACHED * 3 {
        cache.insert(&format!("flood-{i}"), later);
    }
    assert!(cache.len() <= MAX_REVOKED_CACHED, "{} cached", cache.len());
    // The signed-out token fell out of the cache; the store still refuses it.
    rest.get(Some(&gone), "/auth/me")
        .await
        .assert_error(401, "unauthorized");
    assert_eq!(rest.get(Some(&kept), "/auth/me").await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_far_past_any_list_is_invalid_not_an_overflow() {
    let server = TestServer::start().await;
    let token = server.login("ada@example.com").await;
    for path in [
        "/agents?page=50000000&per_page=100",
        "/departments?page=50000000&per_page=100",
        "/chats?page=50000000&per_page=100",
        "/canned-responses?page=50000000&per_page=100",
        "/agents?page=4294967295&per_page=100",
        "/agents?page=100001",
    ] {
        let a = server.rest.get(Some(&token), path).await;
        a.assert_error(422, "invalid");
        assert!(
            a.body.to_string().contains("page must be 1 to 100000"),
            "{path}: {}",
            a.body
        );
    }
    // The last allowed page is just empty.
    let last = server
        .rest
        .get(Some(&token), "/agents?page=100000&per_page=100")
        .await;
    assert_eq!(last.status, 200, "{}", last.body);
    assert_eq!(last.body["items"], serde_json::json!([]));
    assert_eq!(last.body["total"], 5);
}

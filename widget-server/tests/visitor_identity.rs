//! Visitors are known by a signed token and stored only once they chat: connecting
//! without a token (or with a forged one) writes nothing, a reconnect with the token
//! the server handed out is the same visitor, and the first `chat:start` writes
//! exactly one customer record. Runs on SQLite and, with `TEST_DATABASE_URL`, on
//! PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::panic::AssertUnwindSafe;

use common::backends::pg_database;
use common::{Sock, TestServer, Visitor};
use futures_util::FutureExt;
use serde_json::json;
use sqlx::Connection;

/// How many customer records the server's database holds.
async fn customer_rows(srv: &TestServer) -> i64 {
    let url = srv.config.database_url();
    let sql = "SELECT COUNT(*) FROM customers";
    if url.starts_with("postgres") {
        let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    } else {
        let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut c).await.unwrap()
    }
}

async fn tokenless_connects_store_nothing(srv: &TestServer) {
    let before = customer_rows(srv).await;
    let mut visitors = Vec::new();
    for _ in 0..5 {
        visitors.push(srv.visitor().await);
    }
    // Forged and unknown tokens are new visitors, with a token of their own.
    let genuine = visitors[0].token.clone();
    let mut forged = genuine.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == '0' { '1' } else { '0' });
    for made_up in [forged.as_str(), "not-a-token-anyone-was-given"] {
        let v = Visitor::connect(&srv.base, json!({"visitor_token": made_up})).await;
        assert_ne!(v.token, made_up);
        assert!(visitors.iter().all(|o| o.customer_id != v.customer_id));
        visitors.push(v);
    }
    let ids: std::collections::HashSet<&str> =
        visitors.iter().map(|v| v.customer_id.as_str()).collect();
    assert_eq!(
        ids.len(),
        visitors.len(),
        "every new visitor is someone else"
    );
    assert_eq!(customer_rows(srv).await, before, "connects stored visitors");

    // Before any chat, a reconnect with the token resumes the same identity (on
    // several sockets at once: the identity every per-visitor limit counts on).
    let again = Visitor::reconnect(&srv.base, &genuine).await;
    let twice = Visitor::reconnect(&srv.base, &genuine).await;
    assert_eq!(again.customer_id, visitors[0].customer_id);
    assert_eq!(twice.customer_id, visitors[0].customer_id);
    assert_eq!(again.token, genuine);
    assert_eq!(again.chat_id, None);
    // Their REST reads find nothing yet, rather than refusing them.
    let none = srv.rest.visitor_get(&genuine, "/visitor/messages").await;
    assert_eq!(none.status, 404, "{}", none.body);
    let forged_read = srv.rest.visitor_get(&forged, "/visitor/messages").await;
    forged_read.assert_error(401, "unauthorized");
    assert_eq!(customer_rows(srv).await, before);

    // The first chat writes exactly one record, under the id the token carries.
    let mut first = again;
    let started = first.start("Hello, is anyone there?", None).await;
    assert_eq!(
        started["chat"]["customer"]["id"],
        first.customer_id.as_str()
    );
    assert_eq!(customer_rows(srv).await, before + 1);
    // Another socket of the same visitor continues that chat; still one record.
    twice
        .sock
        .ok(
            "message:send",
            json!({"client_msg_id": common::new_id(), "body": "from the other tab"}),
        )
        .await;
    let resumed = Visitor::reconnect(&srv.base, &genuine).await;
    assert_eq!(resumed.customer_id, first.customer_id);
    assert_eq!(resumed.chat_id.as_deref(), Some(first.chat_id()));
    assert_eq!(customer_rows(srv).await, before + 1);
    let history = srv.rest.visitor_get(&genuine, "/visitor/messages").await;
    assert_eq!(history.status, 200, "{}", history.body);
    assert_eq!(history.body["items"].as_array().unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokenless_connects_store_no_visitor_until_the_first_chat() {
    let srv = TestServer::start().await;
    tokenless_connects_store_nothing(&srv).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokenless_connects_store_no_visitor_until_the_first_chat_on_postgres() {
    let test = "tokenless_connects_store_no_visitor_until_the_first_chat_on_postgres";
    let Some(db) = pg_database(test).await else {
        return;
    };
    let url = db.url.clone();
    let srv = TestServer::start_with(|c| c.database_url = Some(url)).await;
    let outcome = AssertUnwindSafe(async {
        tokenless_connects_store_nothing(&srv).await;
        srv.stop().await;
    })
    .catch_unwind()
    .await;
    db.drop_database().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_visitor_limits_hold_before_the_first_chat() {
    let srv = TestServer::start_with(|c| c.event_rate_limit = 2).await;
    let first = srv.visitor().await;
    let other = Visitor::reconnect(&srv.base, &first.token).await;
    assert_eq!(other.customer_id, first.customer_id);
    let mut limited = 0;
    for n in 0..20 {
        let s: &Sock = if n % 2 == 0 { &first.sock } else { &other.sock };
        if let Err(e) = s.call("ping:rtt", json!({})).await {
            assert_eq!(e.code, "rate_limited", "{e:?}");
            limited += 1;
        }
    }
    assert!(limited > 0, "20 events on one identity were not limited");
    srv.stop().await;
}

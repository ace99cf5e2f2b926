//! Rate limits belong to the identity, not the socket: a visitor or agent with many
//! sockets shares one bucket, every event has a limit, and visitor identities one
//! address may create are limited too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Instant;

use common::{Sock, TestServer, Visitor, new_id};
use serde_json::json;

/// How many tokens a bucket of `rate`/s and `burst` can have given out since `start`
/// (the burst, what refilled meanwhile, and one for rounding).
fn most_allowed(burst: u32, rate: u32, start: Instant) -> usize {
    let refilled = start.elapsed().as_secs_f64() * f64::from(rate);
    burst as usize + refilled.ceil() as usize + 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_per_socket_are_shared_by_every_socket_of_a_visitor() {
    let srv = TestServer::start_with(|c| {
        c.send_rate_limit = 1;
        c.send_burst = 3;
    })
    .await;
    let first = srv.visitor().await;
    let mut socks = vec![first.sock];
    for _ in 0..3 {
        socks.push(Visitor::reconnect(&srv.base, &first.token).await.sock);
    }
    let start = Instant::now();
    let mut accepted = 0;
    for round in 0..3 {
        for (n, s) in socks.iter().enumerate() {
            let r = if round == 0 && n == 0 {
                s.call("chat:start", json!({"body": "Hello"})).await
            } else {
                s.call(
                    "message:send",
                    json!({"client_msg_id": new_id(), "body": format!("{round}/{n}")}),
                )
                .await
            };
            match r {
                Ok(_) => accepted += 1,
                Err(e) => assert_eq!(e.code, "rate_limited", "{e:?}"),
            }
        }
    }
    // Per socket, four sockets would have had 4 x 3 = 12.
    assert!(
        accepted <= most_allowed(3, 1, start),
        "{accepted} of 12 sends accepted across 4 sockets of one visitor"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_cover_every_event_across_an_agents_sockets() {
    let srv = TestServer::start_with(|c| c.event_rate_limit = 2).await;
    let token = srv.login("alice@example.com").await;
    let (a, b) = (srv.agent(&token).await, srv.agent(&token).await);
    let start = Instant::now();
    let mut ok = 0;
    let mut limited = 0;
    for n in 0..20 {
        let s: &Sock = if n % 2 == 0 { &a } else { &b };
        let event = ["sync", "ping:rtt"][n % 2];
        match s.call(event, json!({"since_event_id": 0})).await {
            Ok(_) => ok += 1,
            Err(e) => {
                assert_eq!(e.code, "rate_limited", "{e:?}");
                assert!(e.message.contains("too many requests"), "{}", e.message);
                limited += 1;
            }
        }
    }
    assert!(limited > 0, "20 events at once were not limited");
    assert!(ok <= most_allowed(4, 2, start), "{ok} events accepted");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_new_visitors_per_address_but_not_returning_ones() {
    let srv = TestServer::start_with(|c| c.new_visitors_per_minute = 3).await;
    let mut visitors = Vec::new();
    for _ in 0..3 {
        visitors.push(srv.visitor().await);
    }
    let refused = Sock::connect(&srv.base, "/customer", json!({})).await;
    assert_eq!(refused.err(), Some("rate_limited".to_owned()));
    // A made-up token is a new identity too.
    let made_up = Sock::connect(
        &srv.base,
        "/customer",
        json!({"visitor_token": "not-a-token-anyone-was-given"}),
    )
    .await;
    assert_eq!(made_up.err(), Some("rate_limited".to_owned()));
    // A visitor coming back with their token is not new.
    let back = Visitor::reconnect(&srv.base, &visitors[0].token).await;
    assert_eq!(back.customer_id, visitors[0].customer_id);
    srv.stop().await;
}

//! Sign-in under abuse: concurrent guesses cannot overtake the lockout, password
//! checks run in a bounded pool, a noisy address is slowed down but never locks out the
//! people behind it, and `X-Forwarded-For` is believed only from a trusted proxy.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod stateful;

use std::net::IpAddr;

use common::{Answer, PASSWORD, Rest, TestServer};
use serde_json::json;
use stateful::StateServer;

/// One sign-in: e-mail, password and an optional `X-Forwarded-For` value.
type Login = (String, String, Option<String>);

async fn login_with(rest: &Rest, (email, password, forwarded): Login) -> Answer {
    let mut req = rest
        .http
        .post(rest.url("/auth/login"))
        .json(&json!({"email": email, "password": password}));
    if let Some(f) = forwarded {
        req = req.header("x-forwarded-for", f);
    }
    rest.send(req).await
}

/// Sends every sign-in at once and returns the answers.
async fn all_at_once(rest: &Rest, logins: Vec<Login>) -> Vec<Answer> {
    let tasks: Vec<_> = logins
        .into_iter()
        .map(|l| {
            let rest = rest.clone();
            tokio::spawn(async move { login_with(&rest, l).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.expect("sign-in task"));
    }
    answers
}

fn count(answers: &[Answer], status: u16) -> usize {
    answers.iter().filter(|a| a.status == status).count()
}

fn wrong(email: &str) -> Login {
    (email.to_owned(), "not-the-password-1".to_owned(), None)
}

fn ip(s: &str) -> IpAddr {
    s.parse().expect("an address")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_logins_cannot_bypass_the_lockout() {
    let server = TestServer::start().await;
    let answers = all_at_once(
        &server.rest,
        (0..40).map(|_| wrong("alice@example.com")).collect(),
    )
    .await;
    // Five guesses are checked (and refused), the other 35 never reach the hash.
    assert_eq!(count(&answers, 401), 5, "checked guesses");
    assert_eq!(count(&answers, 429), 35, "refused before checking");
    for a in &answers {
        if a.status == 401 {
            a.assert_error(401, "unauthorized");
        } else {
            a.assert_error(429, "rate_limited");
        }
    }
    // The five failures lock the account, even for the right password.
    server
        .rest
        .login_answer("alice@example.com", PASSWORD)
        .await
        .assert_error(429, "rate_limited");
    // Nobody else is affected.
    assert_eq!(
        server
            .rest
            .login_answer("bob@example.com", PASSWORD)
            .await
            .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_password_checks_are_capped_and_the_excess_is_refused() {
    let server = StateServer::start(|c| {
        c.max_password_checks = 2;
        c.password_check_wait = std::time::Duration::from_millis(50);
    })
    .await;
    // Forty different accounts, so no account budget stops them: only the pool does.
    let logins = (0..40)
        .map(|i| wrong(&format!("nobody{i}@example.com")))
        .collect();
    let answers = all_at_once(&server.rest, logins).await;
    let checks = &server.state.password_checks;
    assert!(
        checks.peak_in_flight() <= 2,
        "{} checks ran at once",
        checks.peak_in_flight()
    );
    assert_eq!(count(&answers, 401) + count(&answers, 429), 40);
    assert!(count(&answers, 401) >= 1, "the pool checked nothing");
    // Every 401 was a real check, every 429 was turned away before hashing.
    assert_eq!(checks.checks_done(), count(&answers, 401) as u64);
    for a in answers.iter().filter(|a| a.status == 429) {
        a.assert_error(429, "rate_limited");
        assert!(a.body.to_string().contains("busy"), "{}", a.body);
    }
    // The pool frees up again once the burst is over.
    let me = server
        .rest
        .login_answer("alice@example.com", PASSWORD)
        .await;
    assert_eq!(me.status, 200, "{}", me.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locked_noisy_address_still_admits_a_correct_password_for_an_unlocked_account() {
    let server = TestServer::start().await;
    // Twenty failures from this address, one per (unknown) account: the old
    // per-address lock refused everyone coming from here after that.
    for i in 0..20 {
        login_with(&server.rest, wrong(&format!("spray{i}@example.com")))
            .await
            .assert_error(401, "unauthorized");
    }
    let ok = server
        .rest
        .login_answer("alice@example.com", PASSWORD)
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    // A locked account stays locked, whatever the address.
    for _ in 0..5 {
        login_with(&server.rest, wrong("bob@example.com"))
            .await
            .assert_error(401, "unauthorized");
    }
    server
        .rest
        .login_answer("bob@example.com", PASSWORD)
        .await
        .assert_error(429, "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_forwarded_for_from_an_untrusted_peer_is_ignored() {
    // Trusting some other proxy does not make this peer one.
    let server = StateServer::start(|c| {
        c.trusted_proxies = vec!["10.0.0.0/8".parse().expect("cidr")];
    })
    .await;
    for i in 0..3 {
        let (email, password, _) = wrong("carol@example.com");
        let spoofed = Some(format!("203.0.113.{i}"));
        login_with(&server.rest, (email, password, spoofed))
            .await
            .assert_error(401, "unauthorized");
    }
    let throttle = &server.state.throttle;
    assert_eq!(throttle.address_failures(ip("127.0.0.1")).await, 3);
    for i in 0..3 {
        assert_eq!(
            throttle
                .address_failures(ip(&format!("203.0.113.{i}")))
                .await,
            0
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_trusted_proxy_one_attacker_does_not_slow_down_the_team() {
    let server = StateServer::start(|c| {
        c.trusted_proxies = vec!["127.0.0.1/32".parse().expect("cidr")];
        // Every guess must be checked, however slow the machine.
        c.password_check_wait = std::time::Duration::from_secs(120);
    })
    .await;
    // The attacker writes its own X-Forwarded-For; the proxy appends the address it
    // saw. Only that one counts.
    let logins = (0..25)
        .map(|i| {
            let (email, password, _) = wrong(&format!("spray{i}@example.com"));
            (
                email,
                password,
                Some("198.51.100.9, 203.0.113.66".to_owned()),
            )
        })
        .collect();
    let answers = all_at_once(&server.rest, logins).await;
    assert_eq!(count(&answers, 401), 25);
    let throttle = &server.state.throttle;
    assert_eq!(throttle.address_failures(ip("203.0.113.66")).await, 25);
    assert!(throttle.is_noisy(Some(ip("203.0.113.66"))).await);
    assert_eq!(throttle.address_failures(ip("198.51.100.9")).await, 0);
    assert_eq!(throttle.address_failures(ip("127.0.0.1")).await, 0);
    // A colleague behind the same proxy is neither refused nor slowed down.
    assert!(!throttle.is_noisy(Some(ip("203.0.113.10"))).await);
    let ok = login_with(
        &server.rest,
        (
            "alice@example.com".into(),
            PASSWORD.into(),
            Some("203.0.113.10".into()),
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

//! Two real `widget-server` processes on one PostgreSQL database and one Redis (its own
//! key prefix per test): a conversation held across the nodes, a sign-out on one that
//! cuts the socket on the other, a lockout and a rate limit that hold on both, and a
//! node killed mid-stream whose clients carry on at the other one.
//!
//! Skipped, with the reason, unless TEST_DATABASE_URL and TEST_REDIS_URL are set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::backends::{TempPgDatabase, host_port, pg_database};
use common::relay::{Mode, Relay};
use common::{
    PASSWORD, ServerProcess, Sock, Team, Visitor, about_chat, agent_say, free_port, has_body,
    new_id,
};
use futures_util::FutureExt;
use serde_json::{Value, json};
use widget_server::Config;

const TEST_REDIS_URL: &str = "TEST_REDIS_URL";

/// One installation: its database, data dir (signing secret) and Redis prefix.
struct Site {
    db_url: String,
    redis_url: String,
    prefix: String,
    data: PathBuf,
    log: PathBuf,
    team: Team,
    _dir: tempfile::TempDir,
}

impl Site {
    /// Starts one node, with `extra` arguments.
    async fn node(&self, extra: &[&str]) -> ServerProcess {
        self.node_on(&self.redis_url, extra).await
    }

    /// Starts one node on the Redis at `redis_url`.
    async fn node_on(&self, redis_url: &str, extra: &[&str]) -> ServerProcess {
        let mut args = vec![
            "--database-url",
            &self.db_url,
            "--redis-url",
            redis_url,
            "--redis-prefix",
            &self.prefix,
        ];
        args.extend_from_slice(extra);
        ServerProcess::spawn_with(&self.data, free_port(), &self.log, &args).await
    }
}

/// Runs `body` on a fresh site; drops the database and the Redis keys afterwards,
/// whether it passed or not.
async fn on_site<F, Fut>(test: &str, body: F)
where
    F: FnOnce(Site) -> Fut,
    Fut: Future<Output = ()>,
{
    let Some(redis_url) = std::env::var(TEST_REDIS_URL)
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!(
            "skipping {test}: {TEST_REDIS_URL} is unset (e.g. {TEST_REDIS_URL}=redis://127.0.0.1:6379/)"
        );
        return;
    };
    let Some(db) = pg_database(test).await else {
        return;
    };
    let prefix = format!("paneltest-{}", uuid::Uuid::new_v4().simple());
    let outcome = AssertUnwindSafe(async {
        let site = site(&db, &redis_url, &prefix).await;
        let log = site.log.clone();
        let r = AssertUnwindSafe(body(site)).catch_unwind().await;
        if r.is_err() {
            eprintln!(
                "--- server log ---\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        }
        r
    })
    .catch_unwind()
    .await;
    db.drop_database().await;
    forget_keys(&redis_url, &prefix).await;
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(panic)) | Err(panic) => std::panic::resume_unwind(panic),
    }
}

async fn site(db: &TempPgDatabase, redis_url: &str, prefix: &str) -> Site {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let mut config = Config::new(&data);
    config.database_url = Some(db.url.clone());
    let team = common::seed(&config).await;
    Site {
        db_url: db.url.clone(),
        redis_url: redis_url.to_owned(),
        prefix: prefix.to_owned(),
        log: dir.path().join("server.log"),
        data,
        team,
        _dir: dir,
    }
}

async fn forget_keys(redis_url: &str, prefix: &str) {
    let Ok(client) = redis::Client::open(redis_url) else {
        return;
    };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else {
        return;
    };
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}:*"))
        .query_async(&mut conn)
        .await
        .unwrap_or_default();
    if !keys.is_empty() {
        let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await;
    }
}

/// No event id arrives twice on one socket (each push is delivered once).
fn assert_each_event_once(who: &str, sock: &Sock) {
    let mut seen = HashSet::new();
    for (name, v) in sock.log() {
        if let Some(id) = v.get("event_id").and_then(Value::as_i64)
            && name != "typing"
        {
            // Queue positions reuse the id of the change that moved the queue.
            if name == "chat:updated" && v["chat"]["status"] == "waiting" {
                continue;
            }
            assert!(
                seen.insert((name.clone(), id)),
                "{who} got {name} #{id} twice: {:?}",
                sock.log_names()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_on_one_node_and_agents_on_the_other_hold_the_whole_conversation() {
    on_site(
        "a_visitor_on_one_node_and_agents_on_the_other_hold_the_whole_conversation",
        |site| async move {
            let a = site.node(&[]).await;
            let b = site.node(&[]).await;
            let alice_token = b.rest.login("alice@example.com").await;
            let alice = Sock::agent(&b.base, &alice_token).await;
            let carol = Sock::agent(&a.base, &a.rest.login("carol@example.com").await).await;

            // The visitor is on A, Alice (Sales) on B.
            let mut vera = Visitor::connect(&a.base, json!({"name": "Vera"})).await;
            vera.start("Hello, my order is late", None).await;
            let chat_id = vera.chat_id().to_owned();
            let created = alice
                .expect_where("chat:created", about_chat(&chat_id))
                .await;
            assert_eq!(created["chat"]["status"], "waiting");
            alice
                .expect_where("message:new", has_body("Hello, my order is late"))
                .await;

            let claimed = alice.ok("chat:claim", json!({"chat_id": chat_id})).await;
            assert_eq!(claimed["status"], "active");
            vera.sock
                .expect_where("chat:updated", |v| v["chat"]["status"] == "active")
                .await;

            // Messages both ways.
            let m1 = vera.say("It was order 1234").await;
            alice
                .expect_where("message:new", has_body("It was order 1234"))
                .await;
            let m2 = agent_say(&alice, &chat_id, "Let me check that", "text").await;
            let got = vera
                .sock
                .expect_where("message:new", has_body("Let me check that"))
                .await;
            assert_eq!(got["message"]["id"], m2["id"]);

            // Typing both ways.
            vera.sock.ok("typing", json!({"typing": true})).await;
            let t = alice.expect_where("typing", about_chat(&chat_id)).await;
            assert_eq!(t["author"]["kind"], "customer");
            alice
                .ok("typing", json!({"chat_id": chat_id, "typing": true}))
                .await;
            let t = vera.sock.expect("typing").await;
            assert_eq!(t["author"]["name"], "Alice Agent");

            // Read receipts both ways.
            vera.sock
                .ok("message:read", json!({"seq": m2["seq"]}))
                .await;
            let r = alice
                .expect_where("message:read", about_chat(&chat_id))
                .await;
            assert_eq!(r["seq"], m2["seq"]);
            alice
                .ok(
                    "message:read",
                    json!({"chat_id": chat_id, "seq": m1["seq"]}),
                )
                .await;
            let r = vera.sock.expect("message:read").await;
            assert_eq!(r["reader"]["kind"], "agent");

            // Transfer to Support: Carol, on A, hears of it and takes it.
            let moved = alice
                .ok(
                    "chat:transfer",
                    json!({"chat_id": chat_id, "to_department_id": site.team.support.id}),
                )
                .await;
            assert_eq!(moved["status"], "waiting");
            carol
                .expect_where("chat:updated", about_chat(&chat_id))
                .await;
            carol.ok("chat:claim", json!({"chat_id": chat_id})).await;
            agent_say(&carol, &chat_id, "Carol here, from billing", "text").await;
            vera.sock
                .expect_where("message:new", has_body("Carol here, from billing"))
                .await;

            // Close: the visitor on A hears it.
            let closed = carol
                .ok(
                    "chat:close",
                    json!({"chat_id": chat_id, "resolution": "refunded"}),
                )
                .await;
            assert_eq!(closed["status"], "closed");
            vera.sock
                .expect_where("chat:updated", |v| v["chat"]["status"] == "closed")
                .await;

            // Each socket got each event once, and the log holds each message once.
            for (who, sock) in [("vera", &vera.sock), ("alice", &alice), ("carol", &carol)] {
                assert_each_event_once(who, sock);
            }
            let msgs = a
                .rest
                .messages(&a.rest.login("ada@example.com").await, &chat_id)
                .await;
            for body in [
                "Hello, my order is late",
                "It was order 1234",
                "Let me check that",
                "Carol here, from billing",
            ] {
                assert_eq!(
                    msgs.iter().filter(|m| m["body"] == body).count(),
                    1,
                    "{body}: {msgs:?}"
                );
            }
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_on_one_node_cuts_the_socket_on_the_other() {
    on_site(
        "signing_out_on_one_node_cuts_the_socket_on_the_other",
        |site| async move {
            // The session watchers look only once a minute: the cut is the nudge's.
            let a = site.node(&["--session-check-secs", "60"]).await;
            let b = site.node(&["--session-check-secs", "60"]).await;
            let token = a.rest.login("alice@example.com").await;
            let on_b = Sock::agent(&b.base, &token).await;
            on_b.ok("ping:rtt", json!({})).await;
            let out = a.rest.post(Some(&token), "/auth/logout", &json!({})).await;
            assert!(out.status < 300, "logout: {} {}", out.status, out.body);
            assert!(
                on_b.wait_closed(Duration::from_secs(5)).await,
                "the socket on the other node is still open after sign-out"
            );
            // And the token is refused everywhere.
            b.rest
                .get(Some(&token), "/chats")
                .await
                .assert_error(401, "unauthorized");
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockout_earned_on_one_node_holds_on_the_other() {
    on_site(
        "a_lockout_earned_on_one_node_holds_on_the_other",
        |site| async move {
            let a = site.node(&[]).await;
            let b = site.node(&[]).await;
            // Five failures lock an account.
            for _ in 0..5 {
                a.rest
                    .login_answer("bob@example.com", "not the password")
                    .await
                    .assert_error(401, "unauthorized");
            }
            // Even the right password, on the other node.
            let locked = b.rest.login_answer("bob@example.com", PASSWORD).await;
            locked.assert_error(429, "rate_limited");
            assert!(
                locked.body.to_string().contains("failed sign-ins"),
                "{}",
                locked.body
            );
            // Other accounts are not locked.
            b.rest.login("alice@example.com").await;
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_agent_draws_from_one_rate_limit_on_both_nodes() {
    on_site(
        "one_agent_draws_from_one_rate_limit_on_both_nodes",
        |site| async move {
            // One event a second, bursts of two, per agent.
            let a = site.node(&["--event-rate-limit", "1"]).await;
            let b = site.node(&["--event-rate-limit", "1"]).await;
            let token = a.rest.login("alice@example.com").await;
            let on_a = Sock::agent(&a.base, &token).await;
            let on_b = Sock::agent(&b.base, &token).await;
            let started = Instant::now();
            let (mut passed, mut refused) = (0u32, HashSet::new());
            for i in 0..8 {
                let (sock, node) = if i % 2 == 0 {
                    (&on_a, "A")
                } else {
                    (&on_b, "B")
                };
                match sock.call("ping:rtt", json!({})).await {
                    Ok(_) => passed += 1,
                    Err(e) => {
                        assert_eq!(e.code, "rate_limited", "{e:?}");
                        refused.insert(node);
                    }
                }
            }
            // Buckets of their own would let each node pass its burst of two; one
            // shared bucket passes two plus what refilled meanwhile.
            let refilled = started.elapsed().as_secs() as u32 + 1;
            assert!(
                passed <= 2 + refilled,
                "{passed} pings passed in {:?}",
                started.elapsed()
            );
            assert_eq!(refused.len(), 2, "both nodes refused: {refused:?}");
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_killed_mid_stream_loses_nothing_its_clients_carry_on_at_the_other() {
    on_site(
        "a_node_killed_mid_stream_loses_nothing_its_clients_carry_on_at_the_other",
        |site| async move {
            let a = site.node(&[]).await;
            let mut b = site.node(&[]).await;
            let alice_token = b.rest.login("alice@example.com").await;
            let alice = Sock::agent(&b.base, &alice_token).await;
            let sam = Sock::agent(&a.base, &a.rest.login("sam@example.com").await).await;

            let mut vera = Visitor::connect(&b.base, json!({"name": "Vera"})).await;
            vera.start("Hello from node B", None).await;
            let chat_id = vera.chat_id().to_owned();
            alice.ok("chat:claim", json!({"chat_id": chat_id})).await;

            // A stream of messages, each with its own client_msg_id.
            let ids: Vec<String> = (0..12).map(|_| new_id()).collect();
            let body = |i: usize| format!("stream message {i}");
            let mut acked = Vec::new();
            for (i, id) in ids.iter().enumerate().take(6) {
                let m = vera
                    .sock
                    .ok(
                        "message:send",
                        json!({"client_msg_id": id, "body": body(i), "chat_id": chat_id}),
                    )
                    .await;
                acked.push(m["id"].clone());
            }
            // The supervisor on A saw them, pushed through Redis.
            sam.expect_where("message:new", has_body(&body(5))).await;
            alice.expect_where("message:new", has_body(&body(5))).await;
            let alice_seen = alice.last_event_id();

            // The seventh is on the wire when B dies.
            vera.sock
                .emit(
                    "message:send",
                    json!({"client_msg_id": ids[6], "body": body(6), "chat_id": chat_id}),
                )
                .await;
            b.kill9();

            // The visitor comes back at A and sends again what was not acked, with
            // the same client_msg_id, then the rest of the stream.
            let back = Visitor::reconnect(&a.base, &vera.token).await;
            assert_eq!(back.chat_id.as_deref(), Some(chat_id.as_str()));
            for (i, id) in ids.iter().enumerate().skip(6) {
                back.sock
                    .ok(
                        "message:send",
                        json!({"client_msg_id": id, "body": body(i), "chat_id": chat_id}),
                    )
                    .await;
            }
            // While Alice is away, the supervisor answers from A.
            agent_say(&sam, &chat_id, "Sam here while Alice reconnects", "note").await;

            // Alice comes back at A: sync returns what she missed, from where she was.
            let alice_again = Sock::agent(&a.base, &alice_token).await;
            let sync = alice_again
                .ok("sync", json!({"since_event_id": alice_seen}))
                .await;
            let events = sync["events"].as_array().expect("events, not resync");
            let missed: Vec<String> = events
                .iter()
                .filter(|e| e["event"] == "message:new" && about_chat(&chat_id)(&e["data"]))
                .map(|e| e["data"]["message"]["body"].as_str().unwrap().to_owned())
                .filter(|b| b.starts_with("stream message") || b.starts_with("Sam here"))
                .collect();
            let mut expected: Vec<String> = (6..12).map(body).collect();
            expected.push("Sam here while Alice reconnects".into());
            assert_eq!(missed, expected, "{sync}");
            let ids_seen: Vec<i64> = events
                .iter()
                .map(|e| e["data"]["event_id"].as_i64().unwrap())
                .collect();
            assert!(ids_seen.iter().all(|&i| i > alice_seen), "{ids_seen:?}");
            assert!(ids_seen.windows(2).all(|w| w[0] < w[1]), "{ids_seen:?}");

            // Alice carries on from A: the visitor hears her.
            agent_say(&alice_again, &chat_id, "Back, and still on it", "text").await;
            back.sock
                .expect_where("message:new", has_body("Back, and still on it"))
                .await;

            // Stored exactly once each, the one in flight at the kill included.
            let msgs = a.rest.messages(&alice_token, &chat_id).await;
            for i in 0..12 {
                assert_eq!(
                    msgs.iter()
                        .filter(|m| m["body"] == body(i).as_str())
                        .count(),
                    1,
                    "{}: {msgs:?}",
                    body(i)
                );
            }
            for id in &acked {
                assert_eq!(msgs.iter().filter(|m| &m["id"] == id).count(), 1);
            }
            let seqs: Vec<i64> = msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
            assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>());
            assert_each_event_once("sam", &sam);
        },
    )
    .await;
}

/// Signs in until it works (at most `within`); the last answer's status if it never does.
async fn sign_in_works(node: &ServerProcess, within: Duration) -> Result<(), u16> {
    let deadline = Instant::now() + within;
    loop {
        let a = node.rest.login_answer("sam@example.com", PASSWORD).await;
        if a.status == 200 {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(a.status);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_that_lose_redis_answer_unavailable_and_recover_by_themselves() {
    on_site(
        "nodes_that_lose_redis_answer_unavailable_and_recover_by_themselves",
        |site| async move {
            let relay = Relay::start(&host_port(&site.redis_url)).await;
            let via = format!("redis://{}/", relay.addr);
            let a = site.node_on(&via, &[]).await;
            let b = site.node_on(&via, &[]).await;
            let alice_token = b.rest.login("alice@example.com").await;
            let alice = Sock::agent(&b.base, &alice_token).await;
            let mut vera = Visitor::connect(&a.base, json!({"name": "Vera"})).await;
            vera.start("Hello before the outage", None).await;
            let chat_id = vera.chat_id().to_owned();
            alice
                .expect_where("message:new", has_body("Hello before the outage"))
                .await;
            let seen = alice.last_event_id();

            for mode in [Mode::Stall, Mode::Cut] {
                relay.set(mode);
                // Sign-ins need the shared throttle: refused, promptly, as unavailable.
                let started = Instant::now();
                let refused = a.rest.login_answer("bob@example.com", PASSWORD).await;
                refused.assert_error(503, "unavailable");
                assert!(
                    started.elapsed() < Duration::from_secs(6),
                    "{mode:?}: answered after {:?}",
                    started.elapsed()
                );
                // What needs only the store goes on: the visitor's message is stored.
                let m = vera.say(&format!("said during {mode:?}")).await;
                assert!(m["seq"].as_i64().unwrap() > 1, "{m}");
            }

            relay.set(Mode::Pass);
            assert_eq!(sign_in_works(&a, Duration::from_secs(20)).await, Ok(()));
            assert_eq!(sign_in_works(&b, Duration::from_secs(20)).await, Ok(()));
            // Pushes cross the nodes again (the subscriptions came back by themselves).
            let deadline = Instant::now() + Duration::from_secs(20);
            let mut n = 0;
            loop {
                n += 1;
                let body = format!("after the outage {n}");
                vera.say(&body).await;
                if alice
                    .next_where("message:new", has_body(&body), Duration::from_secs(1))
                    .await
                    .is_some()
                {
                    break;
                }
                assert!(
                    Instant::now() < deadline,
                    "pushes never crossed the nodes again"
                );
            }
            // What the agent missed meanwhile, sync returns.
            let sync = alice.ok("sync", json!({"since_event_id": seen})).await;
            let bodies: Vec<&str> = sync["events"]
                .as_array()
                .expect("events")
                .iter()
                .filter(|e| e["event"] == "message:new")
                .filter_map(|e| e["data"]["message"]["body"].as_str())
                .collect();
            for body in ["said during Stall", "said during Cut"] {
                assert_eq!(
                    bodies.iter().filter(|b| **b == body).count(),
                    1,
                    "{bodies:?}"
                );
            }
            let _ = chat_id;
        },
    )
    .await;
}

/// Alice's status as the store has it, read through `node`.
async fn status_of_alice(node: &ServerProcess, token: &str) -> String {
    let a = node.rest.get(Some(token), "/agents").await;
    assert_eq!(a.status, 200, "{}", a.body);
    let list = a
        .body
        .as_array()
        .or_else(|| a.body["items"].as_array())
        .cloned();
    let list = list.unwrap_or_else(|| panic!("agents: {}", a.body));
    list.iter()
        .find(|x| x["email"] == "alice@example.com")
        .map(|x| x["status"].as_str().unwrap_or("?").to_owned())
        .unwrap_or_else(|| panic!("no alice in {}", a.body))
}

/// Waits (at most `within`) for Alice's status to become `want`.
async fn alice_becomes(node: &ServerProcess, token: &str, want: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let now = status_of_alice(node, token).await;
        if now == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "alice is {now}, not {want}, after {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_is_online_while_any_node_holds_one_of_their_sockets() {
    on_site(
        "an_agent_is_online_while_any_node_holds_one_of_their_sockets",
        |site| async move {
            let a = site.node(&[]).await;
            let mut b = site.node(&[]).await;
            let sam = a.rest.login("sam@example.com").await;
            let token = a.rest.login("alice@example.com").await;
            assert_eq!(status_of_alice(&a, &sam).await, "offline");
            let on_a = Sock::agent(&a.base, &token).await;
            let on_b = Sock::agent(&b.base, &token).await;
            on_a.ok("ping:rtt", json!({})).await;
            on_b.ok("ping:rtt", json!({})).await;
            alice_becomes(&a, &sam, "online", Duration::from_secs(5)).await;

            // Leaving A: B still holds a socket, so she stays online.
            on_a.disconnect().await;
            drop(on_a);
            tokio::time::sleep(Duration::from_millis(500)).await;
            assert_eq!(status_of_alice(&a, &sam).await, "online");
            // Back on A, then B dies with its socket: when A sweeps the dead node, it
            // still counts her socket on A.
            let again = Sock::agent(&a.base, &token).await;
            again.ok("ping:rtt", json!({})).await;
            b.kill9();
            drop(on_b);
            // Long enough for A to notice B is gone and sweep it.
            tokio::time::sleep(
                widget_server::socket::presence::NODE_TTL
                    + 2 * widget_server::socket::presence::BEAT,
            )
            .await;
            assert_eq!(status_of_alice(&a, &sam).await, "online");

            // Her last socket anywhere leaves: offline.
            again.disconnect().await;
            alice_becomes(&a, &sam, "offline", Duration::from_secs(5)).await;

            // A node killed with her only socket: the survivors mark her offline.
            let c = site.node(&[]).await;
            let on_c = Sock::agent(&c.base, &token).await;
            on_c.ok("ping:rtt", json!({})).await;
            alice_becomes(&a, &sam, "online", Duration::from_secs(5)).await;
            let mut c = c;
            c.kill9();
            alice_becomes(
                &a,
                &sam,
                "offline",
                widget_server::socket::presence::NODE_TTL
                    + 3 * widget_server::socket::presence::BEAT,
            )
            .await;
        },
    )
    .await;
}

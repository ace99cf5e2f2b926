//! Durability with the real binary: acked messages survive `kill -9` and a graceful
//! SIGTERM, exactly once, and a visitor's `sync` returns what it missed meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::{Rest, ServerProcess, Sock, Visitor, agent_say, free_port, new_id, seeded_data_dir};
use rust_socketio::Payload;
use serde_json::{Value, json};
use tokio::time::Instant;

/// A visitor with a claimed chat, and what it got acked.
struct Sender {
    visitor: Visitor,
    chat_id: String,
    /// (client_msg_id, message id, seq) of every acked message.
    acked: Vec<(String, String, i64)>,
}

/// Opens `n` visitors, each with a chat claimed by the supervisor.
async fn senders(base: &str, sam: &Sock, n: usize) -> Vec<Sender> {
    let mut out = Vec::new();
    for i in 0..n {
        let mut visitor = Visitor::connect(base, json!({"name": format!("Sender {i}")})).await;
        visitor.start(&format!("sender {i} starts"), None).await;
        let chat_id = visitor.chat_id().to_owned();
        sam.ok("chat:claim", json!({"chat_id": chat_id})).await;
        out.push(Sender {
            visitor,
            chat_id,
            acked: Vec::new(),
        });
    }
    out
}

/// Each sender sends acked messages in a loop until its connection fails; `interrupt`
/// runs once every sender has had `min_acked` messages acked. Returns the senders.
async fn send_until_interrupted(
    senders: Vec<Sender>,
    min_acked: usize,
    interrupt: impl AsyncFnOnce(),
) -> Vec<Sender> {
    let progress: Arc<Vec<AtomicUsize>> =
        Arc::new((0..senders.len()).map(|_| AtomicUsize::new(0)).collect());
    let mut tasks = Vec::new();
    for (i, mut s) in senders.into_iter().enumerate() {
        let progress = progress.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0.. {
                let cid = new_id();
                let payload = Payload::Text(vec![
                    json!({"client_msg_id": cid, "body": format!("message {n} from sender {i}")}),
                ]);
                match s
                    .visitor
                    .sock
                    .try_ack("message:send", payload, Duration::from_secs(2))
                    .await
                {
                    Some(ack) if ack["ok"] == true => {
                        let m = &ack["data"];
                        assert_eq!(m["client_msg_id"], json!(cid));
                        s.acked.push((
                            cid,
                            m["id"].as_str().unwrap().to_owned(),
                            m["seq"].as_i64().unwrap(),
                        ));
                        progress[i].fetch_add(1, Ordering::SeqCst);
                    }
                    // Refused while shutting down (`unavailable`), or no answer: stop.
                    _ => break,
                }
            }
            s
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while progress
        .iter()
        .any(|p| p.load(Ordering::SeqCst) < min_acked)
    {
        assert!(Instant::now() < deadline, "senders made no progress");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    interrupt().await;
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.expect("sender task"));
    }
    out
}

/// Every acked message is stored exactly once, with its acked id and seq; seqs have
/// no gaps. Returns the stored messages per chat.
async fn assert_all_acked_stored(
    rest: &Rest,
    token: &str,
    senders: &[Sender],
) -> HashMap<String, Vec<Value>> {
    let mut stored = HashMap::new();
    for s in senders {
        assert!(!s.acked.is_empty());
        let msgs = rest.messages(token, &s.chat_id).await;
        let seqs: Vec<i64> = msgs.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        assert_eq!(
            seqs,
            (1..=msgs.len() as i64).collect::<Vec<_>>(),
            "gaps in {}",
            s.chat_id
        );
        for (cid, id, seq) in &s.acked {
            let found: Vec<&Value> = msgs
                .iter()
                .filter(|m| m["client_msg_id"] == json!(cid))
                .collect();
            assert_eq!(
                found.len(),
                1,
                "acked message {cid} stored {} times",
                found.len()
            );
            assert_eq!(found[0]["id"], json!(id));
            assert_eq!(found[0]["seq"], json!(seq));
        }
        let ids: HashSet<&str> = msgs.iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), msgs.len(), "duplicate message ids");
        stored.insert(s.chat_id.clone(), msgs);
    }
    stored
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acked_messages_survive_kill_9_and_sync_returns_what_was_missed() {
    let root = tempfile::tempdir().unwrap();
    let (data, _team) = seeded_data_dir(root.path()).await;
    let log = root.path().join("server.log");
    let port = free_port();
    let mut server = ServerProcess::spawn(&data, port, &log).await;
    let base = server.base.clone();
    let rest = server.rest.clone();
    let sam_token = rest.login("sam@example.com").await;
    let sam = Sock::agent(&base, &sam_token).await;

    let senders = senders(&base, &sam, 4).await;
    let senders = send_until_interrupted(senders, 15, async || server.kill9()).await;
    drop(sam);

    // Restart on the same data dir; the old token is still valid (same secret).
    let server2 = ServerProcess::spawn(&data, port, &log).await;
    let stored = assert_all_acked_stored(&server2.rest, &sam_token, &senders).await;
    let total: usize = senders.iter().map(|s| s.acked.len()).sum();
    assert!(
        total >= 60,
        "only {total} messages were acked before the kill"
    );

    // After the restart the supervisor answers each chat while the visitors are away.
    let sam = Sock::agent(&base, &sam_token).await;
    let mut replies: HashMap<String, Vec<String>> = HashMap::new();
    for s in &senders {
        for body in ["We are back", "Sorry for the wait", "Where were we?"] {
            let m = agent_say(&sam, &s.chat_id, body, "text").await;
            replies
                .entry(s.chat_id.clone())
                .or_default()
                .push(m["id"].as_str().unwrap().to_owned());
        }
    }

    // Each visitor reloads and syncs from the last event it saw: it gets everything it
    // missed (what the kill cut off, and the reply), in order, nothing twice.
    for s in &senders {
        let seen_events = s.visitor.sock.log();
        let last_seen = s.visitor.sock.last_event_id();
        let seen_msgs: HashSet<String> = seen_events
            .iter()
            .filter(|(n, _)| n == "message:new")
            .map(|(_, v)| v["message"]["id"].as_str().unwrap().to_owned())
            .collect();
        let back = Visitor::reconnect(&base, &s.visitor.token).await;
        assert_eq!(back.chat_id.as_deref(), Some(s.chat_id.as_str()));
        let sync = back
            .sock
            .ok("sync", json!({"since_event_id": last_seen}))
            .await;
        let events = sync["events"].as_array().expect("events, not resync");
        let ids: Vec<i64> = events
            .iter()
            .map(|e| e["data"]["event_id"].as_i64().unwrap())
            .collect();
        assert!(ids.iter().all(|&i| i > last_seen), "{ids:?} vs {last_seen}");
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        let synced: Vec<String> = events
            .iter()
            .filter(|e| e["event"] == "message:new")
            .map(|e| e["data"]["message"]["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(synced.len() >= 3, "{sync}");
        assert_eq!(
            synced[synced.len() - 3..],
            replies[&s.chat_id][..],
            "the replies, in order"
        );
        for id in &synced {
            assert!(
                !seen_msgs.contains(id),
                "message {id} was pushed and synced again"
            );
        }
        for m in &stored[&s.chat_id] {
            let id = m["id"].as_str().unwrap();
            assert!(
                seen_msgs.contains(id) || synced.iter().any(|x| x == id),
                "stored message {id} (seq {}) was neither pushed nor synced",
                m["seq"]
            );
        }
    }
    drop(server2);
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_exits_cleanly_and_loses_nothing() {
    let root = tempfile::tempdir().unwrap();
    let (data, _team) = seeded_data_dir(root.path()).await;
    let log = root.path().join("server.log");
    let port = free_port();
    let mut server = ServerProcess::spawn(&data, port, &log).await;
    let base = server.base.clone();
    let sam_token = server.rest.login("sam@example.com").await;
    let sam = Sock::agent(&base, &sam_token).await;

    // A signed-out token must stay revoked across the restart.
    let revoked = server.rest.login("alice@example.com").await;
    let out = server
        .rest
        .post(Some(&revoked), "/auth/logout", &json!({}))
        .await;
    assert_eq!(out.status, 200);

    let senders = senders(&base, &sam, 3).await;
    let mut status = None;
    let senders = send_until_interrupted(senders, 15, async || {
        status = Some(server.terminate().await);
    })
    .await;
    let status = status.unwrap();
    assert!(
        status.success(),
        "exit after SIGTERM: {status:?}; log:\n{}",
        std::fs::read_to_string(&log).unwrap_or_default()
    );

    let server2 = ServerProcess::spawn(&data, port, &log).await;
    assert_all_acked_stored(&server2.rest, &sam_token, &senders).await;
    server2
        .rest
        .get(Some(&revoked), "/auth/me")
        .await
        .assert_error(401, "unauthorized");
    let refused = Sock::connect(&base, "/agent", json!({"token": revoked})).await;
    assert_eq!(refused.err(), Some("unauthorized".to_owned()));
}

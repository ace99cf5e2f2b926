//! The socket wrapper against a real widget server: a refused token is reported as
//! an auth refusal (not as a connection), and many concurrent acked emits each get
//! their own answer (rust_socketio's ack ids would collide without the queue).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use agent_tui::net::socket::{Socket, SocketEvent};
use serde_json::{Value, json};
use shared::events as ev;
use shared::model::Role;
use tokio::sync::mpsc;

async fn server() -> (tempfile::TempDir, String, tokio::sync::oneshot::Sender<()>) {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = widget_server::Config::new(tmp.path().join("data"));
    config.send_rate_limit = 0;
    let admin = widget_server::admin::Admin::open(&config).await.unwrap();
    admin.create_department("Support").await.unwrap();
    admin
        .create_agent(
            "a@sock.test",
            "Ann",
            Role::Agent,
            &["Support".into()],
            "socket-pass-1",
        )
        .await
        .unwrap();
    admin.close().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(widget_server::serve(listener, config, async move {
        let _ = rx.await;
    }));
    for _ in 0..100 {
        if reqwest::get(format!("{url}/api/v1/healthz")).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (tmp, url, tx)
}

async fn until(
    rx: &mut mpsc::UnboundedReceiver<SocketEvent>,
    f: impl Fn(&SocketEvent) -> bool,
) -> SocketEvent {
    tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let e = rx.recv().await.expect("socket events");
            if f(&e) {
                return e;
            }
        }
    })
    .await
    .expect("event in time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_an_auth_failure_not_a_connection() {
    let (_tmp, url, _stop) = server().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sock = Socket::start(
        url,
        ev::AGENT_NS.into(),
        json!({"token": "not-a-token"}),
        tx,
    );
    let e = until(&mut rx, |e| {
        matches!(e, SocketEvent::AuthRefused(_) | SocketEvent::Connected)
    })
    .await;
    assert!(matches!(e, SocketEvent::AuthRefused(_)), "{e:?}");
    // It stopped for good: requests answer at once instead of hanging.
    let r = sock.submit(ev::PING, json!({})).await;
    assert!(r.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_acked_emits_each_get_their_own_answer() {
    let (_tmp, url, _stop) = server().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let sock = Socket::start(url, ev::CUSTOMER_NS.into(), json!({"name": "Conc"}), tx);
    until(&mut rx, |e| matches!(e, SocketEvent::Connected)).await;
    let start = sock
        .submit(ev::CHAT_START, json!({"body": "hello", "name": "Conc"}))
        .await
        .unwrap();
    let chat_id = start["data"]["chat"]["id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for i in 0..60 {
        let body = format!("message number {i}");
        let fut = sock.submit(
            ev::MESSAGE_SEND,
            json!({"chat_id": chat_id, "client_msg_id": format!("conc-{i}"), "body": body}),
        );
        tasks.push(tokio::spawn(async move { (body, fut.await) }));
    }
    let mut seqs = Vec::new();
    for t in tasks {
        let (body, ack) = t.await.unwrap();
        let ack = ack.expect("answered");
        assert_eq!(ack["ok"], Value::Bool(true), "{ack}");
        assert_eq!(
            ack["data"]["body"].as_str(),
            Some(body.as_str()),
            "answer of another emit"
        );
        seqs.push(ack["data"]["seq"].as_i64().unwrap());
    }
    // Sent in order, stored in order.
    let sorted = {
        let mut s = seqs.clone();
        s.sort_unstable();
        s
    };
    assert_eq!(seqs, sorted);
    // The latency probe reports a round trip.
    until(&mut rx, |e| matches!(e, SocketEvent::Rtt(_))).await;
    sock.stop();
}

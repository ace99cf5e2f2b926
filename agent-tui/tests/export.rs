//! `:export` through the console's network worker against a real widget server: the
//! transcript is fetched, written as text to a new file, and a second export to the
//! same path is refused without touching the first file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/worker.rs"]
mod worker;

use std::time::Duration;

use agent_tui::effect::{ChatCmd, NetCmd, SessionCmd};
use agent_tui::msg::{ChatReply, ConnEvent, NetEvent, SessionReply};
use agent_tui::net::Net;
use agent_tui::net::socket::{Socket, SocketEvent};
use serde_json::json;
use shared::events as ev;
use tokio::sync::mpsc;
use worker::{next, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcript_is_exported_once_and_never_overwritten() {
    let (tmp, url, _stop) =
        server("a@export.test", "export-pass-1", |c| c.send_rate_limit = 0).await;
    let (vtx, mut vrx) = mpsc::unbounded_channel();
    let visitor = Socket::start(
        url.clone(),
        ev::CUSTOMER_NS.into(),
        json!({"name": "Vi"}),
        vtx,
    );
    tokio::time::timeout(Duration::from_secs(20), async {
        while !matches!(vrx.recv().await, Some(SocketEvent::Connected)) {}
    })
    .await
    .unwrap();
    let start = visitor
        .submit(
            ev::CHAT_START,
            json!({"body": "where is my order?\nit was due monday", "name": "Vi"}),
        )
        .await
        .unwrap();
    let chat_id = start["data"]["chat"]["id"].as_str().unwrap().to_owned();

    let (out, mut rx) = mpsc::unbounded_channel();
    let net = Net::spawn(out);
    net.send(NetCmd::Session(SessionCmd::Login {
        server: url.clone(),
        email: "a@export.test".into(),
        password: "export-pass-1".into(),
        remember: false,
    }));
    let NetEvent::Session(SessionReply::LoggedIn(session)) = next(&mut rx, |e| {
        matches!(
            e,
            NetEvent::Session(SessionReply::LoggedIn(_))
                | NetEvent::Session(SessionReply::LoginFailed(_))
        )
    })
    .await
    else {
        panic!("login failed");
    };
    net.send(NetCmd::Session(SessionCmd::Connect {
        server: url.clone(),
        token: session.token,
    }));
    next(&mut rx, |e| {
        matches!(e, NetEvent::Conn(ConnEvent::Connected))
    })
    .await;
    net.send(NetCmd::Chats(ChatCmd::Claim(chat_id.clone())));
    next(&mut rx, |e| {
        matches!(e, NetEvent::Chats(ChatReply::ActionDone { .. }))
    })
    .await;

    let path = tmp.path().join("transcript.txt");
    let export = || {
        NetCmd::Chats(ChatCmd::Export {
            chat_id: chat_id.clone(),
            path: path.display().to_string(),
        })
    };
    let done = |e: &NetEvent| {
        matches!(
            e,
            NetEvent::Chats(ChatReply::Exported { .. }) | NetEvent::Failed { .. }
        )
    };
    net.send(export());
    match next(&mut rx, done).await {
        NetEvent::Chats(ChatReply::Exported { path: p }) => {
            assert_eq!(p, path.display().to_string())
        }
        other => panic!("{other:?}"),
    }
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with(&format!("Chat {chat_id} with Vi\n")),
        "{text}"
    );
    assert!(
        text.contains(" Vi (customer): where is my order?\n    it was due monday\n"),
        "{text}"
    );

    net.send(export());
    match next(&mut rx, done).await {
        NetEvent::Failed { what, error } => {
            assert_eq!(what, "export");
            assert_eq!(
                error,
                format!("{} already exists; choose another name", path.display())
            );
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    visitor.stop();
}

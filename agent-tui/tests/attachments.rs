//! Files through the console's network worker against a real widget server: a local
//! file is checked and uploaded, sent with a message by id, and saved twice into a
//! directory without overwriting the first copy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/worker.rs"]
mod worker;

use std::time::Duration;

use agent_tui::effect::{AttachmentCmd, ChatCmd, NetCmd, SessionCmd};
use agent_tui::msg::{AttachmentReply, ChatReply, ConnEvent, NetEvent, SessionReply};
use agent_tui::net::Net;
use agent_tui::net::socket::{Socket, SocketEvent};
use agent_tui::state::{OutboxItem, OutboxStatus};
use serde_json::json;
use shared::events as ev;
use shared::model::MessageKind;
use tokio::sync::mpsc;
use worker::{next, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_is_uploaded_sent_by_id_and_saved_without_overwriting() {
    let (tmp, url, _stop) = server("a@files.test", "files-pass-1", |c| {
        c.send_rate_limit = 0;
    })
    .await;
    // A visitor starts a chat.
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
        .submit(ev::CHAT_START, json!({"body": "my invoice?", "name": "Vi"}))
        .await
        .unwrap();
    let chat_id = start["data"]["chat"]["id"].as_str().unwrap().to_owned();

    // The console's worker signs in, connects and claims it.
    let (out, mut rx) = mpsc::unbounded_channel();
    let net = Net::spawn(out);
    net.send(NetCmd::Session(SessionCmd::Login {
        server: url.clone(),
        email: "a@files.test".into(),
        password: "files-pass-1".into(),
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

    // Checked before upload: a missing file never reaches the server.
    net.send(NetCmd::Attachments(AttachmentCmd::Upload {
        chat_id: chat_id.clone(),
        path: tmp.path().join("nope.pdf").display().to_string(),
    }));
    let e = next(&mut rx, |e| {
        matches!(
            e,
            NetEvent::Attachments(AttachmentReply::UploadFailed { .. })
        )
    })
    .await;
    assert!(format!("{e:?}").contains("no such file"), "{e:?}");

    let local = tmp.path().join("invoice.pdf");
    std::fs::write(&local, b"%PDF-1.4 invoice").unwrap();
    net.send(NetCmd::Attachments(AttachmentCmd::Upload {
        chat_id: chat_id.clone(),
        path: local.display().to_string(),
    }));
    let NetEvent::Attachments(AttachmentReply::Uploaded { attachment, .. }) = next(&mut rx, |e| {
        matches!(
            e,
            NetEvent::Attachments(AttachmentReply::Uploaded { .. })
                | NetEvent::Attachments(AttachmentReply::UploadFailed { .. })
        )
    })
    .await
    else {
        panic!("upload failed");
    };
    assert_eq!(attachment.name, "invoice.pdf");
    assert_eq!(attachment.size, 16);
    assert_eq!(attachment.content_type, "application/pdf");

    // Sent with an empty body, by id.
    net.send(NetCmd::Chats(ChatCmd::Send(OutboxItem {
        client_msg_id: "files-1".into(),
        chat_id: chat_id.clone(),
        body: String::new(),
        kind: MessageKind::Text,
        attachments: vec![attachment.clone()],
        created_at: time::OffsetDateTime::now_utc(),
        status: OutboxStatus::Sending,
    })));
    let e = next(&mut rx, |e| {
        matches!(
            e,
            NetEvent::Chats(ChatReply::SendAcked { .. })
                | NetEvent::Chats(ChatReply::SendFailed { .. })
        )
    })
    .await;
    let NetEvent::Chats(ChatReply::SendAcked { message, .. }) = e else {
        panic!("{e:?}");
    };
    assert_eq!(message.attachments, vec![attachment.clone()]);

    // Saved twice into one directory: the second copy gets " (1)".
    let dir = tmp.path().join("down");
    std::fs::create_dir(&dir).unwrap();
    let mut paths = Vec::new();
    for _ in 0..2 {
        net.send(NetCmd::Attachments(AttachmentCmd::Save {
            attachment: attachment.clone(),
            dir: Some(dir.display().to_string()),
        }));
        match next(&mut rx, |e| {
            matches!(
                e,
                NetEvent::Attachments(AttachmentReply::Saved { .. }) | NetEvent::Failed { .. }
            )
        })
        .await
        {
            NetEvent::Attachments(AttachmentReply::Saved { path, .. }) => paths.push(path),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(paths[0], dir.join("invoice.pdf").display().to_string());
    assert_eq!(paths[1], dir.join("invoice (1).pdf").display().to_string());
    for p in &paths {
        assert_eq!(std::fs::read(p).unwrap(), b"%PDF-1.4 invoice");
    }
    visitor.stop();
}

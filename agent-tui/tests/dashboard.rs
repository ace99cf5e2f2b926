//! The Dashboard's load through the console's network worker against a real widget
//! server: every route it calls accepts its query and the answer has today's (one chat closed) and
//! the week's summaries, 14 daily points ending today and the agent's tickets.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/worker.rs"]
mod worker;

use std::time::Duration;

use agent_tui::effect::{ChatCmd, DashboardCmd, NetCmd, SessionCmd};
use agent_tui::msg::{ChatReply, ConnEvent, DashboardReply, NetEvent, SessionReply};
use agent_tui::net::Net;
use agent_tui::net::socket::{Socket, SocketEvent};
use serde_json::json;
use shared::events as ev;
use tokio::sync::mpsc;
use worker::{next, server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_loads_every_figure_from_a_real_server() {
    let (_tmp, url, _stop) = server("a@dash.test", "dash-pass-1", |_| {}).await;
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
        .submit(ev::CHAT_START, json!({"body": "hello", "name": "Vi"}))
        .await
        .unwrap();
    let chat_id = start["data"]["chat"]["id"].as_str().unwrap().to_owned();
    let (out, mut rx) = mpsc::unbounded_channel();
    let net = Net::spawn(out);
    net.send(NetCmd::Session(SessionCmd::Login {
        server: url.clone(),
        email: "a@dash.test".into(),
        password: "dash-pass-1".into(),
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

    // One chat claimed and closed today.
    net.send(NetCmd::Chats(ChatCmd::Claim(chat_id.clone())));
    next(&mut rx, |e| {
        matches!(e, NetEvent::Chats(ChatReply::ActionDone { .. }))
    })
    .await;
    net.send(NetCmd::Chats(ChatCmd::Close {
        chat_id: chat_id.clone(),
        resolution: None,
    }));
    next(&mut rx, |e| {
        matches!(e, NetEvent::Chats(ChatReply::ActionDone { .. }))
    })
    .await;

    let today = time::OffsetDateTime::now_utc().date();
    net.send(NetCmd::Dashboard(DashboardCmd::Load { seq: 7, today }));
    let reply = next(&mut rx, |e| {
        matches!(e, NetEvent::Dashboard(_) | NetEvent::Failed { .. })
    })
    .await;
    let NetEvent::Dashboard(DashboardReply::Loaded { seq, figures }) = reply else {
        panic!("the dashboard did not load: {reply:?}");
    };
    assert_eq!(seq, 7);
    assert_eq!(figures.today.chats_handled, 1, "{:?}", figures.today);
    assert_eq!(figures.week.chats_handled, 0);
    assert_eq!(figures.week.csat.score_pct, None);
    assert_eq!(figures.series.len(), 14, "{:?}", figures.series);
    assert_eq!(
        figures.series.last().unwrap().bucket,
        today.to_string(),
        "the chart ends today"
    );
    assert_eq!(figures.series.last().unwrap().count, 1);
    assert_eq!(
        figures.series[0].bucket,
        (today - time::Duration::days(13)).to_string()
    );
    assert_eq!(figures.open_tickets, 0);
    assert_eq!(figures.pending_total, 0);
    assert!(figures.pending.is_empty());
}

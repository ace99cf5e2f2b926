//! The outbox: offline sends, acks and pushes of the same message, refusals, who owns it.

use super::*;

#[test]
fn offline_sends_wait_in_the_outbox_and_flush_in_order_after_sync() {
    let mut s = three_chats();
    open_mine(&mut s);
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "connection lost".into(),
            retry_in_ms: Some(2000),
        }),
    );
    assert_eq!(
        s.conn.state,
        ConnState::Offline {
            reason: "connection lost".into(),
            retry_at: Some(T0 + Duration::seconds(2))
        }
    );
    press(&mut s, "i");
    type_text(&mut s, "first");
    let fx = press(&mut s, "ctrl-s");
    assert!(sends(&fx).is_empty(), "nothing is emitted while offline");
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveOutbox(v) if v.len() == 1))
    );
    type_text(&mut s, "second");
    press(&mut s, "ctrl-s");
    assert_eq!(s.chats.outbox.len(), 2);
    assert!(
        s.chats
            .outbox
            .iter()
            .all(|o| o.status == OutboxStatus::Pending)
    );
    let ids: Vec<String> = s
        .chats
        .outbox
        .iter()
        .map(|o| o.client_msg_id.clone())
        .collect();

    net(&mut s, NetEvent::Conn(ConnEvent::Connecting { attempt: 2 }));
    assert_eq!(s.conn.state, ConnState::Connecting { attempt: 2 });
    let fx = net(&mut s, NetEvent::Conn(ConnEvent::Connected));
    // Sync comes first, then the outbox in typing order with the original ids.
    assert_eq!(
        fx[0],
        Effect::Net(NetCmd::Session(SessionCmd::Sync {
            since_event_id: 100
        }))
    );
    let sent = sends(&fx);
    assert_eq!(
        sent,
        vec![
            (ids[0].clone(), "first".to_owned()),
            (ids[1].clone(), "second".to_owned())
        ]
    );
    assert!(
        s.chats
            .outbox
            .iter()
            .all(|o| o.status == OutboxStatus::Sending)
    );
    // Nothing is sent twice while the acks are on their way.
    let fx = update(&mut s, Msg::Tick(T0 + Duration::seconds(1)));
    assert!(sends(&fx).is_empty());
}

#[test]
fn acks_and_pushes_of_the_same_message_store_it_once() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    type_text(&mut s, "refund issued");
    press(&mut s, "ctrl-s");
    let id = s.chats.outbox[0].client_msg_id.clone();
    let mut m = message("c3", 4, AuthorKind::Agent, "refund issued");
    m.client_msg_id = id.clone();
    net(
        &mut s,
        NetEvent::Push(ServerEvent::MessageNew(MessageEvent {
            event_id: 101,
            message: m.clone(),
        })),
    );
    assert!(s.chats.outbox.is_empty(), "the push acknowledges the send");
    let fx = net(
        &mut s,
        NetEvent::Chats(ChatReply::SendAcked {
            client_msg_id: id,
            message: m,
        }),
    );
    assert_eq!(s.chats.entries["c3"].messages.len(), 4);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveOutbox(v) if v.is_empty()))
    );
    assert_eq!(s.conn.last_event_id, 101);
}

#[test]
fn refused_sends_fail_with_the_reason_and_transient_ones_retry() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "i");
    type_text(&mut s, "one");
    press(&mut s, "ctrl-s");
    type_text(&mut s, "two");
    press(&mut s, "ctrl-s");
    let (a, b) = (
        s.chats.outbox[0].client_msg_id.clone(),
        s.chats.outbox[1].client_msg_id.clone(),
    );
    let fx = net(
        &mut s,
        NetEvent::Chats(ChatReply::SendFailed {
            client_msg_id: a,
            error: SendError::Refused(ApiError::forbidden("the chat is closed")),
        }),
    );
    assert_eq!(
        s.chats.outbox[0].status,
        OutboxStatus::Failed {
            reason: "the chat is closed".into()
        }
    );
    assert!(fx.iter().any(|e| matches!(e, Effect::SaveOutbox(_))));
    net(
        &mut s,
        NetEvent::Chats(ChatReply::SendFailed {
            client_msg_id: b.clone(),
            error: SendError::Transient("no answer from the server".into()),
        }),
    );
    assert_eq!(s.chats.outbox[1].status, OutboxStatus::Pending);
    // The next tick while online sends it again — never the failed one.
    let fx = update(&mut s, Msg::Tick(T0 + Duration::seconds(1)));
    let sent = sends(&fx);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, b);
}

#[test]
fn another_agent_signing_in_does_not_inherit_the_outbox() {
    let mut s = three_chats();
    open_mine(&mut s);
    net(
        &mut s,
        NetEvent::Conn(ConnEvent::Disconnected {
            reason: "x".into(),
            retry_in_ms: None,
        }),
    );
    press(&mut s, "i");
    type_text(&mut s, "unsent");
    press(&mut s, "ctrl-s esc");
    net(&mut s, NetEvent::Session(SessionReply::Expired));
    assert_eq!(s.chats.outbox.len(), 1);
    // The same agent again: the outbox stays and goes out on connect.
    let again = Session {
        server: "http://panel.test".into(),
        token: "t3".into(),
        agent: agent("me", "Maya Chen", AgentStatus::Online, 1),
        expires_at: None,
    };
    net(&mut s, NetEvent::Session(SessionReply::LoggedIn(again)));
    assert_eq!(s.chats.outbox.len(), 1);
    net(&mut s, NetEvent::Session(SessionReply::Expired));
    let other = Session {
        server: "http://panel.test".into(),
        token: "t4".into(),
        agent: agent("a2", "Sam Rivera", AgentStatus::Online, 1),
        expires_at: None,
    };
    let fx = net(&mut s, NetEvent::Session(SessionReply::LoggedIn(other)));
    assert!(s.chats.outbox.is_empty());
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::SaveOutbox(v) if v.is_empty()))
    );
}

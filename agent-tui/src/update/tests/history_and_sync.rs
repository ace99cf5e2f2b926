//! History and events: gaps, sync and resync, read marks, scrolling, the other pushes.

use super::*;

#[test]
fn a_gap_in_seq_refetches_the_chat_and_a_contiguous_one_does_not() {
    let mut s = three_chats();
    open_mine(&mut s);
    let fx = net(
        &mut s,
        NetEvent::Push(ServerEvent::MessageNew(MessageEvent {
            event_id: 101,
            message: message("c3", 4, AuthorKind::Customer, "still there?"),
        })),
    );
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::Chats(ChatCmd::LoadMessages { .. }))))
    );
    let fx = net(
        &mut s,
        NetEvent::Push(ServerEvent::MessageNew(MessageEvent {
            event_id: 103,
            message: message("c3", 6, AuthorKind::Customer, "hello?"),
        })),
    );
    assert!(
        fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::LoadMessages {
            chat_id: "c3".into(),
            before_seq: None
        })))
    );
    assert_eq!(s.chats.entries["c3"].history, History::Loading);
    // The refetch fills the hole.
    net(
        &mut s,
        NetEvent::Chats(ChatReply::MessagesLoaded {
            chat_id: "c3".into(),
            messages: (1..=6)
                .map(|q| message("c3", q, AuthorKind::Customer, "x"))
                .collect(),
            older: false,
        }),
    );
    let seqs: Vec<i64> = s.chats.entries["c3"].messages.keys().copied().collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
}

#[test]
fn sync_applies_missed_events_in_order() {
    let mut s = three_chats();
    let mut updated = chat("c2", "Kenji Watanabe", ChatStatus::Active, Some("a2"));
    updated.created_at = T0 - Duration::minutes(3);
    let created = chat("c9", "Noah Wilson", ChatStatus::Waiting, None);
    let fx = net(
        &mut s,
        NetEvent::Session(SessionReply::Synced(SyncAck::Events {
            events: vec![
                ServerEvent::ChatUpdated(ChatEvent {
                    event_id: 101,
                    chat: updated,
                }),
                ServerEvent::ChatCreated(ChatEvent {
                    event_id: 102,
                    chat: created,
                }),
            ],
            latest_event_id: 105,
        })),
    );
    assert_eq!(s.conn.last_event_id, 105);
    assert_eq!(s.chats.queue.waiting, vec!["c1", "c9"]);
    assert!(fx.contains(&Effect::Bell), "a new waiting chat rings");
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Net(NetCmd::Chats(ChatCmd::LoadList { .. }))))
    );
}

#[test]
fn resync_reloads_lists_and_the_open_chat() {
    let mut s = three_chats();
    open_mine(&mut s);
    let fx = net(
        &mut s,
        NetEvent::Session(SessionReply::Synced(SyncAck::Resync {
            resync: true,
            latest_event_id: 5000,
        })),
    );
    assert_eq!(s.conn.last_event_id, 5000);
    for st in [ChatStatus::Waiting, ChatStatus::Active, ChatStatus::Closed] {
        assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::LoadList {
            status: st
        }))));
    }
    assert!(
        fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::LoadMessages {
            chat_id: "c3".into(),
            before_seq: None
        })))
    );
    assert!(s.flash.unwrap().text.contains("Reloaded"));
}

#[test]
fn first_sync_only_sets_the_baseline_and_loads_lists() {
    let mut s = three_chats();
    s.conn.has_baseline = false;
    s.conn.last_event_id = 0;
    let fx = net(
        &mut s,
        NetEvent::Session(SessionReply::Synced(SyncAck::Events {
            events: vec![ServerEvent::ChatUpdated(ChatEvent {
                event_id: 3,
                // Stale: applying it would reopen a chat the lists say is waiting.
                chat: chat("c1", "Ada Lovelace", ChatStatus::Closed, None),
            })],
            latest_event_id: 42,
        })),
    );
    assert!(s.conn.has_baseline);
    assert_eq!(s.conn.last_event_id, 42);
    assert_eq!(s.chats.entries["c1"].chat.status, ChatStatus::Waiting);
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::LoadList {
        status: ChatStatus::Waiting
    }))));
}

#[test]
fn visitor_typing_shows_and_expires() {
    let mut s = three_chats();
    net(
        &mut s,
        NetEvent::Typing(TypingEvent {
            chat_id: "c3".into(),
            author: Author {
                kind: AuthorKind::Customer,
                id: "cu-c3".into(),
                name: "Fatima".into(),
            },
            typing: true,
        }),
    );
    assert!(s.chats.entries["c3"].customer_typing_until.is_some());
    update(&mut s, Msg::Tick(T0 + Duration::seconds(7)));
    assert!(s.chats.entries["c3"].customer_typing_until.is_none());
}

#[test]
fn opening_a_chat_marks_it_read_and_unread_counts_update_live() {
    let mut s = three_chats();
    // A customer message in a chat that is not open counts as unread.
    let fx = net(
        &mut s,
        NetEvent::Push(ServerEvent::MessageNew(MessageEvent {
            event_id: 101,
            message: message("c3", 1, AuthorKind::Customer, "hello"),
        })),
    );
    assert_eq!(s.chats.entries["c3"].chat.unread_count, 1);
    assert!(fx.contains(&Effect::Bell), "my chat's visitor wrote");
    // The same event again (e.g. replayed) does not count twice.
    net(
        &mut s,
        NetEvent::Push(ServerEvent::MessageNew(MessageEvent {
            event_id: 101,
            message: message("c3", 1, AuthorKind::Customer, "hello"),
        })),
    );
    assert_eq!(s.chats.entries["c3"].chat.unread_count, 1);
    s.chats.queue.selected = Some("c3".into());
    let fx = press(&mut s, "enter");
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Read {
        chat_id: "c3".into(),
        seq: 1
    }))));
    assert_eq!(s.chats.entries["c3"].chat.unread_count, 0);
    // New messages in the open chat are read at once.
    net(
        &mut s,
        NetEvent::Chats(ChatReply::MessagesLoaded {
            chat_id: "c3".into(),
            messages: vec![message("c3", 1, AuthorKind::Customer, "hello")],
            older: false,
        }),
    );
    let fx = net(
        &mut s,
        NetEvent::Push(ServerEvent::MessageNew(MessageEvent {
            event_id: 102,
            message: message("c3", 2, AuthorKind::Customer, "anyone?"),
        })),
    );
    assert!(fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::Read {
        chat_id: "c3".into(),
        seq: 2
    }))));
    assert_eq!(s.chats.entries["c3"].chat.unread_count, 0);
    // The visitor's read receipt.
    net(
        &mut s,
        NetEvent::Push(ServerEvent::MessageRead(ReadEvent {
            event_id: 103,
            chat_id: "c3".into(),
            reader: Author {
                kind: AuthorKind::Customer,
                id: "cu-c3".into(),
                name: "F".into(),
            },
            seq: 2,
        })),
    );
    assert_eq!(s.chats.entries["c3"].chat.customer_read_seq, 2);
}

#[test]
fn scrolling_up_counts_new_messages_below_and_g_returns() {
    let mut s = three_chats();
    open_mine(&mut s);
    press(&mut s, "k k k");
    assert_eq!(s.chats.chat_scroll.from_bottom, 3);
    net(
        &mut s,
        NetEvent::Push(ServerEvent::MessageNew(MessageEvent {
            event_id: 101,
            message: message("c3", 4, AuthorKind::Customer, "news"),
        })),
    );
    assert_eq!(s.chats.chat_scroll.unseen, 1);
    press(&mut s, "G");
    assert_eq!(s.chats.chat_scroll.from_bottom, 0);
    assert_eq!(s.chats.chat_scroll.unseen, 0);
}

#[test]
fn older_history_loads_on_g_g_and_joins_below() {
    let mut s = three_chats();
    let mut c = chat("c3", "Fatima Zahra", ChatStatus::Active, Some("me"));
    c.last_seq = 400;
    net(&mut s, NetEvent::Chats(ChatReply::Loaded(c)));
    s.chats.queue.selected = Some("c3".into());
    press(&mut s, "enter");
    net(
        &mut s,
        NetEvent::Chats(ChatReply::MessagesLoaded {
            chat_id: "c3".into(),
            messages: (201..=400)
                .map(|q| message("c3", q, AuthorKind::Customer, "x"))
                .collect(),
            older: false,
        }),
    );
    assert_eq!(
        s.chats.entries["c3"].history,
        History::Loaded { complete: false }
    );
    let fx = press(&mut s, "g g");
    assert!(
        fx.contains(&Effect::Net(NetCmd::Chats(ChatCmd::LoadMessages {
            chat_id: "c3".into(),
            before_seq: Some(201)
        })))
    );
    net(
        &mut s,
        NetEvent::Chats(ChatReply::MessagesLoaded {
            chat_id: "c3".into(),
            messages: (1..=200)
                .map(|q| message("c3", q, AuthorKind::Customer, "x"))
                .collect(),
            older: true,
        }),
    );
    assert_eq!(s.chats.entries["c3"].messages.len(), 400);
    assert_eq!(
        s.chats.entries["c3"].history,
        History::Loaded { complete: true }
    );
}

#[test]
fn remaining_network_events_update_state() {
    let mut s = three_chats();
    net(&mut s, NetEvent::Conn(ConnEvent::Rtt(17)));
    assert_eq!(s.conn.rtt_ms, Some(17));
    net(
        &mut s,
        NetEvent::Directory(DirectoryReply::AgentsLoaded(vec![agent(
            "a9",
            "New Person",
            AgentStatus::Busy,
            4,
        )])),
    );
    assert_eq!(s.directory.agents.len(), 1);
    net(
        &mut s,
        NetEvent::Directory(DirectoryReply::DepartmentsLoaded(vec![])),
    );
    assert!(s.directory.departments.is_empty());
    // Presence push for a teammate.
    net(
        &mut s,
        NetEvent::Push(ServerEvent::Presence(shared::events::PresenceEvent {
            event_id: 120,
            agent: agent("a9", "New Person", AgentStatus::Away, 4),
        })),
    );
    assert_eq!(s.directory.agents[0].status, AgentStatus::Away);
    assert_eq!(s.conn.last_event_id, 120);
    // A customer blocked (ack) and updated (push) everywhere it shows.
    let mut cu = customer("cu-c1", "Ada Lovelace");
    cu.blocked = true;
    net(
        &mut s,
        NetEvent::Directory(DirectoryReply::CustomerBlocked(cu.clone())),
    );
    assert!(s.chats.entries["c1"].chat.customer.blocked);
    cu.name = "Ada King".into();
    net(
        &mut s,
        NetEvent::Push(ServerEvent::CustomerUpdated(
            shared::events::CustomerEvent {
                event_id: 121,
                customer: cu,
            },
        )),
    );
    assert_eq!(s.chats.entries["c1"].chat.customer.name, "Ada King");
    net(
        &mut s,
        NetEvent::Chats(ChatReply::Exported {
            path: "/tmp/t.txt".into(),
        }),
    );
    assert!(s.flash.as_ref().unwrap().text.contains("/tmp/t.txt"));
    net(
        &mut s,
        NetEvent::Failed {
            what: "loading chats".into(),
            error: "cannot reach the server".into(),
        },
    );
    assert_eq!(s.flash.as_ref().unwrap().level, FlashLevel::Error);
    let fx = net(&mut s, NetEvent::Session(SessionReply::Expired));
    assert!(fx.contains(&Effect::ClearSession));
    assert_eq!(s.mode, Mode::Login);
}
